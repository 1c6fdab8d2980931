package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// exposureStore holds, in two regions over two days, relocations and
// quarantines with exposed_ms, one backfilled relocation without it, a
// failed attempt and an ingest routed home (neither an exposure), and one
// relocation after the report's range.
func exposureStore(t *testing.T) *sqlitestore.Store {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	n := 0
	rel := func(region string, day, ms int, decision string) ledger.Entry {
		n++
		e := ledger.Entry{ID: "rel-" + region + "-" + string(rune('a'+n)), Time: at.Add(time.Duration(day)*24*time.Hour + time.Duration(n)*time.Minute),
			Kind: ledger.KindRelocation, Region: region, Decision: decision, Actor: "router"}
		if ms >= 0 {
			v := int64(ms)
			e.ExposedMS = &v
		}
		return e
	}
	// us-east-1, day 0: 1..10 s; day 1: 100 s (quarantine), a backfilled
	// one and a failed attempt.
	var us []ledger.Entry
	for i := 1; i <= 10; i++ {
		us = append(us, rel("us-east-1", 0, i*1000, "relocated"))
	}
	us = append(us, rel("us-east-1", 1, 100000, "quarantined"), rel("us-east-1", 1, -1, "relocated"), rel("us-east-1", 1, 5, ledger.DecisionFailed))
	us = append(us, rel("us-east-1", 5, 999999, "relocated")) // after the range
	eu := []ledger.Entry{rel("ap-south-1", 1, 250, "relocated"), rel("ap-south-1", 1, -1, "routed")}
	if _, err := st.Append(ctx, "us-east-1", us); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "ap-south-1", eu); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestExposureSummary(t *testing.T) {
	ctx := context.Background()
	q := report.Query{From: at, To: at.Add(2 * 24 * time.Hour)}
	h, err := report.Summarize(ctx, exposureStore(t), q, report.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	x := func(n int, p50, p95, p99, mx int64) report.Exposure {
		return report.Exposure{Count: n, P50MS: p50, P95MS: p95, P99MS: p99, MaxMS: mx}
	}
	// All 12: 250, 1000..10000, 100000; nearest rank 50% is the 6th, 95%
	// and 99% the 12th.
	want := report.ExposureSummary{
		Exposure:   x(12, 5000, 100000, 100000, 100000),
		Unmeasured: 1,
		ByRegion: []report.RegionExposure{
			{Region: "ap-south-1", Exposure: x(1, 250, 250, 250, 250)},
			{Region: "us-east-1", Exposure: x(11, 6000, 100000, 100000, 100000)},
		},
		ByDay: []report.DayExposure{
			{Day: "2026-11-21", Exposure: x(10, 5000, 10000, 10000, 10000)},
			{Day: "2026-11-22", Exposure: x(2, 250, 100000, 100000, 100000)},
		},
	}
	if d := cmp.Diff(want, h.Summary.Exposure); d != "" {
		t.Fatalf("summary.exposure (-want +got):\n%s", d)
	}

	var js bytes.Buffer
	if err := report.Write(&js, "json", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary struct {
			Exposure map[string]any `json:"exposure"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]float64{"count": 12, "p50_ms": 5000, "p95_ms": 100000, "p99_ms": 100000, "max_ms": 100000, "unmeasured": 1} {
		if doc.Summary.Exposure[k] != v {
			t.Errorf("expect summary.exposure.%s %v in the JSON, got %v", k, v, doc.Summary.Exposure[k])
		}
	}
	if byDay, _ := doc.Summary.Exposure["by_day"].([]any); len(byDay) != 2 {
		t.Errorf("expect by_day with 2 days in the JSON, got %v", doc.Summary.Exposure["by_day"])
	}

	var tbl bytes.Buffer
	if err := report.Write(&tbl, "table", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"over 12 relocations and quarantines (1 more without a write time", "all         12     5.0 s   1m40s", "ap-south-1  1      250 ms", "2026-11-22  2"} {
		if !strings.Contains(tbl.String(), line) {
			t.Errorf("expect the table to have %q, got\n%s", line, tbl.String())
		}
	}

	var page bytes.Buffer
	if err := report.Write(&page, "html", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, s := range []string{`<figure id="exposure">`, `<table id="exposure-table">`, `<td class="nw">us-east-1</td><td class="num">11</td><td class="num">6.0 s</td>`,
		"day Nov 22: p99 1m40s", "day Nov 21: p50 5.0 s"} {
		if !strings.Contains(html, s) {
			t.Errorf("expect the HTML to have %q", s)
		}
	}
}

func TestExposureEmpty(t *testing.T) {
	h, err := report.Summarize(context.Background(), store(t), report.Query{}, report.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	if x := h.Summary.Exposure; x.Count != 0 || x.ByRegion == nil || x.ByDay == nil {
		t.Fatalf("expect an empty exposure with empty lists, got %+v", x)
	}
	var page, tbl bytes.Buffer
	report.Write(&page, "html", h, report.Entries(nil))
	report.Write(&tbl, "table", h, report.Entries(nil))
	if !strings.Contains(page.String(), "No measured exposure in this report") {
		t.Error("expect the HTML to say there is no measured exposure")
	}
	if strings.Contains(tbl.String(), "Exposure:") {
		t.Errorf("expect no exposure section in a table without relocations, got\n%s", tbl.String())
	}
}

func TestFormatMS(t *testing.T) {
	cases := map[int64]string{0: "0 ms", 999: "999 ms", 1000: "1.0 s", 12345: "12.3 s", 245000: "4m05s", 93780000: "26h03m"}
	for ms, want := range cases {
		if got := report.FormatMS(ms); got != want {
			t.Errorf("expect FormatMS(%d) = %q, got %q", ms, want, got)
		}
	}
}
