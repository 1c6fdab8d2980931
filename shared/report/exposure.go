package report

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// Exposure sums up how long misplaced records stayed exposed in a region
// their policy does not allow: the exposed_ms of relocation and quarantine
// entries (from the misplaced write to the deletion of the misplaced copy).
// The percentiles are nearest-rank: p95_ms is the smallest exposure that at
// least 95% of the count do not exceed. All are 0 when Count is 0.
type Exposure struct {
	Count int   `json:"count"`
	P50MS int64 `json:"p50_ms"`
	P95MS int64 `json:"p95_ms"`
	P99MS int64 `json:"p99_ms"`
	MaxMS int64 `json:"max_ms"`
}

// RegionExposure is the exposure of the misplaced records of one region
// (the region they were misplaced in).
type RegionExposure struct {
	Region string `json:"region"`
	Exposure
}

// DayExposure is the exposure of the relocations and quarantines of one UTC
// day (YYYY-MM-DD, the day of the entry).
type DayExposure struct {
	Day string `json:"day"`
	Exposure
}

// ExposureSummary is a report's summary.exposure: the exposure over the
// report's range, and the same per region and per day beside it.
// Unmeasured counts the relocations and quarantines without exposed_ms,
// left out of the figures: records a backfill found (their write time is
// not known) and entries written before exposed_ms existed.
type ExposureSummary struct {
	Exposure
	Unmeasured int              `json:"unmeasured"`
	ByRegion   []RegionExposure `json:"by_region"`
	ByDay      []DayExposure    `json:"by_day"`
}

// exposures accumulates the exposed_ms of a report's relocations and
// quarantines by region and day. Its memory is 8 bytes per measured entry:
// exact percentiles need every value.
type exposures struct {
	by         map[[2]string][]int64 // region, day
	unmeasured int
}

// add takes a relocation entry of the report.
func (x *exposures) add(e *ledger.Entry) {
	if e.Kind != ledger.KindRelocation || (e.Decision != record.StatusRelocated && e.Decision != record.StatusQuarantined) {
		return // a failed attempt, or an ingested record routed home: nothing was exposed and removed
	}
	if e.ExposedMS == nil {
		x.unmeasured++
		return
	}
	if x.by == nil {
		x.by = map[[2]string][]int64{}
	}
	k := [2]string{e.Region, e.Time.UTC().Format(time.DateOnly)}
	x.by[k] = append(x.by[k], *e.ExposedMS)
}

// merge adds another chain's exposures to x.
func (x *exposures) merge(o *exposures) {
	x.unmeasured += o.unmeasured
	for k, v := range o.by {
		if x.by == nil {
			x.by = map[[2]string][]int64{}
		}
		x.by[k] = append(x.by[k], v...)
	}
}

// finish computes the summary: overall, per region and per day, sorted.
func (x *exposures) finish() ExposureSummary {
	out := ExposureSummary{Unmeasured: x.unmeasured, ByRegion: []RegionExposure{}, ByDay: []DayExposure{}}
	regions, days := map[string][]int64{}, map[string][]int64{}
	var all []int64
	for k, v := range x.by {
		regions[k[0]] = append(regions[k[0]], v...)
		days[k[1]] = append(days[k[1]], v...)
		all = append(all, v...)
	}
	out.Exposure = exposureOf(all)
	for r, v := range regions {
		out.ByRegion = append(out.ByRegion, RegionExposure{Region: r, Exposure: exposureOf(v)})
	}
	for d, v := range days {
		out.ByDay = append(out.ByDay, DayExposure{Day: d, Exposure: exposureOf(v)})
	}
	slices.SortFunc(out.ByRegion, func(a, b RegionExposure) int { return cmp.Compare(a.Region, b.Region) })
	slices.SortFunc(out.ByDay, func(a, b DayExposure) int { return cmp.Compare(a.Day, b.Day) })
	return out
}

