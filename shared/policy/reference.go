package policy

import (
	"fmt"
	"strconv"
	"time"
)

// RuleReference is how a ledger entry cites the residency rule a decision
// applied: "policy <version> residency rule <n>", rules numbered from 1 as
// in the file.
func (p *Policy) RuleReference(d ResidencyDecision) string {
	return "policy " + p.Version + " residency rule " + strconv.Itoa(d.Rule+1)
}

// ViolationReference is a violation entry's reference: the rule, and that
// the subject's country was assumed when it was.
func (p *Policy) ViolationReference(d ResidencyDecision) string {
	ref := p.RuleReference(d)
	if d.Assumed {
		ref += "; subject country missing or unknown, treated as EEA (strictest)"
	}
	return ref
}

// RetentionReference is what a retention receipt says of the rule that made
// a record due: "retention of profile: 25mo from created, due <retain-until>".
func (p *Policy) RetentionReference(category string, retainUntil time.Time) string {
	if cat, ok := p.Category(category); ok {
		return fmt.Sprintf("retention of %s: %s from %s, due %s", category, cat.Retention, cat.From, retainUntil.UTC().Format(time.RFC3339))
	}
	return "retention of " + category
}
