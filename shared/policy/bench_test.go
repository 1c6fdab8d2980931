package policy

import (
	"testing"
	"time"
)

func BenchmarkResidency(b *testing.B) {
	p := MustExample()
	inputs := [][3]string{
		{"FR", "us-east-1", "profile"},    // violation: relocate
		{"GB", "eu-west-1", "events"},     // allowed
		{"US", "us-east-1", "billing"},    // ANY rule
		{"", "eu-central-1", "profile"},   // unknown subject, assumed EEA
		{"IN", "us-east-1", "aggregates"}, // non-personal
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in := inputs[i%len(inputs)]
		if _, err := p.Residency(in[0], in[1], in[2]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransfer(b *testing.B) {
	p := loadTestPolicy(b, "transfer.yaml")
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	cases := map[string]TransferRequest{
		"scc":      {FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "events"},
		"dpf":      {FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"},
		"adequacy": {FromCountry: "FR", ToCountry: "JP", Importer: "X", Category: "profile"},
		"intraEEA": {FromCountry: "FR", ToCountry: "DE", Importer: "X", Category: "profile"},
		"denied":   {FromCountry: "FR", ToCountry: "IN", Importer: "Acme Inc", Category: "events"},
	}
	for name, req := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := p.Transfer(req, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
