package policy

import "testing"

func TestRuleReferences(t *testing.T) {
	p := MustExample()
	cases := map[string]struct {
		subject, region string
		rule, violation string
	}{
		"first rule":               {"FR", "us-east-1", "policy 2026-11-01 residency rule 1", "policy 2026-11-01 residency rule 1"},
		"second rule":              {"GB", "us-east-1", "policy 2026-11-01 residency rule 2", "policy 2026-11-01 residency rule 2"},
		"unknown subject, assumed": {"", "us-east-1", "policy 2026-11-01 residency rule 1", "policy 2026-11-01 residency rule 1; subject country missing or unknown, treated as EEA (strictest)"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := p.Residency(c.subject, c.region, "profile")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.RuleReference(d); got != c.rule {
				t.Errorf("expect %q, got %q", c.rule, got)
			}
			if got := p.ViolationReference(d); got != c.violation {
				t.Errorf("expect %q, got %q", c.violation, got)
			}
		})
	}
}
