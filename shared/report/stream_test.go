package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/report/reporttest"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func emptyStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	st := sqlitetest.Open(t)
	return st
}

// generated is a store holding n synthetic entries over November 2026.
func generated(t *testing.T, n int) *sqlitestore.Store {
	t.Helper()
	st := emptyStore(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := reporttest.Generate(context.Background(), st, n, start, 30*24*time.Hour, 7); err != nil {
		t.Fatal(err)
	}
	return st
}

// Render streams what Build holds in memory: the same bytes in every format,
// and for JSON the bytes encoding/json writes for the whole report.
func TestRenderMatchesBuild(t *testing.T) {
	st := generated(t, 3000)
	ctx := context.Background()
	queries := map[string]report.Query{
		"all":          {},
		"period":       {From: time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		"violations":   {Kinds: []ledger.Kind{ledger.KindViolation}},
		"destination":  {Destination: "US", Region: "eu-west-1"},
		"nothing":      {Destination: "XX"},
		"transfer+scc": {Kinds: []ledger.Kind{ledger.KindTransfer}, Mechanism: "scc"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			rep, err := report.Build(ctx, st, q, at)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.MarshalIndent(rep, "", "  ")
			for _, format := range report.Formats {
				var built, streamed bytes.Buffer
				if err := rep.Write(&built, format); err != nil {
					t.Fatal(err)
				}
				res, err := report.Render(ctx, st, q, format, &streamed, report.Options{Now: at})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(built.String(), streamed.String()); d != "" {
					t.Fatalf("%s: expect Render to write what Build does (-built +streamed):\n%.2000s", format, d)
				}
				if format != "html" && res.Entries != len(rep.Entries) {
					t.Fatalf("%s: expect %d entries written, got %d", format, len(rep.Entries), res.Entries)
				}
				if format == "json" {
					if d := cmp.Diff(string(want)+"\n", streamed.String()); d != "" {
						t.Fatalf("expect the JSON encoding/json writes (-want +got):\n%.2000s", d)
					}
				}
			}
		})
	}
}

// firstWrite records how many entries a source had yielded when the first
// byte reached the writer.
type firstWrite struct {
	yielded *int
	at      int
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.at < 0 && len(p) > 0 {
		w.at = *w.yielded
	}
	return len(p), nil
}

// The writers write as they read: output starts long before the last entry.
func TestWritersStream(t *testing.T) {
	const n = 5000
	entries := make([]ledger.Entry, n)
	for i := range entries {
		entries[i] = ledger.Entry{Seq: int64(i + 1), ID: fmt.Sprint("e", i), Time: at.Add(time.Duration(i) * time.Second), Kind: ledger.KindTransfer,
			Region: "eu-central-1", ToCountry: "US", Importer: "Acme Inc", Mechanism: "scc", Reference: strings.Repeat("r", 100)}
	}
	h := report.NewHeader(report.Query{}, at)
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			yielded := 0
			w := &firstWrite{yielded: &yielded, at: -1}
			src := func(fn func(*ledger.Entry) error) error {
				for i := range entries {
					yielded++
					if err := fn(&entries[i]); err != nil {
						return err
					}
				}
				return nil
			}
			if err := report.Write(w, format, h, src); err != nil {
				t.Fatal(err)
			}
			if w.at < 0 || w.at >= n {
				t.Fatalf("expect output before the last of %d entries, got the first byte after %d", n, w.at)
			}
		})
	}
}

