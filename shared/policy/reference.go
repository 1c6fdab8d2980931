package policy

import "strconv"

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
