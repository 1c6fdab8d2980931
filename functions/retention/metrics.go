package retention

import (
	"context"
	"time"

	"github.com/residency-dev/residency/shared/metrics"
)

// The sweep's metrics, per region and function (EMF lines: see package
// metrics). OldestOverdueAge is how long past its retain-until the oldest
// due record no hold keeps was when the sweep reached it: with an hourly
// sweep it stays under an hour, and it grows when sweeps fail or fall
// behind (the stack alarms on it).
const (
	MetricSweepDue         = "SweepDue"
	MetricSweepDeleted     = "SweepDeleted"
	MetricSweepHeld        = "SweepHeld"
	MetricSweepLocked      = "SweepLocked"
	MetricSweepChanged     = "SweepChanged"
	MetricOldestOverdueAge = "OldestOverdueAge"
)

// sweepMetrics emits a sweep's figures; a metric it cannot write is
// logged, never fatal.
func (h *Handler) sweepMetrics(ctx context.Context, res SweepResult, oldest, now time.Time) {
	var age time.Duration
	if !oldest.IsZero() && now.After(oldest) {
		age = now.Sub(oldest)
	}
	err := h.Metrics.Emit("", metrics.Counted(MetricSweepDue, res.Due), metrics.Counted(MetricSweepDeleted, res.Deleted),
		metrics.Counted(MetricSweepHeld, res.Held), metrics.Counted(MetricSweepLocked, res.Locked),
		metrics.Counted(MetricSweepChanged, res.Changed), metrics.Age(MetricOldestOverdueAge, age))
	if err != nil {
		h.Log.WarnContext(ctx, "metrics", "function", Actor, "error", err.Error())
	}
}
