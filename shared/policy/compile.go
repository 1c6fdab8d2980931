package policy

import (
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
	// reference and reason are, per mechanism, the text of a decision
	// that rests on it.
	reference []string
	reason    []string
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
		c.reference = append(c.reference, mechanismReference(m))
		c.reason = append(c.reason, mechanismReason(m))
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

// DPFDecision is the reference of the EU-US Data Privacy Framework adequacy
// decision, cited by decisions that rest on a DPF certification.
const DPFDecision = "Decision (EU) 2023/1795"

func mechanismReference(m Mechanism) string {
	switch m.Type {
	case TypeSCC:
		ref := m.ID + " (SCC Module " + itoa(m.Module)
		if m.TIA != "" {
			ref += ", TIA " + m.TIA
		}
		return ref + ")"
	case TypeDPF:
		return m.ID + " (" + DPFDecision + ")"
	case TypeBCR:
		return m.ID + " (BCR, approval " + m.Reference + ")"
	}
	return m.ID
}

func mechanismReason(m Mechanism) string {
	switch m.Type {
	case TypeSCC:
		r := "SCC Module " + itoa(m.Module) + " (" + jurisdiction.SCCModuleName(m.Module) + ") agreement " + m.ID +
			" between " + m.Exporter.Name + " (" + m.Exporter.Country + ") and " + m.Importer.Name + " (" + m.Importer.Country +
			"), in force from " + day(m.Signed) + " until " + day(m.Expires)
		if m.TIA != "" {
			r += ", transfer impact assessment " + m.TIA
		}
		return r
	case TypeDPF:
		return m.Importer.Name + " is certified under the EU-US Data Privacy Framework until " + day(m.CertifiedUntil) +
			" (Commission Implementing Decision (EU) 2023/1795)"
	case TypeBCR:
		r := "Binding Corporate Rules of " + m.Group + " (" + m.ID + "), approved " + day(m.Approved) + ", reference " + m.Reference
		if !m.Expires.IsZero() {
			r += ", until " + day(m.Expires)
		}
		return r
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