func TestScanPages(t *testing.T) {
	st := generated(t, 2500)
	ctx := context.Background()
	q := report.Query{Kinds: []ledger.Kind{ledger.KindTransfer, ledger.KindDeletion}, Region: "eu-central-1"}
	var all []string
	if _, more, err := report.Scan(ctx, st, q, report.Page{}, func(e *ledger.Entry) error {
		all = append(all, e.ID)
		return nil
	}); err != nil || more {
		t.Fatalf("expect one full scan, got more=%v err=%v", more, err)
	}
	if len(all) < 500 {
		t.Fatalf("expect hundreds of entries, got %d", len(all))
	}
	cases := map[string]report.Page{
		"limit":        {Limit: 97},
		"max scan":     {MaxScan: 130},
		"both":         {Limit: 1000, MaxScan: 1001},
		"limit of one": {Limit: 1},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 3000 {
					t.Fatal("expect the pages to end")
				}
				after, err := report.ParseCursor(cursor, q)
				if err != nil {
					t.Fatal(err)
				}
				p.After = after
				n := 0
				next, more, err := report.Scan(ctx, st, q, p, func(e *ledger.Entry) error {
					got = append(got, e.ID)
					n++
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if p.Limit > 0 && n > p.Limit {
					t.Fatalf("expect at most %d entries a page, got %d", p.Limit, n)
				}
				if !more {
					break
				}
				cursor = next.Cursor(q)
			}
			if d := cmp.Diff(all, got); d != "" {
				t.Fatalf("expect the pages to hold every entry once, in order (-want +got):\n%s", d)
			}
		})
	}
	t.Run("stop", func(t *testing.T) {
		var got []string
		var after report.Position
		for {
			n := 0
			next, more, err := report.Scan(ctx, st, q, report.Page{After: after}, func(e *ledger.Entry) error {
				if n == 33 {
					return report.ErrStop // this one goes to the next page
				}
				n++
				got = append(got, e.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
			after = next
		}
		if d := cmp.Diff(all, got); d != "" {
			t.Fatalf("expect ErrStop to leave the entry for the next page (-want +got):\n%s", d)
		}
	})
}

func TestCursor(t *testing.T) {
	q := report.Query{Kinds: []ledger.Kind{ledger.KindTransfer}}
	p := report.Position{Time: at, Region: "eu-west-1", Seq: 42}
	got, err := report.ParseCursor(p.Cursor(q), q)
	if err != nil || !got.Time.Equal(p.Time) || got.Region != p.Region || got.Seq != p.Seq {
		t.Fatalf("expect %+v back, got %+v (%v)", p, got, err)
	}
	cases := map[string]struct {
		token string
		q     report.Query
	}{
		"other filters": {p.Cursor(q), report.Query{Kinds: []ledger.Kind{ledger.KindDenial}}},
		"other subject": {p.Cursor(q), report.Query{Kinds: q.Kinds, SubjectRef: "sub_x"}},
		"not base64":    {"%%%", q},
		"not JSON":      {"aGVsbG8", q},
		"no position":   {"e30", q},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := report.ParseCursor(c.token, c.q); !errors.Is(err, report.ErrBadQuery) {
				t.Fatalf("expect ErrBadQuery, got %v", err)
			}
		})
	}
}

