package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// A chart is an inline SVG figure, drawn by the HTML template from plain
// shapes: every text in it is escaped (report.templ).
type chart struct {
	ID, Title, Desc string
	W, H            int
	Rects           []svgRect
	Texts           []svgText
	Lines           []svgLine
	Empty           string // shown instead of the figure when there is no data
}

type svgRect struct {
	X, Y, W, H float64
	Fill       string
	Title      string // the tooltip
}

type svgText struct {
	X, Y   float64
	Anchor string // start | middle | end
	Class  string
	S      string
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// Colours (Okabe-Ito, readable with colour blindness).
var mechanismColors = map[string]string{
	"adequacy": "#009E73", "dpf": "#56B4E9", "scc": "#0072B2", "bcr": "#CC79A7", "derogation": "#E69F00", "denied": "#D55E00",
}

const (
	colorOther      = "#999999"
	colorRemediated = "#009E73"
	colorAlert      = "#E69F00"
	colorOpen       = "#D55E00"
	colorRetention  = "#0072B2"
	colorErasure    = "#CC79A7"
)

var mechanismOrder = []string{"adequacy", "dpf", "scc", "bcr", "derogation", "denied"}

func colorOf(mechanism string) string {
	if c, ok := mechanismColors[mechanism]; ok {
		return c
	}
	return colorOther
}

func f1(v float64) float64 { return math.Round(v*10) / 10 }

// legend draws a row of swatches and labels at y from x, and returns the y
// below it.
func (c *chart) legend(x, y float64, items [][2]string) float64 {
	for _, it := range items {
		c.Rects = append(c.Rects, svgRect{X: x, Y: y - 9, W: 10, H: 10, Fill: it[0], Title: it[1]})
		c.Texts = append(c.Texts, svgText{X: x + 14, Y: y, Anchor: "start", Class: "legend", S: it[1]})
		x += 24 + float64(7*len([]rune(it[1])))
	}
	return y + 14
}

// flowsChart: per destination country, the transfers by mechanism and the
// denials, as horizontal stacked bars.
func flowsChart(reg []RegisterRow) chart {
	c := chart{ID: "flows", Title: "Transfers by destination and mechanism",
		Desc: "Transfers allowed per destination country, by legal mechanism, and the transfers denied."}
	type dest struct {
		country string
		by      map[string]int
		total   int
	}
	byCountry := map[string]*dest{}
	seen := map[string]bool{}
	for _, r := range reg {
		d := byCountry[r.ToCountry]
		if d == nil {
			d = &dest{country: orDash(r.ToCountry), by: map[string]int{}}
			byCountry[r.ToCountry] = d
		}
		if r.Allowed > 0 {
			d.by[r.Mechanism] += r.Allowed
			seen[r.Mechanism] = true
		}
		if r.Denied > 0 {
			d.by["denied"] += r.Denied
			seen["denied"] = true
		}
		d.total += r.Allowed + r.Denied
	}
	var dests []*dest
	for _, d := range byCountry {
		dests = append(dests, d)
	}
	slices.SortFunc(dests, func(a, b *dest) int { return cmp.Or(cmp.Compare(b.total, a.total), cmp.Compare(a.country, b.country)) })
	const maxRows = 12
	if len(dests) > maxRows {
		other := &dest{country: "other", by: map[string]int{}}
		for _, d := range dests[maxRows-1:] {
			for m, n := range d.by {
				other.by[m] += n
			}
			other.total += d.total
		}
		dests = append(dests[:maxRows-1], other)
	}
	var mechs []string
	for _, m := range mechanismOrder {
		if seen[m] {
			mechs = append(mechs, m)
		}
	}
	var extra []string
	for m := range seen {
		if !slices.Contains(mechanismOrder, m) {
			extra = append(extra, m)
		}
	}
	slices.Sort(extra)
	mechs = append(mechs, extra...)

	c.W = 900
	if len(dests) == 0 {
		c.Empty = "No transfers or denials in this report."
		return c
	}
	var items [][2]string
	for _, m := range mechs {
		items = append(items, [2]string{colorOf(m), m})
	}
	top := c.legend(70, 16, items) + 6
	const rowH, barH, left, right = 28.0, 18.0, 70.0, 90.0
	maxTotal := 0
	for _, d := range dests {
		maxTotal = max(maxTotal, d.total)
	}
	scale := (float64(c.W) - left - right) / float64(maxTotal)
	for i, d := range dests {
		y := top + float64(i)*rowH
		c.Texts = append(c.Texts, svgText{X: left - 8, Y: f1(y + barH - 4), Anchor: "end", Class: "label", S: d.country})
		x := left
		for _, m := range mechs {
			n := d.by[m]
			if n == 0 {
				continue
			}
			w := math.Max(float64(n)*scale, 1)
			c.Rects = append(c.Rects, svgRect{X: f1(x), Y: f1(y), W: f1(w), H: barH, Fill: colorOf(m), Title: fmt.Sprintf("%s, %s: %d", d.country, m, n)})
			x += w
		}
		c.Texts = append(c.Texts, svgText{X: f1(x + 6), Y: f1(y + barH - 4), Anchor: "start", Class: "value", S: strconv.Itoa(d.total)})
	}
	c.H = int(top + float64(len(dests))*rowH + 4)
	return c
}

// bin is one bar of a chart over time.
type bin struct {
	label  string
	from   time.Time
	values []int
}

// timeBins groups the days of the timeline into at most about 60 bars: days,
// weeks (from Monday) or months, over [first, last].
func timeBins(days []Day, first, last time.Time, series func(Day) []int, n int) ([]bin, string) {
	span := last.Sub(first).Hours() / 24
	unit := "day"
	start := func(t time.Time) time.Time { return t }
	next := func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	label := func(t time.Time) string { return t.Format("Jan 2") }
	switch {
	case span > 62*7:
		unit = "month"
		start = func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
		label = func(t time.Time) string { return t.Format("Jan 2006") }
	case span > 62:
		unit = "week"
		start = func(t time.Time) time.Time { return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)) }
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	}
	var bins []bin
	for t := start(first); !t.After(last); t = next(t) {
		bins = append(bins, bin{label: label(t), from: t, values: make([]int, n)})
	}
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d.Day)
		if err != nil || len(bins) == 0 {
			continue
		}
		i := binOf(bins, t)
		if i < 0 {
			continue
		}
		for k, v := range series(d) {
			bins[i].values[k] += v
		}
	}
	return bins, unit
}

