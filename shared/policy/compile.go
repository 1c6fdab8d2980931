package policy

import (
	"slices"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// compiled holds the lookups Parse precompiles so that decisions do no
// parsing, no string building and no allocation on their common paths.
type compiled struct {
	// ruleFor maps a country index (see countryIndex) to the index of the
	// first rule matching it, -1 if none.
	ruleFor [letters * letters]int16
	// unknownRule is the rule for subjects of missing or unknown country,
	// treated as EEA; -1 if none.
	unknownRule int
	// allowed is, per rule, its set of allowed regions.
	allowed []map[string]struct{}
	// reference and reason are, per mechanism and regime (see
	// regimeIndex), the text of a decision that rests on it.
	reference [][3]string
	reason    [][3]string
}

// compile builds the lookups of a policy. It tolerates any Policy value, so
// that decisions on a hand-built Policy are correct, only slower.
func compile(p *Policy) *compiled {
	c := &compiled{unknownRule: -1}
	for i := range c.ruleFor {
		c.ruleFor[i] = -1
	}
	for i, r := range p.Rules {
		for _, s := range r.Subjects {
			set, _ := expand(s)
			for _, cc := range set {
				if c.ruleFor[cc] < 0 {
					c.ruleFor[cc] = int16(i)
				}
			}
			if c.unknownRule < 0 && (s == GroupEEA || s == GroupEU) {
				c.unknownRule = i
			}
		}
		set := make(map[string]struct{}, len(r.Allowed))
		for _, a := range r.Allowed {
			set[a] = struct{}{}
		}
		c.allowed = append(c.allowed, set)
	}
	// Without a rule naming the EEA or the EU, unknown subjects get the first
	// rule that matches any EEA country (ANY included).
	if c.unknownRule < 0 {
		for _, cc := range jurisdiction.EEA() {
			if r := int(c.ruleFor[countryIndex(cc)]); r >= 0 && (c.unknownRule < 0 || r < c.unknownRule) {
				c.unknownRule = r
			}
		}
	}
	for _, m := range p.Mechanisms {
		var ref, why [3]string
		for i, r := range jurisdiction.Regimes {
			ref[i], why[i] = mechanismReference(m, r), mechanismReason(m, r)
		}
		c.reference = append(c.reference, ref)
		c.reason = append(c.reason, why)
	}
	return c
}

// compiled returns the policy's lookups, building them for a Policy that did
// not come from Parse.
func (p *Policy) compiled() *compiled {
	if p.c != nil {
		return p.c
	}
	return compile(p)
}

// regimeIndex is r's index in jurisdiction.Regimes.
func regimeIndex(r jurisdiction.Regime) int {
	return max(0, slices.Index(jurisdiction.Regimes, r))
}

// usAdequacy is the finding for the United States that a DPF
// certification relies on under regime r: the newest.
func usAdequacy(r jurisdiction.Regime) jurisdiction.Adequacy {
	h := jurisdiction.AdequacyHistory(r, "US")
	if len(h) == 0 {
		return jurisdiction.Adequacy{}
	}
	return h[len(h)-1]
}

// assessment cites a mechanism's transfer impact assessment: SCC Clause 14,
// or the ICO's transfer risk assessment.
func assessment(m Mechanism) string {
	if m.TIA == "" {
		return ""
	}
	if m.Type == TypeSCC {
		return "; TIA " + m.TIA
	}
	return "; TRA " + m.TIA
}

// instrument cites the instrument of a mechanism under regime r, without
// the mechanism's id.
func instrument(m Mechanism, r jurisdiction.Regime) string {
	switch m.Type {
	case TypeSCC:
		if r == jurisdiction.RegimeCH {
			return jurisdiction.SwissSCC + "; " + jurisdiction.SCCInstrument(m.Module)
		}
		return jurisdiction.SCCInstrument(m.Module)
	case TypeUKAddendum:
		return jurisdiction.UKAddendum + ", with SCC Module " + itoa(m.Module) + " (" + jurisdiction.SCCModuleName(m.Module) + ")"
	case TypeUKIDTA:
		return jurisdiction.UKIDTA
	case TypeDPF:
		return string(usFramework(r)) + ", " + usAdequacy(r).Decision
	case TypeBCR:
		return "Binding Corporate Rules, " + bcrArticle(r)
	}
	return ""
}

func bcrArticle(r jurisdiction.Regime) string {
	if r == jurisdiction.RegimeCH {
		return "FADP Art. 16(2)(e)"
	}
	return r.Law() + " Art. 47"
}

func mechanismReference(m Mechanism, r jurisdiction.Regime) string {
	switch m.Type {
	case TypeSCC, TypeUKAddendum, TypeUKIDTA:
		return m.ID + " (" + instrument(m, r) + assessment(m) + ")"
	case TypeDPF:
		return m.ID + " (" + instrument(m, r) + ")"
	case TypeBCR:
		return m.ID + " (" + instrument(m, r) + ", approval " + m.Reference + ")"
	}
	return m.ID
}

func mechanismReason(m Mechanism, r jurisdiction.Regime) string {
	switch m.Type {
	case TypeSCC, TypeUKAddendum, TypeUKIDTA:
		why := "agreement " + m.ID + " (" + instrument(m, r) + ") between " + m.Exporter.Name + " (" + m.Exporter.Country + ") and " +
			m.Importer.Name + " (" + m.Importer.Country + "), in force from " + day(m.Signed) + " until " + day(m.Expires)
		switch {
		case m.TIA != "" && m.Type == TypeSCC:
			why += ", transfer impact assessment " + m.TIA + " (Clause 14)"
		case m.TIA != "":
			why += ", transfer risk assessment " + m.TIA
		}
		return why
	case TypeDPF:
		return m.Importer.Name + " is certified under the " + string(usFramework(r)) + " until " + day(m.CertifiedUntil) +
			" (" + usAdequacy(r).Decision + ")"
	case TypeBCR:
		why := "Binding Corporate Rules of " + m.Group + " (" + m.ID + ", " + bcrArticle(r) + "), approved " + day(m.Approved) + ", reference " + m.Reference
		if !m.Expires.IsZero() {
			why += ", until " + day(m.Expires)
		}
		return why
	}
	return m.ID
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func itoa(n int) string {
	if 0 <= n && n <= 9 {
		return string(rune('0' + n))
	}
	return "?"
}
