package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

func TestDueDayIsOneCalendarMonth(t *testing.T) {
	for _, tc := range []struct{ received, due string }{
		{"2026-01-15T09:30:00Z", "2026-02-15"},
		{"2026-01-31T23:59:59Z", "2026-02-28"}, // no Feb 31: the month's last day
		{"2028-01-31T00:00:00Z", "2028-02-29"}, // a leap year
		{"2026-01-30T12:00:00Z", "2026-02-28"},
		{"2026-03-31T12:00:00Z", "2026-04-30"},
		{"2026-02-28T12:00:00Z", "2026-03-28"}, // not the month's end: Mar 28
		{"2026-12-31T12:00:00Z", "2027-01-31"}, // across the year
		{"2026-05-01T00:00:00Z", "2026-06-01"},
		{"2026-01-31T23:30:00-05:00", "2026-03-01"}, // Feb 1 in UTC
	} {
		at, err := time.Parse(time.RFC3339, tc.received)
		if err != nil {
			t.Fatal(err)
		}
		if got := report.DueDay(at).Format(time.DateOnly); got != tc.due {
			t.Errorf("received %s: expect due %s, got %s", tc.received, tc.due, got)
		}
	}
}

func TestRequestStatus(t *testing.T) {
	received := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC) // due 2026-02-28
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	for _, tc := range []struct {
		name      string
		completed *time.Time
		now       time.Time
		want      string
	}{
		{"completed early", at("2026-02-02T08:00:00Z"), *at("2026-03-10T00:00:00Z"), report.RequestOnTime},
		{"completed in the due day's last hour", at("2026-02-28T23:59:59Z"), *at("2026-03-10T00:00:00Z"), report.RequestOnTime},
		{"completed the day after", at("2026-03-01T00:00:00Z"), *at("2026-03-10T00:00:00Z"), report.RequestLate},
		{"open, due today", nil, *at("2026-02-28T23:00:00Z"), report.RequestOpen},
		{"open past due", nil, *at("2026-03-01T00:00:00Z"), report.RequestOverdue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := report.NewRequest("req-1", received, tc.completed, tc.now)
			if q.Status != tc.want || q.Due != "2026-02-28" {
				t.Fatalf("expect %s due 2026-02-28, got %+v", tc.want, q)
			}
			if (q.CompletedAt == nil) != (tc.completed == nil) {
				t.Fatalf("expect completed_at %v, got %v", tc.completed, q.CompletedAt)
			}
		})
	}
}

