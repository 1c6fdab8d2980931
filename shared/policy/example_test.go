package policy_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/policy"
)

func Example() {
	p := policy.MustExample()

	d, _ := p.Residency("FR", "us-east-1", "profile")
	fmt.Printf("%s data in us-east-1: allowed=%v, action=%s, home=%s\n", d.Jurisdiction, d.Allowed, d.Action, d.HomeRegion)

	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	t, _ := p.Transfer(policy.TransferRequest{ToCountry: "US", Importer: "Acme Inc", Category: "events"}, now)
	fmt.Println(t.Decision, t.Mechanism, t.Reference)

	t, _ = p.Transfer(policy.TransferRequest{ToCountry: "IN", Importer: "Acme Inc", Category: "events"}, now)
	fmt.Println(t.Decision+":", t.Reason)
	// Output:
	// EEA data in us-east-1: allowed=false, action=relocate, home=eu-central-1
	// allowed scc scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)
	// denied: no EU adequacy decision for IN; no SCC agreement between exporter "Acme Analytics SAS" and importer "Acme Inc" in IN (scc-acme-inc-2024 covers Acme Inc in US); no BCR approved under the EU GDPR; no derogation
}

func ExampleParse() {
	data := []byte(`version: "1"
regions: [eu-central-1]
residency:
  - subjects: [EEA]
    home: eu-centrl-1
    allowed: [eu-central-1]
categories:
  events: {personal: true, retention: 13m}
`)
	_, err := policy.Parse("residency.yaml", data)
	fmt.Println(errors.Is(err, policy.ErrInvalid))
	fmt.Println(err)
	// Output:
	// true
	// residency.yaml:5: residency[0].home: unknown region "eu-centrl-1" (did you mean eu-central-1?)
	// residency.yaml:8: categories.events.retention: invalid duration "13m": unit m is ambiguous: use mo for months
}

func ExamplePolicy_RetainUntil() {
	p := policy.MustExample()
	created := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	until, ok := p.RetainUntil("events", created, time.Time{}, time.Time{})
	fmt.Println(until.Format(time.DateOnly), ok)
	// Output:
	// 2027-02-15 true
}
