package policy

import (
	"sort"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// The parties of transfers: the group's exporters (organization and
// entities), facts about importers, and the hosting provider.

// regimeHelp says which exporters Residency decides for.
const regimeHelp = "Residency decides transfers under the EU GDPR (exporters in the EEA), the UK GDPR (GB) and the Swiss FADP (CH)"

// entities parses the group's other exporters. Each needs a supported regime:
// an entity exists to be named as the exporter of a transfer.
func (ps *parser) entities(top mapping) {
	items := ps.sequence(top, "entities", "{name, country, role}")
	seen := map[string]int{}
	if org := ps.p.Organization.Name; org != "" {
		seen[strings.ToLower(strings.TrimSpace(org))] = 0
	}
	for i, en := range items {
		path := itemPath("entities", i)
		en = deref(en)
		pt, line := ps.party(en, path, true)
		if pt.Name != "" {
			key := strings.ToLower(strings.TrimSpace(pt.Name))
			switch first, dup := seen[key]; {
			case dup && first == 0:
				ps.errorf(en.Line, path+".name", "%q is the organization: list only the group's other exporters", pt.Name)
				continue
			case dup:
				ps.errorf(en.Line, path+".name", "%q is listed twice (first at line %d)", pt.Name, first)
				continue
			}
			seen[key] = en.Line
		}
		if pt.Country != "" {
			if _, ok := jurisdiction.RegimeOf(pt.Country); !ok {
				ps.errorf(line, path+".country", "an exporter in %s is subject to no supported regime: %s", pt.Country, regimeHelp)
			}
		}
		ps.p.Entities = append(ps.p.Entities, pt)
	}
}

// exporterNamed returns the organization or entity of that name (case and
// surrounding space ignored).
func (p *Policy) exporterNamed(name string) (Party, bool) {
	if sameName(p.Organization.Name, name) {
		return p.Organization, true
	}
	for _, e := range p.Entities {
		if sameName(e.Name, name) {
			return e, true
		}
	}
	return Party{}, false
}

// exporterNames lists the names a request may give as its exporter.
func (p *Policy) exporterNames() string {
	var names []string
	if p.Organization.Name != "" {
		names = append(names, strconv.Quote(p.Organization.Name))
	}
	for _, e := range p.Entities {
		names = append(names, strconv.Quote(e.Name))
	}
	if len(names) == 0 {
		return "the policy names no organization or entities"
	}
	return "known: " + strings.Join(names, ", ")
}

func (ps *parser) importers(top mapping) {
	items := ps.sequence(top, "importers", "{name, country, adequacy_scope, gdpr_art3_2}")
	seen := map[string]int{}
	for i, in := range items {
		path := itemPath("importers", i)
		m := ps.mapping(deref(in), path, "name", "country", "adequacy_scope", "gdpr_art3_2")
		if !m.ok {
			continue
		}
		imp := Importer{Line: m.node.Line}
		imp.Name, _ = ps.str(m, "name", true)
		if v, vn := ps.str(m, "country", true); vn != nil && ps.country(v, vn.Line, m.field("country")) {
			imp.Country = v
		}
		if imp.Name != "" && imp.Country != "" {
			key := strings.ToLower(strings.TrimSpace(imp.Name)) + "\x00" + imp.Country
			if first, dup := seen[key]; dup {
				ps.errorf(m.node.Line, path, "importer %q in %s is listed twice (first at line %d)", imp.Name, imp.Country, first)
				continue
			}
			seen[key] = m.node.Line
		}
		if v, vn := ps.str(m, "adequacy_scope", false); vn != nil {
			switch want, partial := jurisdiction.Scopes[imp.Country]; {
			case imp.Country == "":
			case !partial:
				ps.errorf(vn.Line, m.field("adequacy_scope"), "no partial adequacy decision for %s has a scope (scopes: %s)", imp.Country, scopeList())
			case v != want:
				ps.errorf(vn.Line, m.field("adequacy_scope"), "unknown scope %q for %s: use %s", v, imp.Country, want)
			default:
				imp.AdequacyScope = v
			}
		}
		ps.bool(m, "gdpr_art3_2", &imp.GDPRArt32)
		ps.p.Importers = append(ps.p.Importers, imp)
	}
}

func scopeList() string {
	var s []string
	for cc, scope := range jurisdiction.Scopes {
		s = append(s, cc+" "+scope)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// importer returns what the policy says of an importer in country cc.
func (p *Policy) importer(name, cc string) Importer {
	for _, imp := range p.Importers {
		if imp.Country == cc && sameName(imp.Name, name) {
			return imp
		}
	}
	return Importer{}
}

// hosting parses the hosting provider; it runs after mechanisms, which it
// names.
func (ps *parser) hosting(top mapping) {
	n := top.get("hosting")
	if n == nil || isNull(n) {
		return
	}
	m := ps.mapping(n, "hosting", "name", "country", "mechanism")
	if !m.ok {
		return
	}
	h := &Hosting{Line: m.node.Line}
	h.Name, _ = ps.str(m, "name", true)
	if v, vn := ps.str(m, "country", true); vn != nil && ps.country(v, vn.Line, m.field("country")) {
		h.Country = v
	}
	if id, idn := ps.str(m, "mechanism", true); idn != nil {
		h.Mechanism = id
		var mc *Mechanism
		for i := range ps.p.Mechanisms {
			if ps.p.Mechanisms[i].ID == id {
				mc = &ps.p.Mechanisms[i]
			}
		}
		switch {
		case mc == nil:
			var ids []string
			for _, x := range ps.p.Mechanisms {
				ids = append(ids, x.ID)
			}
			ps.errorf(idn.Line, m.field("mechanism"), "unknown mechanism %q%s", id, suggest(id, ids))
		case mc.Type == TypeBCR:
			ps.errorf(idn.Line, m.field("mechanism"), "%s is a BCR of a corporate group: a cloud provider's hosting rests on its DPF certification or standard clauses", id)
		case h.Name != "" && !sameName(mc.Importer.Name, h.Name):
			ps.errorf(idn.Line, m.field("mechanism"), "%s covers importer %q, not the hosting provider %q", id, mc.Importer.Name, h.Name)
		}
	}
	ps.p.Hosting = h
}
