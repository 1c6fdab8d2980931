package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/record"
	"go.yaml.in/yaml/v3"
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
// Policy.File. On any problem it returns a [*ValidationError] listing all of
// them, sorted by line; errors.Is(err, ErrInvalid) is then true.
func Parse(file string, data []byte) (*Policy, error) {
	ps := &parser{file: file}
	p := ps.parse(data)
	if len(ps.errs) > 0 {
		sort.SliceStable(ps.errs, func(i, j int) bool { return ps.errs[i].Line < ps.errs[j].Line })
		return nil, &ValidationError{Errors: ps.errs}
	}
	p.c = compile(p)
	return p, nil
}

type parser struct {
	file string
	errs []FieldError
	p    *Policy
	// hasOrg is true when the policy names an organization, valid or not.
	hasOrg bool
}

func (ps *parser) errorf(line int, field, format string, args ...any) {
	ps.errs = append(ps.errs, FieldError{File: ps.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the problems yaml's parser (not its scanner) reports.
// For them yaml gives the 0-based line of the construct it was parsing
// (go.yaml.in/yaml/v3 decode.go, parser.fail), so the line is one more.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxError records a YAML syntax error, with its line when yaml says it.
func (ps *parser) syntaxError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if parserProblems[m[2]] {
			line++
		}
		ps.errorf(line, "", "invalid YAML: %s", m[2])
		return
	}
	ps.errorf(0, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
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
		"unknown_subject", "categories", "sources", "mechanisms")

	// Fields are checked in dependency order, whatever their order in the
	// file: rules need regions, sources and mechanisms need categories.
	if v, n := ps.str(top, "version", true); n != nil {
		p.Version = v
	}
	if n := top.get("organization"); n != nil {
		ps.hasOrg = true
		p.Organization, _ = ps.party(n, "organization", true)
	}
	ps.regions(top)
	ps.residency(top)
	if v, n := ps.str(top, "unknown_subject", false); n != nil {
		switch v {
		case UnknownStrictest, UnknownReject:
			p.UnknownSubject = v
		default:
			ps.errorf(n.Line, "unknown_subject", "unknown value %q: use strictest (treat as EEA) or reject", v)
		}
	}
	ps.categories(top)
	ps.sources(top)
	ps.mechanisms(top)
	return p
}

// mapping is a validated YAML mapping: its values and key nodes by key.
type mapping struct {
	node *yaml.Node
	path string
	ok   bool // false when the node is not a mapping
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

func (m mapping) get(key string) *yaml.Node { return m.vals[key] }

func (m mapping) field(key string) string { return join(m.path, key) }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping checks that n is a mapping with scalar, unique, known keys and
// returns its values. Unknown keys are reported (with the nearest known key)
// and left out. A non-mapping n is reported and yields an empty mapping.
func (ps *parser) mapping(n *yaml.Node, path string, known ...string) mapping {
	m := mapping{node: n, path: path, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	if n.Kind != yaml.MappingNode {
		ps.errorf(n.Line, path, "must be a mapping of fields, not %s", kindName(n))
		return m
	}
	m.ok = true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			ps.errorf(k.Line, path, "field names must be plain strings, not %s", kindName(k))
			continue
		}
		key := k.Value
		if key == "<<" && k.Tag == "!!merge" {
			ps.errorf(k.Line, path, "merge keys (<<) are not supported: write the fields out")
			continue
		}
		if first, dup := m.keys[key]; dup {
			ps.errorf(k.Line, join(path, key), "duplicate field (first at line %d)", first.Line)
			continue
		}
		if !slices.Contains(known, key) {
			ps.errorf(k.Line, join(path, key), "unknown field%s", suggest(key, known))
			continue
		}
		m.keys[key] = k
		m.vals[key] = v
	}
	return m
}

// suggest returns " (did you mean X?)" for a near miss, else the known names.
func suggest(got string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := levenshtein.ComputeDistance(strings.ToLower(got), k); d < bestD && d <= len(k)/2 {
			best, bestD = k, d
		}
	}
	if best != "" {
		return " (did you mean " + best + "?)"
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// str returns a scalar field's value. A missing or null field is reported
// when required; the node is nil when the field is absent or not a string.
func (ps *parser) str(m mapping, key string, required bool) (string, *yaml.Node) {
	n := m.get(key)
	if n == nil {
		if required {
			ps.errorf(m.node.Line, m.field(key), "missing")
		}
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		ps.errorf(n.Line, m.field(key), "must be a single value, not %s", kindName(n))
		return "", nil
	}
	if isNull(n) || n.Value == "" {
		if required {
			ps.errorf(n.Line, m.field(key), "must not be empty")
		}
		return "", nil
	}
	return n.Value, n
}

// item is a scalar in a list, with its line.
type item struct {
	val  string
	line int
}

// list returns a list field's scalar items. A missing field is reported when
// required; an empty list when nonEmpty. ok is false when the field is
// absent or malformed.
func (ps *parser) list(m mapping, key string, required, nonEmpty bool) (items []item, line int, ok bool) {
	n := m.get(key)
	if n == nil {
		if required {
			ps.errorf(m.node.Line, m.field(key), "missing")
		}
		return nil, m.node.Line, false
	}
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line}
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, m.field(key), "must be a list, e.g. [a, b], not %s", kindName(n))
		return nil, n.Line, false
	}
	if nonEmpty && len(n.Content) == 0 {
		ps.errorf(n.Line, m.field(key), "must not be empty")
		return nil, n.Line, false
	}
	seen := map[string]int{}
	ok = true
	for i, c := range n.Content {
		c = deref(c)
		f := m.field(key) + "[" + strconv.Itoa(i) + "]"
		if c.Kind != yaml.ScalarNode || isNull(c) || c.Value == "" {
			ps.errorf(c.Line, f, "must be a non-empty single value, not %s", kindName(c))
			ok = false
			continue
		}
		if first, dup := seen[c.Value]; dup {
			ps.errorf(c.Line, m.field(key), "%s is listed twice (first at line %d)", c.Value, first)
			continue
		}
		seen[c.Value] = c.Line
		items = append(items, item{c.Value, c.Line})
	}
	return items, n.Line, ok
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// date returns a YYYY-MM-DD field as UTC midnight.
func (ps *parser) date(m mapping, key string, required bool) (time.Time, *yaml.Node) {
	v, n := ps.str(m, key, required)
	if n == nil {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if !dateRE.MatchString(v) || err != nil {
		ps.errorf(n.Line, m.field(key), "invalid date %q: want YYYY-MM-DD, e.g. 2027-03-26", v)
		return time.Time{}, nil
	}
	return t, n
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
			ps.errorf(vn.Line, m.field("role"), "unknown role %q: use controller or processor", v)
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
	known := strings.Join(ps.p.Regions, ", ")
	if _, ok := jurisdiction.RegionCountry(r); ok {
		ps.errorf(line, field, "region %q is not one of regions (known: %s): add it there", r, known)
	} else {
		ps.errorf(line, field, "unknown region %q (known: %s)", r, known)
	}
	return false
}

func (ps *parser) residency(top mapping) {
	n := top.get("residency")
	if n == nil {
		ps.errorf(top.node.Line, "residency", "missing: at least one rule")
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		ps.errorf(n.Line, "residency", "must be a non-empty list of rules")
		return
	}
	type subject struct {
		item
		set []int // country indexes the subject stands for
	}
	var rules [][]subject
	for i, rn := range n.Content {
		path := "residency[" + strconv.Itoa(i) + "]"
		m := ps.mapping(deref(rn), path, "subjects", "home", "allowed", "on_violation")
		r := Rule{Line: m.node.Line, OnViolation: ActionRelocate}
		if !m.ok {
			rules = append(rules, nil)
			ps.p.Rules = append(ps.p.Rules, r)
			continue
		}

		var subjects []subject
		items, _, _ := ps.list(m, "subjects", true, true)
		for _, it := range items {
			set, ok := expand(it.val)
			if !ok {
				h := jurisdiction.CountryHint(it.val)
				if up := strings.ToUpper(it.val); up != it.val && (up == GroupEEA || up == GroupEU || up == GroupANY) {
					h = "use upper case " + up
				}
				if h == "" {
					h = "use ISO 3166-1 alpha-2 codes, or the groups EEA, EU, ANY"
				}
				ps.errorf(it.line, m.field("subjects"), "unknown country code or group %q (%s)", it.val, h)
				continue
			}
			if it.val == GroupANY && len(items) > 1 {
				ps.errorf(it.line, m.field("subjects"), "ANY covers every country: list it alone")
			}
			r.Subjects = append(r.Subjects, it.val)
			subjects = append(subjects, subject{it, set})
		}
		rules = append(rules, subjects)

		homeOK := false
		if v, vn := ps.str(m, "home", true); vn != nil {
			r.Home = v
			homeOK = ps.deploymentRegion(v, vn.Line, m.field("home"))
		}
		allowed, aline, allowedOK := ps.list(m, "allowed", true, true)
		for _, it := range allowed {
			if it.val == GroupANY {
				r.AnyAllowed = true
				if len(allowed) > 1 {
					ps.errorf(it.line, m.field("allowed"), "ANY allows every region: list it alone")
				}
				continue
			}
			if !ps.deploymentRegion(it.val, it.line, m.field("allowed")) {
				allowedOK = false
			}
			r.Allowed = append(r.Allowed, it.val)
		}
		if homeOK && allowedOK && len(allowed) > 0 && !r.AnyAllowed && !slices.Contains(r.Allowed, r.Home) {
			ps.errorf(aline, m.field("allowed"), "does not include the rule's home region %s", r.Home)
		}
		if v, vn := ps.str(m, "on_violation", false); vn != nil {
			switch a := Action(v); a {
			case ActionRelocate, ActionQuarantine, ActionAlert:
				r.OnViolation = a
			default:
				ps.errorf(vn.Line, m.field("on_violation"), "unknown action %q: use relocate, quarantine or alert", v)
			}
		}
		ps.p.Rules = append(ps.p.Rules, r)
	}

	// First matching rule wins: report rules and subjects that never match.
	first := make([]int, letters*letters)
	for i := range first {
		first[i] = -1
	}
	for i, subjects := range rules {
		path := "residency[" + strconv.Itoa(i) + "].subjects"
		type dead struct {
			item
			by []int
		}
		var deads []dead
		for _, s := range subjects {
			by, fresh := map[int]bool{}, false
			for _, cc := range s.set {
				if first[cc] < 0 {
					fresh = true
					break
				}
				by[first[cc]] = true
			}
			if !fresh {
				deads = append(deads, dead{s.item, sortedKeys(by)})
			}
		}
		switch {
		case len(subjects) > 0 && len(deads) == len(subjects):
			var by []int
			for _, d := range deads {
				by = append(by, d.by...)
			}
			by = uniqueInts(by)
			msg := "rule never matches: " + ruleNames(by) + " match all its subjects first"
			if len(by) == 1 {
				msg = "rule never matches: " + ruleNames(by) + " matches all its subjects first"
			}
			for _, j := range by {
				if slices.Contains(ps.p.Rules[j].Subjects, GroupANY) {
					msg = "rule never matches: residency[" + strconv.Itoa(j) + "] matches ANY subject first"
					break
				}
			}
			ps.errorf(subjects[0].line, path, "%s", msg)
		default:
			for _, d := range deads {
				verb := "matches"
				if len(d.by) > 1 {
					verb = "match"
				}
				ps.errorf(d.line, path, "%s never matches: %s %s it first", d.val, ruleNames(d.by), verb)
			}
		}
		for _, s := range subjects {
			for _, cc := range s.set {
				if first[cc] < 0 {
					first[cc] = i
				}
			}
		}
	}
}

func ruleNames(idx []int) string {
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = "residency[" + strconv.Itoa(j) + "]"
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func uniqueInts(s []int) []int {
	sort.Ints(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func (ps *parser) categories(top mapping) {
	n := top.get("categories")
	if n == nil {
		ps.errorf(top.node.Line, "categories", "missing: at least one data category")
		return
	}
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		ps.errorf(n.Line, "categories", "must be a non-empty mapping of category names to {personal, retention, from}")
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
				ps.errorf(fn.Line, m.field("from"), "unknown trigger %q: use created, last_activity or contract_end", fv)
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
	ps.errorf(line, field, "unknown category %q (known: %s)", v, strings.Join(names, ", "))
	return false
}

func (ps *parser) sources(top mapping) {
	n := top.get("sources")
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, "sources", "must be a list of sources, not %s", kindName(n))
		return
	}
	seen := map[string]int{}
	for i, sn := range n.Content {
		path := "sources[" + strconv.Itoa(i) + "]"
		m := ps.mapping(deref(sn), path, "table", "bucket", "prefix", "key", "subject_id", "subject_country",
			"category", "category_attr", "created_at", "last_activity", "contract", "ttl_attribute")
		s := Source{Line: m.node.Line}
		if !m.ok {
			continue
		}
		table, tn := ps.str(m, "table", false)
		bucket, bn := ps.str(m, "bucket", false)
		prefix, pn := ps.str(m, "prefix", false)
		switch {
		case tn != nil && bn != nil:
			ps.errorf(bn.Line, m.field("bucket"), "a source is a table or a bucket, not both")
		case tn == nil && bn == nil:
			for _, k := range []string{"table", "bucket"} {
				if n := m.get(k); n != nil && n.Kind == yaml.ScalarNode {
					ps.errorf(n.Line, m.field(k), "must not be empty")
				}
			}
			if m.get("table") == nil && m.get("bucket") == nil {
				ps.errorf(m.node.Line, path, "missing table or bucket")
			}
		case tn != nil:
			s.Table = table
			if !validTableName(table) {
				ps.errorf(tn.Line, m.field("table"), "invalid DynamoDB table name %q: 3-255 characters a-z, A-Z, 0-9, _ - .", table)
			}
			if pn != nil {
				ps.errorf(pn.Line, m.field("prefix"), "prefix applies to buckets only")
			}
			if m.get("key") == nil {
				ps.errorf(m.node.Line, m.field("key"), "missing: the table's key attributes, e.g. [pk, sk]")
			}
			items, _, _ := ps.list(m, "key", false, true)
			for _, it := range items {
				s.Key = append(s.Key, it.val)
			}
		case bn != nil:
			s.Bucket, s.Prefix = bucket, prefix
			if len(bucket) < 3 || len(bucket) > 255 || strings.ContainsAny(bucket, "/ \t") {
				ps.errorf(bn.Line, m.field("bucket"), "invalid S3 bucket name %q", bucket)
			}
			if kn := m.get("key"); kn != nil {
				ps.errorf(kn.Line, m.field("key"), "key applies to tables only (an S3 object is found by bucket and prefix)")
			}
		}
		if name := s.Table + "\x00" + s.Bucket + "\x00" + s.Prefix; s.Name() != "" {
			if first, dup := seen[name]; dup {
				what := "table " + s.Table
				if s.Bucket != "" {
					what = "bucket " + s.Bucket + " with prefix " + strconv.Quote(s.Prefix)
				}
				ps.errorf(m.node.Line, path, "%s is watched twice (first at line %d)", what, first)
			} else {
				seen[name] = m.node.Line
			}
		}
		s.SubjectID, _ = ps.str(m, "subject_id", true)
		s.SubjectCountry, _ = ps.str(m, "subject_country", true)
		cat, cn := ps.str(m, "category", false)
		attr, an := ps.str(m, "category_attr", false)
		s.CategoryAttr = attr
		s.CreatedAt, _ = ps.str(m, "created_at", false)
		s.LastActivity, _ = ps.str(m, "last_activity", false)
		s.Contract, _ = ps.str(m, "contract", false)
		if ttl, tn := ps.str(m, "ttl_attribute", false); tn != nil {
			switch {
			case s.Bucket != "":
				ps.errorf(tn.Line, m.field("ttl_attribute"), "ttl_attribute applies to tables only (S3 has lifecycle rules)")
			case slices.Contains(s.Key, ttl) || ttl == record.TagAttribute:
				ps.errorf(tn.Line, m.field("ttl_attribute"), "%q is a key attribute or the residency tag, not a TTL attribute", ttl)
			default:
				s.TTLAttribute = ttl
			}
		}
		switch {
		case cn != nil && an != nil:
			ps.errorf(an.Line, m.field("category_attr"), "a source has a fixed category or a category_attr, not both")
		case cn == nil && an == nil:
			for _, k := range []string{"category", "category_attr"} {
				if n := m.get(k); n != nil && n.Kind == yaml.ScalarNode {
					ps.errorf(n.Line, m.field(k), "must not be empty")
				}
			}
			if m.get("category") == nil && m.get("category_attr") == nil {
				ps.errorf(m.node.Line, m.field("category"), "missing: a fixed category, or category_attr naming the attribute that holds it")
			}
		case cn != nil && ps.knownCategory(cat, cn.Line, m.field("category")):
			s.Category = cat
			c := ps.p.Categories[cat]
			switch {
			case c.Personal && c.From == FromLastActivity && s.LastActivity == "":
				ps.errorf(cn.Line, m.field("category"), "category %s retains from last_activity, but the source names no last_activity attribute", cat)
			case c.Personal && c.From == FromContractEnd && s.Contract == "":
				ps.errorf(cn.Line, m.field("category"), "category %s retains from contract_end, but the source names no contract attribute", cat)
			}
		}
		ps.p.Sources = append(ps.p.Sources, s)
	}
}

// validTableName reports whether s is a valid DynamoDB table name.
func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// mechanismFields are the fields each mechanism type takes.
var mechanismFields = map[MechanismType][]string{
	TypeSCC: {"id", "type", "module", "exporter", "importer", "signed", "expires", "tia", "categories"},
	TypeDPF: {"id", "type", "importer", "certified_until", "categories"},
	TypeBCR: {"id", "type", "group", "importer", "countries", "approved", "reference", "expires", "categories"},
}

var allMechanismFields = []string{"id", "type", "module", "exporter", "importer", "signed", "expires",
	"tia", "certified_until", "group", "countries", "approved", "reference", "categories"}

func (ps *parser) mechanisms(top mapping) {
	n := top.get("mechanisms")
	if n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		ps.errorf(n.Line, "mechanisms", "must be a list of mechanisms, not %s", kindName(n))
		return
	}
	ids := map[string]int{}
	for i, mn := range n.Content {
		path := "mechanisms[" + strconv.Itoa(i) + "]"
		m := ps.mapping(deref(mn), path, allMechanismFields...)
		mc := Mechanism{Line: m.node.Line}
		if !m.ok {
			continue
		}
		if id, idn := ps.str(m, "id", true); idn != nil {
			if first, dup := ids[id]; dup {
				ps.errorf(idn.Line, m.field("id"), "duplicate id %q (first at line %d)", id, first)
			} else {
				ids[id] = idn.Line
			}
			mc.ID = id
		}
		typ, tn := ps.str(m, "type", true)
		fields, ok := mechanismFields[MechanismType(typ)]
		if tn != nil && !ok {
			ps.errorf(tn.Line, m.field("type"), "unknown type %q: use scc, dpf or bcr", typ)
		}
		if !ok {
			continue
		}
		mc.Type = MechanismType(typ)
		for _, f := range allMechanismFields {
			if k := m.keys[f]; k != nil && !slices.Contains(fields, f) {
				ps.errorf(k.Line, m.field(f), "does not apply to type %s (fields: %s)", typ, strings.Join(fields, ", "))
				delete(m.vals, f)
			}
		}
		if items, _, _ := ps.list(m, "categories", false, false); len(items) > 0 {
			for _, it := range items {
				if ps.knownCategory(it.val, it.line, m.field("categories")) {
					mc.Categories = append(mc.Categories, it.val)
				}
			}
		}
		switch mc.Type {
		case TypeSCC:
			ps.scc(m, &mc)
		case TypeDPF:
			ps.dpf(m, &mc)
		case TypeBCR:
			ps.bcr(m, &mc)
		}
		ps.p.Mechanisms = append(ps.p.Mechanisms, mc)
	}
}

func (ps *parser) scc(m mapping, mc *Mechanism) {
	var moduleNode *yaml.Node
	if n := m.get("module"); n == nil {
		ps.errorf(m.node.Line, m.field("module"), "missing: SCC module 1, 2, 3 or 4")
	} else if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&mc.Module) != nil || mc.Module < 1 || mc.Module > 4 {
		ps.errorf(n.Line, m.field("module"), "SCC module must be 1, 2, 3 or 4 (Decision (EU) 2021/914), not %q", n.Value)
		mc.Module = 0
	} else {
		moduleNode = n
	}
	if n := m.get("exporter"); n != nil {
		mc.Exporter, _ = ps.party(n, m.field("exporter"), true)
	} else if ps.hasOrg {
		mc.Exporter = ps.p.Organization
	} else {
		ps.errorf(m.node.Line, m.field("exporter"), "missing, and the policy has no organization to default to")
	}
	if n := m.get("importer"); n != nil {
		var line int
		mc.Importer, line = ps.party(n, m.field("importer"), true)
		if cc := mc.Importer.Country; jurisdiction.IsEEA(cc) {
			ps.errorf(line, m.field("importer.country"), "importer country %s is in the EEA: a transfer there is not restricted and needs no SCC", cc)
		}
	} else {
		ps.errorf(m.node.Line, m.field("importer"), "missing: {name, role, country}")
	}
	if moduleNode != nil && mc.Exporter.Role != "" && mc.Importer.Role != "" {
		if want := jurisdiction.SCCModule(string(mc.Exporter.Role), string(mc.Importer.Role)); want != mc.Module {
			ps.errorf(moduleNode.Line, m.field("module"), "SCC module %d (%s) does not fit exporter role %s and importer role %s: use module %d",
				mc.Module, jurisdiction.SCCModuleName(mc.Module), mc.Exporter.Role, mc.Importer.Role, want)
		}
	}
	mc.Signed, _ = ps.date(m, "signed", true)
	var en *yaml.Node
	mc.Expires, en = ps.date(m, "expires", true)
	if en != nil && !mc.Signed.IsZero() && !mc.Expires.After(mc.Signed) {
		ps.errorf(en.Line, m.field("expires"), "expires %s is not after signed %s", mc.Expires.Format(time.DateOnly), mc.Signed.Format(time.DateOnly))
	}
	mc.TIA, _ = ps.str(m, "tia", false)
}

