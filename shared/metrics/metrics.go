package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every Residency metric.
const Namespace = "Residency"

// Unit is a CloudWatch metric unit (the specification's enumeration).
type Unit string

// The units Residency uses.
const (
	Count        Unit = "Count"
	Milliseconds Unit = "Milliseconds"
	Seconds      Unit = "Seconds"
)

// The dimensions.
const (
	DimRegion   = "region"
	DimFunction = "function"
	DimSource   = "source"
	// DimMechanism and DimDecision are the router's transfer metrics'
	// further dimensions (see [Emitter.EmitWith]).
	DimMechanism = "mechanism"
	DimDecision  = "decision"
)

// Dimension is a dimension of a line beside region, function and source.
type Dimension struct{ Name, Value string }

// The specification's limits: values of one metric in one line, metric
// definitions in one directive.
const (
	maxValues      = 100
	maxDefinitions = 100
)

// Metric is one metric of a line: one value, or several (a distribution,
// of which CloudWatch computes percentiles).
type Metric struct {
	Name   string
	Unit   Unit
	Values []float64
	// Rollup also publishes the metric with the dimensions region and
	// function alone (a second directive of the line), so that an alarm
	// reads the region's distribution across every source.
	Rollup bool
}

// Counted is a count.
func Counted(name string, n int) Metric {
	return Metric{Name: name, Unit: Count, Values: []float64{float64(n)}}
}

// Durations are durations in milliseconds.
func Durations(name string, ds ...time.Duration) Metric {
	m := Metric{Name: name, Unit: Milliseconds, Values: make([]float64, len(ds))}
	for i, d := range ds {
		m.Values[i] = float64(d.Milliseconds())
	}
	return m
}

// Age is an age in seconds.
func Age(name string, d time.Duration) Metric {
	return Metric{Name: name, Unit: Seconds, Values: []float64{math.Round(d.Seconds())}}
}

// Emitter writes EMF lines for one function in one region. Its zero W
// writes nothing (metrics off, as in tests and locally unless asked).
type Emitter struct {
	W        io.Writer
	Function string
	Region   string
	Now      func() time.Time

	mu sync.Mutex
}

// Emit writes the metrics, with the dimensions region and function and,
// when source is not empty, source. A metric with more than 100 values
// (the most one line may carry) continues on further lines; metrics with
// no values are left out. Emit on a nil Emitter does nothing.
func (e *Emitter) Emit(source string, ms ...Metric) error {
	return e.EmitWith(source, nil, ms...)
}

// EmitWith writes the metrics as Emit does, with the further dimensions
// extra after region, function and source (one dimension set of them
// all). A dimension needs a name that is no other's and a value.
func (e *Emitter) EmitWith(source string, extra []Dimension, ms ...Metric) error {
	if e == nil || e.W == nil {
		return nil
	}
	dims := []string{DimRegion, DimFunction}
	base := map[string]any{DimRegion: e.Region, DimFunction: e.Function}
	if source != "" {
		dims = append(dims, DimSource)
		base[DimSource] = source
	}
	for _, d := range extra {
		if d.Name == "" || d.Name == "_aws" || slices.Contains(dims, d.Name) {
			return fmt.Errorf("metrics: %q is not a dimension name here", d.Name)
		}
		if d.Value == "" {
			return fmt.Errorf("metrics: dimension %s has no value", d.Name)
		}
		dims = append(dims, d.Name)
		base[d.Name] = d.Value
	}
	if len(ms) > maxDefinitions {
		return fmt.Errorf("metrics: %d metrics in one line, at most %d", len(ms), maxDefinitions)
	}
	for _, m := range ms {
		if m.Name == "" || slices.Contains(dims, m.Name) || m.Name == "_aws" {
			return fmt.Errorf("metrics: %q is not a metric name", m.Name)
		}
		for _, v := range m.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("metrics: %s: %v is not a value", m.Name, v)
			}
		}
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for part := 0; ; part++ {
		line := make(map[string]any, len(base)+len(ms)+1)
		for k, v := range base {
			line[k] = v
		}
		var defs, rollup []definition
		for _, m := range ms {
			lo := part * maxValues
			if lo >= len(m.Values) {
				continue
			}
			vals := m.Values[lo:min(lo+maxValues, len(m.Values))]
			defs = append(defs, definition{Name: m.Name, Unit: m.Unit})
			if m.Rollup && len(dims) > 2 {
				rollup = append(rollup, definition{Name: m.Name, Unit: m.Unit})
			}
			if len(vals) == 1 {
				line[m.Name] = vals[0]
			} else {
				line[m.Name] = vals
			}
		}
		if len(defs) == 0 {
			return nil
		}
		directives := []directive{{Namespace: Namespace, Dimensions: [][]string{dims}, Metrics: defs}}
		if len(rollup) > 0 {
			directives = append(directives, directive{Namespace: Namespace, Dimensions: [][]string{{DimRegion, DimFunction}}, Metrics: rollup})
		}
		line["_aws"] = metadata{Timestamp: now().UnixMilli(), CloudWatchMetrics: directives}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		if _, err := e.W.Write(append(b, '\n')); err != nil {
			return errors.Join(errors.New("metrics: write"), err)
		}
	}
}

type metadata struct {
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
}

type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit,omitempty"`
}
