package policy

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// ExpiryWarning is how far ahead [Policy.Warnings] and reports look for
// mechanisms that end: 90 days, time enough to renew an agreement or a
// certification.
const ExpiryWarning = 90 * 24 * time.Hour

// End is when a mechanism stops covering transfers: the start of an
// agreement's or BCR's expires date, the end of a DPF certification's
// certified_until date (UTC). Zero when it has no end.
func (m *Mechanism) End() time.Time {
	switch {
	case m.Type == TypeDPF:
		return m.CertifiedUntil.AddDate(0, 0, 1)
	case m.Type.clauses(), m.Type == TypeBCR:
		return m.Expires
	}
	return time.Time{}
}

// lastDay is the last day a mechanism covers transfers.
func (m *Mechanism) lastDay() string {
	return day(m.End().AddDate(0, 0, -1))
}

// Expiring returns the mechanisms that end after from and no later than
// until, in policy order.
func (p *Policy) Expiring(from, until time.Time) []*Mechanism {
	var out []*Mechanism
	for i := range p.Mechanisms {
		m := &p.Mechanisms[i]
		if end := m.End(); !end.IsZero() && end.After(from) && !end.After(until) {
			out = append(out, m)
		}
	}
	return out
}

// Warnings returns what a valid policy should still fix, as of now, at
// the line of the mechanism concerned: mechanisms that have ended (the
// transfers they covered are now denied) or end within [ExpiryWarning], and
// standard clauses without a transfer impact assessment (SCC Clause 14 for
// modules 1-3; the ICO's transfer risk assessment for the UK IDTA and
// Addendum). Module 4 is left out: Clause 14 applies to it only where the
// EU processor combines the data with its own.
func (p *Policy) Warnings(now time.Time) []FieldError {
	now = now.UTC()
	var out []FieldError
	for i := range p.Mechanisms {
		m := &p.Mechanisms[i]
		warn := func(m *Mechanism, field, format string, args ...any) {
			out = append(out, FieldError{File: p.File, Line: m.Line, Field: fmt.Sprintf("mechanisms[%d]%s", i, field),
				Msg: m.ID + " " + fmt.Sprintf(format, args...)})
		}
		what := "expires"
		if m.Type == TypeDPF {
			what = "certification ends"
		}
		switch end := m.End(); {
		case end.IsZero():
		case !now.Before(end):
			warn(m, "", "%s (last day %s): transfers relying on it are denied", pastTense(what), m.lastDay())
		case end.Sub(now) <= ExpiryWarning:
			days := int(math.Ceil(end.Sub(now).Hours() / 24))
			warn(m, "", "%s in %d %s (last day %s): renew it", what, days, plural(days, "day"), m.lastDay())
		}
		switch {
		case m.TIA != "" || !m.Type.clauses():
		case m.Type == TypeSCC && m.Module == 4:
		case m.Type == TypeSCC:
			warn(m, ".tia", "has no transfer impact assessment: SCC Clause 14 requires one, documented and available to the supervisory authority on request")
		default:
			warn(m, ".tia", "has no transfer risk assessment: the ICO expects one before relying on the IDTA or the Addendum")
		}
	}
	return out
}

func pastTense(what string) string {
	if what == "expires" {
		return "expired"
	}
	return "certification ended"
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// LastDay is the last day m covers transfers (UTC midnight); zero when it
// has no end.
func (m *Mechanism) LastDay() time.Time {
	if m.End().IsZero() {
		return time.Time{}
	}
	return m.End().AddDate(0, 0, -1)
}

// Cites reports whether a decision's reference rests on m: references of
// mechanisms start with the mechanism's id, then its instrument in
// parentheses.
func (m *Mechanism) Cites(reference string) bool {
	rest, ok := strings.CutPrefix(reference, m.ID)
	return ok && (rest == "" || strings.HasPrefix(rest, " ("))
}