func (ps *parser) dpf(m mapping, mc *Mechanism) {
	if n := m.get("importer"); n != nil {
		var line int
		mc.Importer, line = ps.party(n, m.field("importer"), false)
		if cc := mc.Importer.Country; cc != "" && cc != "US" {
			ps.errorf(line, m.field("importer.country"), "the EU-US Data Privacy Framework covers importers in the US only, not %s", cc)
		}
	} else {
		ps.errorf(m.node.Line, m.field("importer"), "missing: {name, country: US}")
	}
	mc.CertifiedUntil, _ = ps.date(m, "certified_until", true)
}

func (ps *parser) bcr(m mapping, mc *Mechanism) {
	mc.Group, _ = ps.str(m, "group", true)
	if n := m.get("importer"); n != nil {
		mc.Importer, _ = ps.party(n, m.field("importer"), false)
	}
	items, _, _ := ps.list(m, "countries", false, false)
	for _, it := range items {
		if ps.country(it.val, it.line, m.field("countries")) {
			mc.Countries = append(mc.Countries, it.val)
		}
	}
	if m.get("importer") == nil && m.get("countries") == nil {
		ps.errorf(m.node.Line, m.path, "missing importer or countries: where may data go under these BCRs?")
	}
	var an *yaml.Node
	mc.Approved, an = ps.date(m, "approved", true)
	mc.Reference, _ = ps.str(m, "reference", true)
	var en *yaml.Node
	mc.Expires, en = ps.date(m, "expires", false)
	if en != nil && an != nil && !mc.Expires.After(mc.Approved) {
		ps.errorf(en.Line, m.field("expires"), "expires %s is not after approved %s", mc.Expires.Format(time.DateOnly), mc.Approved.Format(time.DateOnly))
	}
}

// expand returns the country indexes a subject (country code or group)
// stands for; false if it is neither.
func expand(s string) ([]int, bool) {
	var out []int
	switch s {
	case GroupANY, GroupEEA, GroupEU:
		for _, cc := range jurisdiction.Countries() {
			if s == GroupANY || s == GroupEEA && jurisdiction.IsEEA(cc) || s == GroupEU && jurisdiction.IsEU(cc) {
				out = append(out, countryIndex(cc))
			}
		}
		return out, true
	}
	if !jurisdiction.ValidCountry(s) {
		return nil, false
	}
	return []int{countryIndex(s)}, true
}

const letters = 26

// countryIndex maps a canonical two-letter code to 0..675.
func countryIndex(cc string) int {
	return int(cc[0]-'A')*letters + int(cc[1]-'A')
}

// deref follows alias nodes to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "empty"
		}
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}