// violationsLedger: violations and what followed them.
func violationsLedger(t *testing.T) *sqlitestore.Store {
	st := emptyStore(t)
	e := func(id string, min int, kind ledger.Kind, region, record, decision string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at.Add(time.Duration(min) * time.Minute), Kind: kind, Region: region, Source: "users",
			Record: record, Decision: decision, ToRegion: "eu-central-1", ToCountry: "DE", Actor: "test"}
	}
	for region, es := range map[string][]ledger.Entry{
		"us-east-1": {
			e("v1", 0, ledger.KindViolation, "us-east-1", "rec_a", "relocate"),
			e("r1", 1, ledger.KindRelocation, "us-east-1", "rec_a", "relocated"), // fixes v1
			e("v2", 2, ledger.KindViolation, "us-east-1", "rec_b", "quarantine"), // open
			e("v3", 3, ledger.KindViolation, "us-east-1", "rec_c", "alert"),      // alert only
			e("r0", 4, ledger.KindRelocation, "us-east-1", "rec_d", "routed"),    // preventive, no violation
			e("v4", 5, ledger.KindViolation, "us-east-1", "rec_e", "relocate"),   // fixed after the period
			e("r4", 24*60+5, ledger.KindRelocation, "us-east-1", "rec_e", "relocated"),
			e("v5", 6, ledger.KindViolation, "us-east-1", "rec_f", "relocate"), // a relocation elsewhere does not fix it
			e("v6", 7, ledger.KindViolation, "us-east-1", "rec_g", "relocate"), // a routed entry does not fix it
			e("r6", 8, ledger.KindRelocation, "us-east-1", "rec_g", "routed"),
		},
		"eu-west-1": {e("r5", 9, ledger.KindRelocation, "eu-west-1", "rec_f", "relocated")},
	} {
		if _, err := st.Append(context.Background(), region, es); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestViolationsRemediation(t *testing.T) {
	st := violationsLedger(t)
	day := report.Query{From: at, To: at.Add(12 * time.Hour)}
	cases := map[string]struct {
		q      report.Query
		status map[int64]string // by violation seq
		counts [4]int           // total, remediated, open, alert only
	}{
		"the day": {day,
			map[int64]string{1: "remediated", 3: "open", 4: "alert", 6: "remediated", 8: "open", 9: "open"}, [4]int{6, 2, 3, 1}},
		"violations only": {report.Query{From: day.From, To: day.To, Kinds: []ledger.Kind{ledger.KindViolation}},
			map[int64]string{1: "remediated", 3: "open", 4: "alert", 6: "remediated", 8: "open", 9: "open"}, [4]int{6, 2, 3, 1}},
		"all time": {report.Query{},
			map[int64]string{1: "remediated", 3: "open", 4: "alert", 6: "remediated", 8: "open", 9: "open"}, [4]int{6, 2, 3, 1}},
		"transfers only": {report.Query{Kinds: []ledger.Kind{ledger.KindTransfer}}, map[int64]string{}, [4]int{}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, err := report.Summarize(context.Background(), st, c.q, report.Options{Now: at})
			if err != nil {
				t.Fatal(err)
			}
			v := h.Summary.Violations
			got := map[int64]string{}
			for _, x := range v.List {
				got[x.Seq] = x.Status
				if (x.Status == report.ViolationRemediated) != (x.Remediation != nil) {
					t.Errorf("expect a remediation exactly when remediated, got %+v", x)
				}
			}
			// seq of us-east-1 entries: v1=1 r1=2 v2=3 v3=4 r0=5 v4=6 r4=7 v5=8 v6=9 r6=10
			if d := cmp.Diff(c.status, got); d != "" {
				t.Errorf("statuses by seq (-want +got):\n%s", d)
			}
			if gotCounts := [4]int{v.Total, v.Remediated, v.Open, v.AlertOnly}; gotCounts != c.counts {
				t.Errorf("expect total, remediated, open, alert only %v, got %v", c.counts, gotCounts)
			}
		})
	}
	h, _ := report.Summarize(context.Background(), st, day, report.Options{Now: at})
	for _, x := range h.Summary.Violations.List {
		if x.Seq == 6 && (x.Remediation == nil || x.Remediation.Seq != 7 || x.Remediation.Decision != "relocated") {
			t.Fatalf("expect v4 remediated by seq 7 the next day, got %+v", x.Remediation)
		}
	}
}

type holds []catalog.Hold

func (h holds) ListHolds(context.Context) ([]catalog.Hold, error) { return h, nil }

type refs struct{}

func (refs) Record(source string, key record.Key) string { return "rec_" + source + "_ref" }

func TestHoldsNameRecordsByReference(t *testing.T) {
	st := emptyStore(t)
	key, _ := record.ParseKey(`{"pk":"USER#u-0042"}`)
	hs := holds{{ID: "h1", SubjectRef: "sub_1", Reason: "litigation", SetAt: at}, {ID: "h2", Source: "users", Key: key, Reason: "audit", SetAt: at}}
	h, err := report.Summarize(context.Background(), st, report.Query{}, report.Options{Now: at, Holds: hs, Refs: refs{}})
	if err != nil {
		t.Fatal(err)
	}
	want := []report.Hold{{ID: "h1", SubjectRef: "sub_1", Reason: "litigation", SetAt: at}, {ID: "h2", Source: "users", Record: "rec_users_ref", Reason: "audit", SetAt: at}}
	if d := cmp.Diff(want, h.Holds); d != "" {
		t.Fatalf("holds (-want +got):\n%s", d)
	}
	var buf bytes.Buffer
	for _, f := range report.Formats {
		report.Write(&buf, f, h, report.Entries(nil))
	}
	if strings.Contains(buf.String(), "u-0042") {
		t.Fatal("expect no record key in the clear in any format")
	}
}

