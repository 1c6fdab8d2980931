package tagger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/residency-dev/residency/shared/catalog"
)

// CoverageRecorder records that a backfill of a source in a region
// completed (the store's PutCoverage): from then on retention and erasure
// cover the records that predate Residency there too.
type CoverageRecorder interface {
	PutCoverage(ctx context.Context, c catalog.Coverage) error
}

// BackfillCompleted is a backfill's last step, as its state machine sends
// it once every page of every segment is done: {"backfill_completed":
// {"region": "us-east-1", "source": "users", "mode": "scan"}}.
type BackfillCompleted struct {
	Region string `json:"region"`
	Source string `json:"source"`
	Mode   string `json:"mode"`
}

// backfillCompleted records the coverage a completed backfill gives, and
// answers it.
func (h *Handler) backfillCompleted(ctx context.Context, payload []byte) (catalog.Coverage, error) {
	var req struct {
		Completed *BackfillCompleted `json:"backfill_completed"`
	}
	if err := json.Unmarshal(payload, &req); err != nil || req.Completed == nil {
		return catalog.Coverage{}, fmt.Errorf("%w: backfill completed: not {\"backfill_completed\": {\"region\", \"source\", \"mode\"}}", ErrInvalid)
	}
	c := *req.Completed
	switch {
	case c.Region == "" || c.Source == "" || c.Mode == "":
		return catalog.Coverage{}, fmt.Errorf("%w: backfill completed: region, source and mode are required", ErrInvalid)
	case c.Region != h.Region:
		return catalog.Coverage{}, fmt.Errorf("%w: backfill completed: region %q: the tagger of %s records its own region's coverage", ErrInvalid, c.Region, h.Region)
	case !slices.Contains(catalog.BackfillModes, c.Mode):
		return catalog.Coverage{}, fmt.Errorf("%w: backfill completed: mode %q: use one of %s", ErrInvalid, c.Mode, strings.Join(catalog.BackfillModes, ", "))
	case h.Coverage == nil:
		return catalog.Coverage{}, errors.New("tagger: backfill completed: no coverage recorder wired")
	}
	if _, ok := h.Policy.SourceByName(c.Source); !ok {
		return catalog.Coverage{}, fmt.Errorf("%w: backfill completed: %q is not a source of policy %s", ErrInvalid, c.Source, h.Policy.Version)
	}
	cov := catalog.Coverage{Region: c.Region, Source: c.Source, Mode: c.Mode, CompletedAt: h.Now().UTC()}
	if err := h.Coverage.PutCoverage(ctx, cov); err != nil {
		return catalog.Coverage{}, fmt.Errorf("tagger: backfill completed: %w", err)
	}
	h.Log.InfoContext(ctx, "backfill completed", "function", Actor, "region", c.Region, "source", c.Source, "mode", c.Mode)
	return cov, nil
}
