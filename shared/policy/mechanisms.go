package policy

import (
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
	"go.yaml.in/yaml/v3"
)

var mechanismFields = map[MechanismType][]string{
	TypeSCC:        {"id", "type", "module", "exporter", "importer", "signed", "expires", "tia", "categories"},
	TypeUKAddendum: {"id", "type", "module", "exporter", "importer", "signed", "expires", "tia", "categories"},
	TypeUKIDTA:     {"id", "type", "exporter", "importer", "signed", "expires", "tia", "categories"},
	TypeDPF:        {"id", "type", "importer", "certified_until", "uk_extension", "swiss_us", "categories"},
	TypeBCR:        {"id", "type", "group", "importer", "countries", "regimes", "approved", "reference", "expires", "categories"},
}

var allMechanismFields = []string{"id", "type", "module", "exporter", "importer", "signed", "expires",
	"tia", "certified_until", "uk_extension", "swiss_us", "group", "countries", "regimes", "approved", "reference", "categories"}

func (ps *parser) mechanisms(top mapping) {
	items := ps.sequence(top, "mechanisms", "mechanisms")
	ids := map[string]int{}
	for i, mn := range items {
		path := itemPath("mechanisms", i)
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
			ps.errorf(tn.Line, m.field("type"), "unknown type %q: use scc, dpf, bcr, uk_idta or uk_addendum", typ)
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
		case TypeSCC, TypeUKIDTA, TypeUKAddendum:
			ps.clauses(m, &mc)
		case TypeDPF:
			ps.dpf(m, &mc)
		case TypeBCR:
			ps.bcr(m, &mc)
		}
		ps.p.Mechanisms = append(ps.p.Mechanisms, mc)
	}
}

// clauses parses standard clauses signed between an exporter and an
// importer: EU SCCs (scc), the ICO's IDTA (uk_idta) and Addendum
// (uk_addendum). The exporter must be the organization or one of the
// entities, subject to the regime the clauses serve.
func (ps *parser) clauses(m mapping, mc *Mechanism) {
	var moduleNode *yaml.Node
	if mc.Type != TypeUKIDTA {
		if n := m.get("module"); n == nil {
			ps.errorf(m.node.Line, m.field("module"), "missing: SCC module 1, 2, 3 or 4")
		} else if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&mc.Module) != nil || mc.Module < 1 || mc.Module > 4 {
			ps.errorf(n.Line, m.field("module"), "SCC module must be 1, 2, 3 or 4 (Decision (EU) 2021/914), not %q", n.Value)
			mc.Module = 0
		} else {
			moduleNode = n
		}
	}
	exporterLine := m.node.Line
	if n := m.get("exporter"); n != nil {
		mc.Exporter, exporterLine = ps.party(n, m.field("exporter"), true)
		if mc.Exporter.Name != "" && mc.Exporter.Country != "" {
			switch known, ok := ps.p.exporterNamed(mc.Exporter.Name); {
			case !ok && ps.hasOrg:
				ps.errorf(exporterLine, m.field("exporter.name"), "exporter %q is neither the organization nor one of entities (%s): the agreement could cover no transfer", mc.Exporter.Name, ps.p.exporterNames())
			case ok && known.Country != "" && known.Country != mc.Exporter.Country:
				ps.errorf(exporterLine, m.field("exporter.country"), "%q is in %s in the policy, not %s", known.Name, known.Country, mc.Exporter.Country)
			}
		}
	} else if ps.hasOrg {
		mc.Exporter = ps.p.Organization
	} else {
		ps.errorf(m.node.Line, m.field("exporter"), "missing, and the policy has no organization to default to")
	}
	regime, regimeOK := jurisdiction.RegimeOf(mc.Exporter.Country)
	switch {
	case mc.Exporter.Country == "":
	case mc.Type == TypeSCC && regime == jurisdiction.RegimeUK:
		ps.errorf(exporterLine, m.field("exporter.country"), "an exporter in GB relies on the EU SCCs through the ICO's Addendum: use type uk_addendum (or uk_idta)")
	case mc.Type != TypeSCC && regime != jurisdiction.RegimeUK:
		ps.errorf(exporterLine, m.field("exporter.country"), "the ICO's %s serves exporters under the UK GDPR (in GB), not in %s", ukName(mc.Type), mc.Exporter.Country)
	case !regimeOK:
		ps.errorf(exporterLine, m.field("exporter.country"), "an exporter in %s is subject to no supported regime: %s", mc.Exporter.Country, regimeHelp)
	}
	if n := m.get("importer"); n != nil {
		var line int
		mc.Importer, line = ps.party(n, m.field("importer"), true)
		if cc := mc.Importer.Country; regimeOK && regime.Covers(cc) {
			ps.errorf(line, m.field("importer.country"), "importer country %s is in %s, like the exporter: a transfer there is not restricted (%s) and needs no clauses", cc, regime.Area(), regime)
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

func ukName(t MechanismType) string {
	if t == TypeUKIDTA {
		return "International Data Transfer Agreement"
	}
	return "International Data Transfer Addendum"
}

// bool parses an optional true/false field.
func (ps *parser) bool(m mapping, key string, v *bool) {
	if n := m.get(key); n != nil {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(v) != nil {
			ps.errorf(n.Line, m.field(key), "must be true or false, not %s", kindName(n))
		}
	}
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
	ps.bool(m, "uk_extension", &mc.UKExtension)
	ps.bool(m, "swiss_us", &mc.SwissUS)
}

// bcrRegimes are the names a BCR's regimes field takes.
var bcrRegimes = map[string]jurisdiction.Regime{"eu": jurisdiction.RegimeEU, "uk": jurisdiction.RegimeUK, "ch": jurisdiction.RegimeCH}

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
	if items, _, ok := ps.list(m, "regimes", false, true); ok {
		for _, it := range items {
			r, ok := bcrRegimes[it.val]
			if !ok {
				ps.errorf(it.line, m.field("regimes"), "unknown regime %q: use eu (EU GDPR Art. 47), uk (UK GDPR Art. 47) or ch (FADP Art. 16(2)(e))", it.val)
				continue
			}
			mc.Regimes = append(mc.Regimes, r)
		}
	} else if m.get("regimes") == nil {
		mc.Regimes = []jurisdiction.Regime{jurisdiction.RegimeEU}
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