// hostile is a ledger whose free-text fields try to break out of the HTML.
func hostile(t *testing.T) *sqlitestore.Store {
	st := emptyStore(t)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	_, err := st.Append(context.Background(), "eu-central-1", []ledger.Entry{
		{ID: "1", Time: at, Kind: ledger.KindTransfer, Region: "eu-central-1", ToCountry: `U"S`, Importer: evil, Mechanism: "scc", Reference: "javascript:alert(1)", Decision: "allowed", Actor: "x"},
		{ID: "2", Time: at.Add(time.Hour), Kind: ledger.KindDenial, Region: "eu-central-1", ToCountry: "IN", Importer: "B & Co", Mechanism: "none", Reference: evil, Decision: "denied", Actor: "x"},
		{ID: "3", Time: at.Add(2 * time.Hour), Kind: ledger.KindViolation, Region: "eu-central-1", Source: evil, Record: "rec_1", Decision: "relocate", Actor: "x"},
		{ID: "4", Time: at.Add(25 * time.Hour), Kind: ledger.KindDeletion, Region: "eu-central-1", Category: evil, Reference: "GDPR Art. 17 erasure request x", Decision: "deleted", Actor: "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestHTML(t *testing.T) {
	st := hostile(t)
	var buf bytes.Buffer
	hs := holds{{ID: "<b>hold</b>", SubjectRef: "sub_1", Reason: `</td><script>x</script>`, SetAt: at}}
	if _, err := report.Render(context.Background(), st, report.Query{}, "html", &buf, report.Options{Now: at, Holds: hs, Refs: refs{}}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	t.Run("self-contained", func(t *testing.T) {
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`(?i)https?://`), regexp.MustCompile(`(?i)<script`), regexp.MustCompile(`(?i)<link`),
			regexp.MustCompile(`(?i)<[a-z][^>]*\s(src|href|on[a-z]+)=`), regexp.MustCompile(`(?i)@import`), regexp.MustCompile(`(?i)url\(`)} {
			if loc := bad.FindStringIndex(page); loc != nil {
				t.Errorf("expect no %s, found ...%s...", bad, page[max(0, loc[0]-60):min(len(page), loc[1]+60)])
			}
		}
	})
	t.Run("points nowhere outside", func(t *testing.T) {
		// The page is evidence an auditor reads alone: no reference to a
		// document they do not have.
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`DESIGN`), regexp.MustCompile(`(?i)\bsection [0-9]`)} {
			if loc := bad.FindStringIndex(page); loc != nil {
				t.Errorf("expect no %s, found ...%s...", bad, page[max(0, loc[0]-60):min(len(page), loc[1]+60)])
			}
		}
	})
	t.Run("escaped", func(t *testing.T) {
		for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "B &amp; Co", "U&#34;S", "&lt;b&gt;hold&lt;/b&gt;"} {
			if !strings.Contains(page, want) {
				t.Errorf("expect %q in the page", want)
			}
		}
		if strings.Contains(page, "<img") || strings.Contains(page, "<b>hold") {
			t.Error("expect no markup from the ledger or holds")
		}
	})
	t.Run("charts", func(t *testing.T) {
		charts := svgCharts(t, page)
		for _, id := range []string{"flows", "violations", "deletions"} {
			c, ok := charts[id]
			if !ok {
				t.Fatalf("expect an SVG chart in figure %q, got %v", id, charts)
			}
			if c.rects < 2 || c.texts < 2 || c.title == "" {
				t.Errorf("%s: expect bars, labels and a title, got %+v", id, c)
			}
		}
	})
}

type svgChart struct {
	rects, texts int
	title        string
}

// svgCharts parses the page (HTML, read leniently as XML) and counts the
// shapes of the SVG in each figure.
func svgCharts(t *testing.T, page string) map[string]svgChart {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(page))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	out := map[string]svgChart{}
	figure, inSVG, inTitle := "", false, false
	var c svgChart
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("expect well-formed markup: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "figure":
				for _, a := range tok.Attr {
					if a.Name.Local == "id" {
						figure = a.Value
					}
				}
			case "svg":
				inSVG, c = true, svgChart{}
				for _, a := range tok.Attr {
					if a.Name.Local == "role" && a.Value != "img" {
						t.Errorf("expect role=img on every chart")
					}
				}
			case "rect":
				c.rects++
			case "text":
				c.texts++
			case "title":
				inTitle = inSVG && c.title == ""
			}
		case xml.CharData:
			if inTitle {
				c.title += string(tok)
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "title":
				inTitle = false
			case "svg":
				inSVG = false
				out[figure] = c
			}
		}
	}
	return out
}

// HTML lists a bounded number of entries, and says so.
func TestHTMLCapsEntries(t *testing.T) {
	st := generated(t, 300)
	var buf bytes.Buffer
	h, err := report.Summarize(context.Background(), st, report.Query{}, report.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	src := func(fn func(*ledger.Entry) error) error {
		_, _, err := report.Scan(context.Background(), st, report.Query{}, report.Page{}, fn)
		return err
	}
	if err := report.WriteHTML(&buf, h, src, report.HTMLOptions{MaxEntries: 50, More: "next page: cursor xyz"}); err != nil {
		t.Fatal(err)
	}
	_, entries, _ := strings.Cut(buf.String(), "<h2>Entries</h2>")
	if rows := strings.Count(entries, `<tr><td class="t">`); rows != 50 {
		t.Fatalf("expect 50 entry rows, got %d", rows)
	}
	for _, want := range []string{"50 of 300 entries listed", "at most 50", "next page: cursor xyz"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("expect %q", want)
		}
	}
}

