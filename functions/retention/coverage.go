package retention

import (
	"context"
	"slices"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
)

// CoverageReader reads the completed backfills of a region's sources.
type CoverageReader interface {
	Coverage(ctx context.Context, region string) ([]catalog.Coverage, error)
}

// coverage says whether a completed backfill covered every watched source
// of the region, and which did not: an erasure reaches only the records the
// catalog knows, and without a backfill it knows none older than Residency.
// A failed read makes it unknown rather than failing the erasure, which is
// done.
func (h *Handler) coverage(ctx context.Context) (string, []string) {
	if h.Coverage == nil {
		return events.CoverageUnknown, nil
	}
	done, err := h.Coverage.Coverage(ctx, h.Region)
	if err != nil {
		h.Log.WarnContext(ctx, "backfill coverage unknown", "function", Actor, "region", h.Region, "error", err.Error())
		return events.CoverageUnknown, nil
	}
	var uncovered []string
	for _, src := range h.Policy.Sources {
		name := src.NameIn(h.Region)
		if name == "" || slices.Contains(uncovered, name) || slices.ContainsFunc(done, func(c catalog.Coverage) bool { return c.Source == name }) {
			continue
		}
		uncovered = append(uncovered, name)
	}
	if len(uncovered) > 0 {
		return events.CoveragePartial, uncovered
	}
	return events.CoverageComplete, nil
}