// niceMax rounds m up to 1, 2 or 5 times a power of ten.
func niceMax(m int) int {
	if m <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(m))))
	for _, f := range []float64{1, 2, 5, 10} {
		if v := f * p; v >= float64(m) {
			return int(v)
		}
	}
	return m
}

// seriesChart draws stacked vertical bars over time.
func seriesChart(id, title, desc, empty string, h *Header, series func(Day) []int, names, colors []string) chart {
	c := chart{ID: id, Title: title, Desc: desc, W: 900}
	first, last, ok := periodOf(h)
	total := 0
	for _, d := range h.Summary.Timeline {
		for _, v := range series(d) {
			total += v
		}
	}
	if !ok || total == 0 {
		c.Empty = empty
		return c
	}
	bins, unit := timeBins(h.Summary.Timeline, first, last, series, len(names))
	var items [][2]string
	for i, n := range names {
		items = append(items, [2]string{colors[i], n})
	}
	top := c.legend(60, 16, items) + 10
	maxV := 0
	for _, b := range bins {
		s := 0
		for _, v := range b.values {
			s += v
		}
		maxV = max(maxV, s)
	}
	c.timeBars(60, top, bins, unit, maxV, 1, strconv.Itoa, func(b bin, x, w, base float64, height func(int) float64) {
		y := base
		for k, v := range b.values {
			if v == 0 {
				continue
			}
			hgt := height(v)
			y -= hgt
			c.Rects = append(c.Rects, svgRect{X: f1(x), Y: f1(y), W: f1(w), H: f1(hgt), Fill: colors[k],
				Title: fmt.Sprintf("%s %s: %d %s", unit, b.label, v, names[k])})
		}
	})
	return c
}

