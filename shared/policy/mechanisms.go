package policy

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
	"go.yaml.in/yaml/v3"
)

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
