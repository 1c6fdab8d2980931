package policy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that it either returns a policy
// or a *ValidationError naming the file, and that a policy it accepts can
// decide without panicking. The seed corpus is the example, the testdata
// policies and testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add(Example)
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) || len(ve.Errors) == 0 {
				t.Fatalf("expect a non-empty *ValidationError, got %#v", err)
			}
			for _, fe := range ve.Errors {
				if fe.File != "fuzz.yaml" || fe.Msg == "" {
					t.Fatalf("expect file fuzz.yaml and a message, got %+v", fe)
				}
			}
			if p != nil {
				t.Fatal("expect no policy with errors")
			}
			return
		}
		for i, r := range p.Rules {
			if !p.HasRegion(r.Home) {
				t.Fatalf("rule %d: home %q not in regions %v", i, r.Home, p.Regions)
			}
		}
		for name := range p.Categories {
			for _, cc := range []string{"FR", "US", "", "zz"} {
				for _, region := range p.Regions {
					if _, err := p.Residency(cc, region, name); err != nil && !errors.Is(err, ErrUnknownSubject) {
						t.Fatalf("Residency(%q, %q, %q): %v", cc, region, name, err)
					}
				}
				for _, m := range p.Mechanisms {
					_, err := p.Transfer(TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: m.Importer.Name + m.Group, Category: name}, now)
					if err != nil && !errors.Is(err, ErrBadRequest) {
						t.Fatalf("Transfer: %v", err)
					}
				}
			}
		}
	})
}
