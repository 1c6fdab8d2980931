package router

import (
	"context"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/record"
)

// The router's metrics (EMF lines: see package metrics), per region,
// function and source. Exposure is one value per relocation or quarantine
// whose write time is known: the milliseconds from the misplaced write to
// the deletion of the misplaced copy, as the entry's exposed_ms (the stack
// alarms on its p99). Transfers has the further dimensions mechanism (the
// decision's mechanism, or "none") and decision (allowed, denied, ...).
const (
	MetricRelocations       = "Relocations"
	MetricQuarantines       = "Quarantines"
	MetricRelocationsFailed = "RelocationsFailed"
	MetricExposure          = "Exposure"
	MetricTransfers         = "Transfers"
	noMechanism             = "none"
)

// relocationMetrics emits the figures of one relocation or quarantine
// entry the router sent; a metric it cannot write is logged, never fatal.
func (h *Handler) relocationMetrics(ctx context.Context, e *ledger.Entry) {
	var ms []metrics.Metric
	switch e.Decision {
	case record.StatusRelocated:
		ms = append(ms, metrics.Counted(MetricRelocations, 1))
	case record.StatusQuarantined:
		ms = append(ms, metrics.Counted(MetricQuarantines, 1))
	case ledger.DecisionFailed:
		ms = append(ms, metrics.Counted(MetricRelocationsFailed, 1))
	default:
		return
	}
	if e.ExposedMS != nil && e.Decision != ledger.DecisionFailed {
		// Also per region and function alone: the stack's alarm reads the
		// p99 across every source.
		ms = append(ms, metrics.Metric{Name: MetricExposure, Unit: metrics.Milliseconds, Values: []float64{float64(*e.ExposedMS)}, Rollup: true})
	}
	h.emit(ctx, e.Source, nil, ms...)
}

// transferMetrics emits a transfer decision by mechanism and decision.
func (h *Handler) transferMetrics(ctx context.Context, e *ledger.Entry) {
	mech := e.Mechanism
	if mech == "" {
		mech = noMechanism
	}
	decision := e.Decision
	if decision == "" {
		decision = string(e.Kind)
	}
	h.emit(ctx, e.Source, []metrics.Dimension{{Name: metrics.DimMechanism, Value: mech}, {Name: metrics.DimDecision, Value: decision}},
		metrics.Counted(MetricTransfers, 1))
}

func (h *Handler) emit(ctx context.Context, source string, extra []metrics.Dimension, ms ...metrics.Metric) {
	if err := h.Metrics.EmitWith(source, extra, ms...); err != nil {
		h.Log.WarnContext(ctx, "metrics", "function", Actor, "error", err.Error())
	}
}