// timeBars draws bins as bars over a time axis below top: the grid at 0,
// half and the top of the scale (labelled by yLabel) for bars up to maxV,
// each bin's bars by bars (given its slot's x and bar width, the axis and
// the height of a value), every few bins' labels and the unit. Bars are at
// least minW wide.
func (c *chart) timeBars(left, top float64, bins []bin, unit string, maxV int, minW float64, yLabel func(int) string,
	bars func(b bin, x, w, base float64, height func(int) float64)) {
	const right, plotH, bottom = 20.0, 180.0, 40.0
	ymax := niceMax(maxV)
	plotW := float64(c.W) - left - right
	base := top + plotH
	for _, g := range []int{0, ymax / 2, ymax} {
		y := f1(base - float64(g)/float64(ymax)*plotH)
		c.Lines = append(c.Lines, svgLine{X1: left, Y1: y, X2: left + plotW, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: left - 6, Y: y + 4, Anchor: "end", Class: "axis", S: yLabel(g)})
	}
	slot := plotW / float64(len(bins))
	barW := math.Min(math.Max(slot*0.8, minW), 56)
	every := max(1, (len(bins)+7)/8)
	height := func(v int) float64 { return float64(v) / float64(ymax) * plotH }
	for i, b := range bins {
		x := left + float64(i)*slot + (slot-barW)/2
		bars(b, x, barW, base, height)
		if i%every == 0 {
			c.Texts = append(c.Texts, svgText{X: f1(x + barW/2), Y: base + 16, Anchor: "middle", Class: "axis", S: b.label})
		}
	}
	c.Texts = append(c.Texts, svgText{X: left + plotW, Y: base + 34, Anchor: "end", Class: "axis", S: "per " + unit})
	c.H = int(base + bottom)
}

// periodOf returns the first and last day a report's charts cover: its
// bounds, else its timeline's.
func periodOf(h *Header) (time.Time, time.Time, bool) {
	tl := h.Summary.Timeline
	var first, last time.Time
	if len(tl) > 0 {
		first, _ = time.Parse(time.DateOnly, tl[0].Day)
		last, _ = time.Parse(time.DateOnly, tl[len(tl)-1].Day)
	}
	if t, err := time.Parse(time.RFC3339, h.From); err == nil {
		first = t.UTC().Truncate(24 * time.Hour)
	}
	if t, err := time.Parse(time.RFC3339, h.To); err == nil {
		last = t.UTC().Add(-time.Nanosecond).Truncate(24 * time.Hour)
	}
	if first.IsZero() || last.IsZero() || last.Before(first) {
		return first, last, false
	}
	if last.Sub(first) > 20*366*24*time.Hour { // an open bound far from the data: chart the data
		if len(tl) > 0 {
			first, _ = time.Parse(time.DateOnly, tl[0].Day)
			last, _ = time.Parse(time.DateOnly, tl[len(tl)-1].Day)
		}
	}
	return first, last, true
}

func violationsChart(h *Header) chart {
	return seriesChart("violations", "Violations over time",
		"Residency violations per period: remediated by a relocation, alert only, and still open.",
		"No residency violations in this report.", h,
		func(d Day) []int {
			return []int{d.Remediated, max(d.Violations-d.Remediated-d.OpenViolations, 0), d.OpenViolations}
		},
		[]string{"remediated", "alert only", "open"}, []string{colorRemediated, colorAlert, colorOpen})
}

func deletionsChart(h *Header) chart {
	return seriesChart("deletions", "Deletions over time",
		"Deletion receipts per period: retention expiry and GDPR Art. 17 erasure requests.",
		"No deletions in this report.", h,
		func(d Day) []int { return []int{d.Deletions - d.Erasures, d.Erasures} },
		[]string{"retention and other", "erasure (Art. 17)"}, []string{colorRetention, colorErasure})
}

// binOf is the index of the bin of bins (in time order) that holds t, or -1
// when t is before the first.
func binOf(bins []bin, t time.Time) int {
	i, _ := slices.BinarySearchFunc(bins, t, func(b bin, t time.Time) int {
		if b.from.After(t) {
			return 1
		}
		return -1
	})
	return i - 1
}