// The report's erasure requests come from the ledger: each region's
// request entry (received at, records to erase) and the receipts that name
// it. On time, late, open (a receipt still missing in one region) and
// overdue (a held record, no receipt), at --now; JSON fields, the table and
// the HTML page, both flagging the overdue one at the top.
func TestReportPutsErasureRequestsOnTheClock(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	day := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	request := func(region, id, at string, records int) ledger.Entry {
		return ledger.Entry{ID: "req-" + region + id, Time: day(at), Kind: ledger.KindDeletion, Region: region, SubjectRef: "sub_" + id,
			Reference: ledger.ErasureRequestReference(id, day(at).Add(-time.Hour), records), Decision: ledger.DecisionErasureRequested, Actor: "retention"}
	}
	n := 0
	receipt := func(region, id, at, suffix string) ledger.Entry {
		n++
		return ledger.Entry{ID: fmt.Sprint("rcpt-", n), Time: day(at), Kind: ledger.KindDeletion, Region: region, SubjectRef: "sub_" + id,
			Record: fmt.Sprint("rec_", n), Reference: ledger.ErasureReference(id) + suffix, Decision: "deleted", Actor: "retention"}
	}
	if _, err := st.Append(ctx, "eu-central-1", []ledger.Entry{
		request("eu-central-1", "dsr-late", "2026-09-01T10:00:00Z", 1),
		request("eu-central-1", "dsr-overdue", "2026-10-01T10:00:00Z", 1), // held: no receipt
		receipt("eu-central-1", "dsr-late", "2026-10-05T10:00:00Z", ""),   // due 2026-10-01
		request("eu-central-1", "dsr-ontime", "2026-11-01T10:00:00Z", 2),
		receipt("eu-central-1", "dsr-ontime", "2026-11-02T10:00:00Z", ""),
		receipt("eu-central-1", "dsr-ontime", "2026-11-02T11:00:00Z", "; 2 object versions deleted"),
		receipt("eu-central-1", "dsr-ontime", "2026-11-03T11:00:00Z", ", re-applied"), // a later write: not the request's
		request("eu-central-1", "dsr-open", "2026-11-20T10:00:00Z", 1),
		receipt("eu-central-1", "dsr-open", "2026-11-20T11:00:00Z", ""),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, "us-east-1", []ledger.Entry{
		request("us-east-1", "dsr-open", "2026-11-20T10:00:00Z", 2),
		receipt("us-east-1", "dsr-open", "2026-11-20T11:00:00Z", ""), // one of two
	}); err != nil {
		t.Fatal(err)
	}
	now := day("2026-11-22T12:00:00Z")
	h, err := report.Summarize(ctx, st, report.Query{}, report.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	completed := func(s string) *time.Time { v := day(s); return &v }
	want := report.Requests{Total: 4, Open: 1, Overdue: 1, Late: 1, List: []report.Request{
		{ID: "dsr-late", SubjectRef: "sub_dsr-late", ReceivedAt: day("2026-09-01T09:00:00Z"), Due: "2026-10-01", CompletedAt: completed("2026-10-05T10:00:00Z"),
			Status: report.RequestLate, Regions: []string{"eu-central-1"}, Records: 1, Erased: 1},
		{ID: "dsr-overdue", SubjectRef: "sub_dsr-overdue", ReceivedAt: day("2026-10-01T09:00:00Z"), Due: "2026-11-01",
			Status: report.RequestOverdue, Regions: []string{"eu-central-1"}, Records: 1, Erased: 0},
		{ID: "dsr-ontime", SubjectRef: "sub_dsr-ontime", ReceivedAt: day("2026-11-01T09:00:00Z"), Due: "2026-12-01", CompletedAt: completed("2026-11-02T11:00:00Z"),
			Status: report.RequestOnTime, Regions: []string{"eu-central-1"}, Records: 2, Erased: 2},
		{ID: "dsr-open", SubjectRef: "sub_dsr-open", ReceivedAt: day("2026-11-20T09:00:00Z"), Due: "2026-12-20",
			Status: report.RequestOpen, Regions: []string{"eu-central-1", "us-east-1"}, Records: 3, Erased: 2},
	}}
	if diff := cmp.Diff(want, h.Summary.Requests); diff != "" {
		t.Fatalf("summary.requests (-want +got):\n%s", diff)
	}
	if h.Summary.Deletions.Total != 6 || h.Summary.Deletions.ByDecision[ledger.DecisionErasureRequested] != 5 {
		t.Errorf("expect the request entries kept out of the deletions (6 receipts, 5 requests), got %+v", h.Summary.Deletions)
	}

	var js bytes.Buffer
	if err := report.Write(&js, "json", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary struct {
			Requests struct {
				List []map[string]any `json:"list"`
			} `json:"requests"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || len(doc.Summary.Requests.List) != 4 {
		t.Fatalf("expect 4 requests in the JSON, got %s (%v)", js.String(), err)
	}
	for _, f := range []string{"id", "received_at", "due", "completed_at", "status"} {
		if _, ok := doc.Summary.Requests.List[0][f]; !ok {
			t.Errorf("expect field %s in summary.requests.list, got %v", f, doc.Summary.Requests.List[0])
		}
	}
	if _, ok := doc.Summary.Requests.List[1]["completed_at"]; ok {
		t.Errorf("expect no completed_at on the overdue request, got %v", doc.Summary.Requests.List[1])
	}

	var table bytes.Buffer
	if err := report.Write(&table, "table", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(table.String(), "\n")
	if !strings.HasPrefix(lines[1], "OVERDUE: 1 erasure request(s)") || !strings.Contains(lines[1], "dsr-overdue (due 2026-11-01)") {
		t.Errorf("expect the overdue request flagged on the table's second line, got %q", lines[1])
	}
	if !regexp.MustCompile(`dsr-open\s+sub_dsr-open\s+2026-11-20T09:00:00Z\s+2026-12-20\s+-\s+open\s+eu-central-1,us-east-1\s+2 of 3`).MatchString(table.String()) {
		t.Errorf("expect dsr-open's row in the table, got\n%s", table.String())
	}

	var page bytes.Buffer
	if err := report.Write(&page, "html", h, report.Entries(nil)); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	flag, section := strings.Index(html, `id="requests-overdue"`), strings.Index(html, `id="requests"`)
	if flag < 0 || flag > strings.Index(html, "Ledger verification") || !strings.Contains(html[flag:], "<strong>dsr-overdue</strong> (due 2026-11-01)") {
		t.Errorf("expect the overdue flag at the top of the page, before the ledger verification")
	}
	if section < 0 || !strings.Contains(html[section:], "2026-10-05T10:00:00Z") || !strings.Contains(html[section:], "on time") {
		t.Errorf("expect the requests section with completion times and statuses")
	}

	// A period that starts after the overdue request was received: it is
	// not in it, and nothing is flagged.
	h2, _ := report.Summarize(ctx, st, report.Query{From: day("2026-11-01T00:00:00Z")}, report.Options{Now: now})
	page.Reset()
	report.Write(&page, "html", h2, report.Entries(nil))
	if h2.Summary.Requests.Total != 2 || strings.Contains(page.String(), `id="requests-overdue"`) {
		t.Errorf("expect the period from Nov 1 to hold 2 requests and no overdue flag, got %+v", h2.Summary.Requests)
	}
}

// Request ids are the controller's, and Erasure Requested takes any: one
// holding ',' and ';' completes with its receipts (a record's, an S3
// object's; not a re-applied one), and a request whose id is the start of
// it gets none of them.
func TestRequestIDsWithCommasAndSemicolons(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	const long, short = "DSR-7; part 2, EU", "DSR-7"
	n := 0
	region := "eu-central-1"
	entry := func(id, decision, reference string) ledger.Entry {
		n++
		return ledger.Entry{ID: fmt.Sprint("e-", n), Time: at.Add(time.Duration(n) * time.Hour), Kind: ledger.KindDeletion, Region: region,
			SubjectRef: "sub_" + id, Record: fmt.Sprint("rec_", n), Reference: reference, Decision: decision, Actor: "retention"}
	}
	request := func(id string, records int) ledger.Entry {
		return entry(id, ledger.DecisionErasureRequested, ledger.ErasureRequestReference(id, at, records))
	}
	receipt := func(id, suffix string) ledger.Entry { return entry(id, "deleted", ledger.ErasureReference(id)+suffix) }
	if _, err := st.Append(ctx, region, []ledger.Entry{
		request(short, 1),
		request(long, 2),
		receipt(long, ""),
		receipt(long, ", re-applied"), // a later write: not the request's
		receipt(long, "; 2 object versions deleted"),
	}); err != nil {
		t.Fatal(err)
	}
	region = "us-east-1"
	if _, err := st.Append(ctx, region, []ledger.Entry{request(long, 1), receipt(long, "")}); err != nil {
		t.Fatal(err)
	}
	now := at.Add(48 * time.Hour)
	h, err := report.Summarize(ctx, st, report.Query{}, report.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	completed := at.Add(7 * time.Hour) // us-east-1's receipt, the last
	want := []report.Request{
		{ID: short, SubjectRef: "sub_" + short, ReceivedAt: at, Due: "2026-12-02", Status: report.RequestOpen, Regions: []string{"eu-central-1"}, Records: 1},
		{ID: long, SubjectRef: "sub_" + long, ReceivedAt: at, Due: "2026-12-02", CompletedAt: &completed, Status: report.RequestOnTime,
			Regions: []string{"eu-central-1", "us-east-1"}, Records: 3, Erased: 3},
	}
	if diff := cmp.Diff(want, h.Summary.Requests.List); diff != "" {
		t.Fatalf("summary.requests.list (-want +got):\n%s", diff)
	}
	// FindRequest gives each as the summary lists it, in one read of the
	// chains that fn sees whole.
	for _, w := range want {
		seen := 0
		got, err := report.FindRequest(ctx, st, w.ID, now, func(*ledger.Entry) { seen++ })
		if err != nil || got == nil || seen != n {
			t.Fatalf("expect %s found in one read of %d entries, got %v (%v) after %d", w.ID, n, got, err, seen)
		}
		if diff := cmp.Diff(w, *got); diff != "" {
			t.Errorf("FindRequest(%q) (-want +got):\n%s", w.ID, diff)
		}
	}
	if got, err := report.FindRequest(ctx, st, "DSR", now, nil); got != nil || err != nil {
		t.Fatalf("expect no request DSR, got %v (%v)", got, err)
	}
}
