package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// maxPolicySize bounds the input Parse accepts; policy files are a few KiB.
const maxPolicySize = 1 << 20

// Subject groups a residency rule may name besides country codes.
const (
	GroupEEA = "EEA"
	GroupEU  = "EU"
	GroupANY = "ANY"
)

// Parse parses and validates a policy. file names the source in errors and in
// Policy.File; Policy.SHA256 is the hash of data. On any problem it returns a [*ValidationError] listing all of
// them, sorted by line; errors.Is(err, ErrInvalid) is then true.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	p := ps.parse(data)
	if len(ps.errs) > 0 {
		sort.SliceStable(ps.errs, func(i, j int) bool { return ps.errs[i].Line < ps.errs[j].Line })
		return nil, &ValidationError{Errors: ps.errs}
	}
	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	p.c = compile(p)
	return p, nil
}

func (ps *parser) parse(data []byte) *Policy {
	p := &Policy{File: ps.file, UnknownSubject: UnknownStrictest, Categories: map[string]Category{}}
	ps.p = p
	if len(data) > maxPolicySize {
		ps.errorf(0, "", "file too large: %d bytes (at most %d)", len(data), maxPolicySize)
		return p
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	var root *yaml.Node
	switch {
	case errors.Is(err, io.EOF):
		root = &yaml.Node{Kind: yaml.MappingNode, Line: 1}
	case err != nil:
		ps.syntaxError(err)
		return p
	default:
		root = &yaml.Node{Kind: yaml.MappingNode, Line: 1}
		if len(doc.Content) > 0 && !isNull(doc.Content[0]) {
			root = deref(doc.Content[0])
		}
		var extra yaml.Node
		if err := dec.Decode(&extra); err == nil {
			ps.errorf(extra.Line, "", "a policy file holds one YAML document; found another")
		} else if !errors.Is(err, io.EOF) {
			ps.syntaxError(err)
		}
	}
	if root.Kind != yaml.MappingNode {
		ps.errorf(root.Line, "", "the policy must be a mapping of fields (version, regions, residency, ...), not %s", kindName(root))
		return p
	}
	// Top-level fields that are missing are reported at line 1, not at the
	// first key after the file's leading comments.
	top := ps.mapping(&yaml.Node{Kind: root.Kind, Tag: root.Tag, Content: root.Content, Line: 1}, "", "version", "organization", "regions", "residency",
		"unknown_subject", "categories", "sources", "entities", "importers", "mechanisms", "hosting")

	// Fields are checked in dependency order, whatever their order in the
	// file: rules need regions, sources and mechanisms need categories,
	// mechanisms need the exporters, hosting needs the mechanisms.
	if v, n := ps.str(top, "version", true); n != nil {
		p.Version = v
	}
	if n := top.get("organization"); n != nil {
		ps.hasOrg = true
		p.Organization, _ = ps.party(n, "organization", true)
	}
	ps.entities(top)
	ps.regions(top)
	ps.residency(top)
	if v, n := ps.str(top, "unknown_subject", false); n != nil {
		switch v {
		case UnknownStrictest, UnknownReject:
			p.UnknownSubject = v
		default:
			ps.errorf(n.Line, "unknown_subject", "unknown value %q: %suse strictest (treat as EEA) or reject", v, guess(v, UnknownStrictest, UnknownReject))
		}
	}
	ps.categories(top)
	ps.sources(top)
	ps.importers(top)
	ps.mechanisms(top)
	ps.hosting(top)
	return p
}

// country checks an ISO 3166-1 alpha-2 code.
func (ps *parser) country(v string, line int, field string) bool {
	if jurisdiction.ValidCountry(v) {
		return true
	}
	ps.errorf(line, field, "unknown country code %q%s", v, hint(jurisdiction.CountryHint(v)))
	return false
}

func hint(h string) string {
	if h == "" {
		return ""
	}
	return " (" + h + ")"
}

// party parses {name, country, role}; role is required when needRole. It
// returns the line of the country (of the party when it has none).
func (ps *parser) party(n *yaml.Node, path string, needRole bool) (Party, int) {
	m := ps.mapping(n, path, "name", "country", "role")
	var pt Party
	if !m.ok {
		return pt, n.Line
	}
	line := n.Line
	pt.Name, _ = ps.str(m, "name", true)
	if v, vn := ps.str(m, "country", true); vn != nil {
		line = vn.Line
		if ps.country(v, vn.Line, m.field("country")) {
			pt.Country = v
		}
	}
	if v, vn := ps.str(m, "role", needRole); vn != nil {
		switch Role(v) {
		case Controller, Processor:
			pt.Role = Role(v)
		default:
			ps.errorf(vn.Line, m.field("role"), "unknown role %q: %suse controller or processor", v, guess(v, string(Controller), string(Processor)))
		}
	}
	return pt, line
}

func (ps *parser) regions(top mapping) {
	items, _, _ := ps.list(top, "regions", true, true)
	for _, it := range items {
		if _, ok := jurisdiction.RegionCountry(it.val); !ok {
			ps.errorf(it.line, "regions", "unknown region %q%s", it.val, hint(jurisdiction.RegionHint(it.val)))
			continue
		}
		ps.p.Regions = append(ps.p.Regions, it.val)
		// One deployment, one partition: credentials, ARNs and endpoints
		// do not cross partitions, so a router could not relocate across.
		first, _ := jurisdiction.RegionPartition(ps.p.Regions[0])
		if part, _ := jurisdiction.RegionPartition(it.val); part != first {
			ps.errorf(it.line, "regions", "region %s is in partition %s, %s in %s: a deployment spans one partition (deploy each with a policy of its own)",
				it.val, part, ps.p.Regions[0], first)
		}
	}
}

// deploymentRegion checks that r is one of the policy's regions.
func (ps *parser) deploymentRegion(r string, line int, field string) bool {
	if ps.p.HasRegion(r) {
		return true
	}
	if len(ps.p.Regions) == 0 {
		return false // regions itself is wrong, and reported
	}
	if _, ok := jurisdiction.RegionCountry(r); ok {
		if n := nearest(r, ps.p.Regions); n != "" {
			ps.errorf(line, field, "region %q is not one of regions: add it there, or did you mean %s?", r, n)
		} else {
			ps.errorf(line, field, "region %q is not one of regions (known: %s): add it there", r, strings.Join(ps.p.Regions, ", "))
		}
	} else {
		ps.errorf(line, field, "unknown region %q%s", r, suggest(r, ps.p.Regions))
	}
	return false
}

func (ps *parser) categories(top mapping) {
	n := ps.section(top, "categories", yaml.MappingNode, "at least one data category", "a non-empty mapping of category names to {personal, retention, from}")
	if n == nil {
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Value == "" || isNull(k) {
			ps.errorf(k.Line, "categories", "category names must be non-empty plain strings")
			continue
		}
		name := k.Value
		path := "categories." + name
		if first, dup := seen[name]; dup {
			ps.errorf(k.Line, path, "duplicate category (first at line %d)", first)
			continue
		}
		seen[name] = k.Line
		m := ps.mapping(v, path, "personal", "retention", "from")
		c := Category{Name: name, Line: k.Line}
		if !m.ok {
			ps.p.Categories[name] = c
			continue
		}
		personalOK := false
		switch pn := m.get("personal"); {
		case pn == nil:
			ps.errorf(m.node.Line, m.field("personal"), "missing: true or false")
		case pn.Kind != yaml.ScalarNode || pn.ShortTag() != "!!bool" || pn.Decode(&c.Personal) != nil:
			ps.errorf(pn.Line, m.field("personal"), "must be true or false, not %s", kindName(pn))
		default:
			personalOK = true
		}
		rv, rn := ps.str(m, "retention", false)
		fv, fn := ps.str(m, "from", false)
		if personalOK && !c.Personal {
			if rn != nil {
				ps.errorf(rn.Line, m.field("retention"), "a non-personal category has no retention period: remove it or set personal: true")
			}
			if fn != nil {
				ps.errorf(fn.Line, m.field("from"), "a non-personal category has no retention trigger: remove it or set personal: true")
			}
			ps.p.Categories[name] = c
			continue
		}
		if rn != nil {
			d, err := ParseDuration(rv)
			if err != nil {
				ps.errorf(rn.Line, m.field("retention"), "%v", err)
			}
			c.Retention = d
		} else if personalOK {
			switch n := m.get("retention"); {
			case n == nil:
				ps.errorf(m.node.Line, m.field("retention"), "missing: personal data needs a retention period, e.g. 13mo")
			case isNull(n) || n.Kind == yaml.ScalarNode && n.Value == "":
				ps.errorf(n.Line, m.field("retention"), "must not be empty: personal data needs a retention period, e.g. 13mo")
			}
		}
		c.From = FromCreated
		if fn != nil {
			switch t := Trigger(fv); t {
			case FromCreated, FromLastActivity, FromContractEnd:
				c.From = t
			default:
				ps.errorf(fn.Line, m.field("from"), "unknown trigger %q: %suse created, last_activity or contract_end", fv,
					guess(fv, string(FromCreated), string(FromLastActivity), string(FromContractEnd)))
			}
		}
		ps.p.Categories[name] = c
	}
}

// knownCategory checks a category name against the policy's categories.
func (ps *parser) knownCategory(v string, line int, field string) bool {
	if _, ok := ps.p.Categories[v]; ok {
		return true
	}
	names := make([]string, 0, len(ps.p.Categories))
	for k := range ps.p.Categories {
		names = append(names, k)
	}
	sort.Strings(names)
	ps.errorf(line, field, "unknown category %q%s", v, suggest(v, names))
	return false
}

// section is top's required field name, a non-empty node of kind; nil,
// with an error ("missing: " and need, or "must be " and want), when it is
// absent or not such a node.
func (ps *parser) section(top mapping, name string, kind yaml.Kind, need, want string) *yaml.Node {
	n := top.get(name)
	if n == nil {
		ps.errorf(top.node.Line, name, "missing: %s", need)
		return nil
	}
	if n.Kind != kind || len(n.Content) == 0 {
		ps.errorf(n.Line, name, "must be %s", want)
		return nil
	}
	return n
}

// sequence is the items of top's optional list field name: nil when it is
// absent or null, and an error when it is not a list (what says what it
// lists).
func (ps *parser) sequence(top mapping, name, what string) []*yaml.Node {
	n := top.get(name)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, name, "must be a list of %s, not %s", what, kindName(n))
		return nil
	}
	return n.Content
}

// itemPath is the path of the i-th item of the list name: name[i].
func itemPath(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