// The charts over time bin by day, week or month as the period grows.
func TestChartBins(t *testing.T) {
	cases := map[string]struct {
		days int
		unit string
		bars int // of the violations chart, at most
	}{
		"a month":   {30, "per day", 31},
		"a quarter": {90, "per week", 15},
		"two years": {730, "per month", 25},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			q := report.Query{From: from, To: from.AddDate(0, 0, c.days)}
			h := report.NewHeader(q, at)
			for d := 0; d < c.days; d += 3 {
				h.Summary.Timeline = append(h.Summary.Timeline, report.Day{Day: from.AddDate(0, 0, d).Format(time.DateOnly), Violations: 2, Remediated: 1, OpenViolations: 1, Deletions: 1})
			}
			var buf bytes.Buffer
			if err := report.WriteHTML(&buf, h, report.Entries(nil), report.HTMLOptions{}); err != nil {
				t.Fatal(err)
			}
			_, fig, _ := strings.Cut(buf.String(), `<figure id="violations">`)
			fig, _, _ = strings.Cut(fig, "</figure>")
			if !strings.Contains(fig, c.unit) {
				t.Fatalf("expect bars %s", c.unit)
			}
			// Two series per bar (remediated and open), plus 3 legend swatches.
			if bars := (strings.Count(fig, "<rect") - 3) / 2; bars < 2 || bars > c.bars {
				t.Fatalf("expect 2 to %d bars, got %d", c.bars, bars)
			}
		})
	}
}

// The summary, made chain by chain as the chains are verified, agrees with
// the entries the report lists.
func TestSummaryAgreesWithEntries(t *testing.T) {
	st := generated(t, 4000)
	queries := map[string]report.Query{
		"all":        {},
		"period":     {From: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)},
		"one chain":  {Region: "us-east-1"},
		"violations": {Kinds: []ledger.Kind{ledger.KindViolation, ledger.KindDeletion}},
		"US":         {Destination: "US"},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			rep, err := report.Build(context.Background(), st, q, at)
			if err != nil {
				t.Fatal(err)
			}
			s := rep.Summary
			want := map[ledger.Kind]int{}
			days := map[string]int{}
			for _, e := range rep.Entries {
				want[e.Kind]++
				days[e.Time.Format(time.DateOnly)]++
			}
			for _, k := range ledger.Kinds {
				if s.ByKind[k] != want[k] {
					t.Errorf("%s: expect %d, got %d", k, want[k], s.ByKind[k])
				}
			}
			allowed, denied := 0, 0
			for _, r := range s.Register {
				allowed += r.Allowed
				denied += r.Denied
			}
			gotDays := map[string]int{}
			for _, d := range s.Timeline {
				gotDays[d.Day] = d.Transfers + d.Denials + d.Violations + d.Relocations + d.Deletions
				if d.Remediated+d.OpenViolations > d.Violations {
					t.Errorf("%s: more remediated and open than violations: %+v", d.Day, d)
				}
			}
			v := s.Violations
			checks := map[string][2]int{
				"entries":            {len(rep.Entries), s.Entries},
				"register allowed":   {want[ledger.KindTransfer], allowed},
				"register denied":    {want[ledger.KindDenial], denied},
				"violations":         {want[ledger.KindViolation], v.Total},
				"violation statuses": {v.Total, v.Remediated + v.Open + v.AlertOnly},
				"violations listed":  {min(v.Total, report.MaxListedViolations), len(v.List)},
				"deletions":          {want[ledger.KindDeletion], s.Deletions.Total},
				"days with entries":  {len(days), len(gotDays)},
			}
			for what, c := range checks {
				if c[0] != c[1] {
					t.Errorf("%s: expect %d, got %d", what, c[0], c[1])
				}
			}
			if d := cmp.Diff(days, gotDays); d != "" {
				t.Errorf("timeline (-entries +summary):\n%s", d)
			}
			if want[ledger.KindViolation] > 0 && v.Remediated == 0 {
				t.Error("expect some violations remediated")
			}
		})
	}
}
