package retention_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/catalog"
)

type failingCoverage struct{}

func (failingCoverage) Coverage(context.Context, string) ([]catalog.Coverage, error) {
	return nil, errors.New("throttled")
}

// TestErasureSaysWhatBackfillsCovered: Erasure Completed says whether a
// completed backfill covered every watched source of the region (else the
// erasure reached only what was written since Residency watched them).
func TestErasureSaysWhatBackfillsCovered(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		done          []catalog.Coverage
		failing, none bool
		want          string
		uncovered     []string
	}{
		"no backfill":      {want: events.CoveragePartial, uncovered: []string{"users", "acme-exports-eu"}},
		"the table only":   {done: []catalog.Coverage{{Source: "users", Mode: catalog.BackfillScan}}, want: events.CoveragePartial, uncovered: []string{"acme-exports-eu"}},
		"every source":     {done: []catalog.Coverage{{Source: "users", Mode: catalog.BackfillExport}, {Source: "acme-exports-eu", Mode: catalog.BackfillList}}, want: events.CoverageComplete},
		"another region's": {done: nil, want: events.CoveragePartial, uncovered: []string{"users", "acme-exports-eu"}},
		"unreadable":       {failing: true, want: events.CoverageUnknown},
		"no reader wired":  {none: true, want: events.CoverageUnknown},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, _ := setup(t)
			h.Coverage = st
			switch {
			case c.failing:
				h.Coverage = failingCoverage{}
			case c.none:
				h.Coverage = nil
			}
			for _, d := range c.done {
				d.Region = "eu-central-1"
				if err := st.PutCoverage(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			if name == "another region's" {
				st.PutCoverage(ctx, catalog.Coverage{Region: "us-east-1", Source: "users", Mode: catalog.BackfillScan})
			}
			out, err := h.Invoke(ctx, eventstest.Sample(t, "eventbridge-erasure-requested.json"))
			if err != nil {
				t.Fatal(err)
			}
			got := out.(events.ErasureCompletedDetail)
			if got.Coverage != c.want || !cmp.Equal(got.Uncovered, c.uncovered) {
				t.Fatalf("expect coverage %s, uncovered %v, got %s %v", c.want, c.uncovered, got.Coverage, got.Uncovered)
			}
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
