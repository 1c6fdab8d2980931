package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
)

// CoverageReader reads the completed backfills of a region's sources (the
// stores' Coverage). A report's Catalog that is one too gets the coverage
// section: both stores are.
type CoverageReader interface {
	Coverage(ctx context.Context, region string) ([]catalog.Coverage, error)
}

// NeverBackfilled is what the report says of a source no backfill has
// covered in a region.
const NeverBackfilled = "never: retention and erasure cover only records written since Residency watched this source"

// Coverage says of one watched source in one region whether a backfill
// brought the records that predate Residency under it, and when: without
// one, the catalog knows only what was written since, and retention and
// erasure reach nothing older.
type Coverage struct {
	Region      string    `json:"region"`
	Source      string    `json:"source"`
	SourceKind  string    `json:"source_kind"` // table | bucket
	Backfilled  bool      `json:"backfilled"`
	Mode        string    `json:"mode,omitempty"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	Note        string    `json:"note,omitempty"`
}

// addCoverage lists, for each region of the report and each watched
// source of the policy, its last completed backfill or NeverBackfilled.
// Like the hosting rows, it is the state when the report is made.
func addCoverage(ctx context.Context, sum *Summary, q Query, opt Options) error {
	cr, ok := opt.Catalog.(CoverageReader)
	if opt.Policy == nil || !ok {
		return nil
	}
	for _, region := range opt.regions() {
		if q.Region != "" && q.Region != region {
			continue
		}
		done, err := cr.Coverage(ctx, region)
		if err != nil {
			return fmt.Errorf("backfill coverage: %w", err)
		}
		var seen []string
		for _, src := range opt.Policy.Sources {
			name, kind := src.NameIn(region), catalog.SourceTable
			if src.Table == "" {
				kind = catalog.SourceBucket
			}
			if name == "" || slices.Contains(seen, name) {
				continue
			}
			seen = append(seen, name)
			c := Coverage{Region: region, Source: name, SourceKind: kind, Note: NeverBackfilled}
			if i := slices.IndexFunc(done, func(d catalog.Coverage) bool { return d.Source == name }); i >= 0 {
				c.Backfilled, c.Mode, c.CompletedAt, c.Note = true, done[i].Mode, done[i].CompletedAt.UTC(), ""
			}
			sum.Coverage = append(sum.Coverage, c)
		}
	}
	return nil
}