// exposureOf sorts v and returns its count, nearest-rank percentiles and
// maximum.
func exposureOf(v []int64) Exposure {
	if len(v) == 0 {
		return Exposure{}
	}
	slices.Sort(v)
	rank := func(p float64) int64 {
		i := int(math.Ceil(p/100*float64(len(v)))) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	return Exposure{Count: len(v), P50MS: rank(50), P95MS: rank(95), P99MS: rank(99), MaxMS: v[len(v)-1]}
}

// FormatMS writes an exposure for people: "850 ms", "12.3 s", "4m05s",
// "26h03m".
func FormatMS(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	switch {
	case d < time.Second:
		return strconv.FormatInt(ms, 10) + " ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// exposureLine is the exposure's figures on one line of the table report.
func exposureLine(x Exposure) string {
	return fmt.Sprintf("%d\t%s\t%s\t%s\t%s", x.Count, FormatMS(x.P50MS), FormatMS(x.P95MS), FormatMS(x.P99MS), FormatMS(x.MaxMS))
}

// exposureTable writes the table report's exposure section (nothing when
// no relocation or quarantine is in the report).
func exposureTable(tw io.Writer, x *ExposureSummary) {
	if x.Count == 0 && x.Unmeasured == 0 {
		return
	}
	fmt.Fprintf(tw, "\nExposure: misplaced write to deletion of the misplaced copy, over %d relocations and quarantines", x.Count)
	if x.Unmeasured > 0 {
		fmt.Fprintf(tw, " (%d more without a write time, left out: backfilled or older)", x.Unmeasured)
	}
	fmt.Fprintf(tw, "\n  \tCOUNT\tP50\tP95\tP99\tMAX\n")
	fmt.Fprintf(tw, "  all\t%s\n", exposureLine(x.Exposure))
	for _, r := range x.ByRegion {
		fmt.Fprintf(tw, "  %s\t%s\n", r.Region, exposureLine(r.Exposure))
	}
	for _, d := range x.ByDay {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Day, exposureLine(d.Exposure))
	}
}

// exposureChart: per period of the report, the day's p50 and p99 exposure
// as bars side by side (the highest daily figures of a week or month when
// the report is longer than two months).
func exposureChart(h *Header) chart {
	c := chart{ID: "exposure", Title: "Exposure over time",
		Desc: "How long misplaced records stayed in a region their policy does not allow, from the write to the deletion of the misplaced copy: the p50 and p99 of each day's relocations and quarantines (of a week or month: the highest daily figures).",
		W:    900}
	x := h.Summary.Exposure
	first, last, ok := periodOf(h)
	if len(x.ByDay) > 0 {
		d0, _ := time.Parse(time.DateOnly, x.ByDay[0].Day)
		d1, _ := time.Parse(time.DateOnly, x.ByDay[len(x.ByDay)-1].Day)
		if !ok || d0.Before(first) {
			first = d0
		}
		if !ok || d1.After(last) {
			last = d1
		}
	}
	if x.Count == 0 || first.IsZero() {
		c.Empty = "No measured exposure in this report (no relocation or quarantine with a write time)."
		return c
	}
	// timeBins sums; these are maxima, so each bin takes its days' highest.
	bins, unit := timeBins(nil, first, last, nil, 2)
	maxV := 0
	for _, d := range x.ByDay {
		t, _ := time.Parse(time.DateOnly, d.Day)
		i := binOf(bins, t)
		if i < 0 {
			continue
		}
		b := &bins[i]
		b.values[0] = max(b.values[0], int(d.P50MS))
		b.values[1] = max(b.values[1], int(d.P99MS))
		maxV = max(maxV, b.values[0], b.values[1])
	}
	names, colors := []string{"p50", "p99"}, []string{colorRemediated, colorOpen}
	top := c.legend(70, 16, [][2]string{{colors[0], names[0]}, {colors[1], names[1]}}) + 10
	yLabel := func(v int) string { return FormatMS(int64(v)) }
	// Side by side, p50 then p99, each at least a pixel high.
	c.timeBars(70, top, bins, unit, maxV, 2, yLabel, func(b bin, x, w, base float64, height func(int) float64) {
		for k, v := range b.values {
			if v == 0 {
				continue
			}
			hgt := math.Max(height(v), 1)
			c.Rects = append(c.Rects, svgRect{X: f1(x + float64(k)*w/2), Y: f1(base - hgt), W: f1(w / 2), H: f1(hgt), Fill: colors[k],
				Title: fmt.Sprintf("%s %s: %s %s", unit, b.label, names[k], FormatMS(int64(v)))})
		}
	})
	return c
}
