package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/report/reporttest"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// big is a reports function over n synthetic entries.
func big(t *testing.T, n int) *reports.Handler {
	t.Helper()
	st := sqlitetest.Open(t)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if _, err := reporttest.Generate(context.Background(), st, n, start, 20*24*time.Hour, 3); err != nil {
		t.Fatal(err)
	}
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	return &reports.Handler{Ledger: st, Holds: st, Refs: refs, Now: func() time.Time { return start.Add(30 * 24 * time.Hour) },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

type page struct {
	Ledger     *struct{ Verified bool }
	Summary    *struct{ Entries int }
	Entries    []ledger.Entry
	NextCursor *string `json:"next_cursor"`
}

func TestPagesFollowCursors(t *testing.T) {
	h := big(t, 1500)
	cases := map[string]map[string]string{
		"all":         {},
		"filtered":    {"kind": "transfer,denial", "destination": "US"},
		"one chain":   {"region": "eu-west-1", "from": "2026-11-05", "to": "2026-11-12"},
		"no entries":  {"destination": "XX"},
		"big pages":   {"limit": "10000"},
		"small pages": {"limit": "7", "kind": "violation"},
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			full := map[string]string{}
			for k, v := range q {
				full[k] = v
			}
			full["limit"] = "10000"
			want := all(t, h, full)
			params := map[string]string{"limit": "250"}
			for k, v := range q {
				params[k] = v
			}
			got := []string{}
			for n := 0; ; n++ {
				resp := get(t, h, "/v1/report", params)
				if resp.StatusCode != 200 {
					t.Fatalf("page %d: expect 200, got %d %s", n, resp.StatusCode, resp.Body)
				}
				var p page
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
					t.Fatalf("page %d: expect JSON, got %v", n, err)
				}
				if first := params["cursor"] == ""; first != (p.Ledger != nil && p.Summary != nil) {
					t.Fatalf("page %d: expect the ledger and summary on the first page only", n)
				}
				if n == 0 && (!p.Ledger.Verified || p.Summary.Entries != len(want)) {
					t.Fatalf("expect a verified ledger and a summary of %d entries, got %+v %+v", len(want), p.Ledger, p.Summary)
				}
				for _, e := range p.Entries {
					got = append(got, e.ID)
				}
				if p.NextCursor == nil {
					if resp.Headers["X-Next-Cursor"] != "" || resp.Headers["Link"] != "" {
						t.Fatal("expect no next-page headers on the last page")
					}
					break
				}
				if resp.Headers["X-Next-Cursor"] != *p.NextCursor || !strings.Contains(resp.Headers["Link"], "cursor="+*p.NextCursor) {
					t.Fatalf("expect the cursor in X-Next-Cursor and Link, got %v", resp.Headers)
				}
				params["cursor"] = *p.NextCursor
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("expect the pages to hold every entry once (-want +got):\n%s", d)
			}
		})
	}
}

// all reads the entries of one big page.
func all(t *testing.T, h *reports.Handler, q map[string]string) []string {
	t.Helper()
	resp := get(t, h, "/v1/report", q)
	var p page
	json.Unmarshal([]byte(resp.Body), &p)
	if p.NextCursor != nil {
		t.Fatalf("expect one page for %v", q)
	}
	ids := []string{}
	for _, e := range p.Entries {
		ids = append(ids, e.ID)
	}
	return ids
}

func TestCSVPages(t *testing.T) {
	h := big(t, 600)
	want := all(t, h, map[string]string{"limit": "10000"})
	params := map[string]string{"format": "csv", "limit": "100"}
	got := []string{}
	for n := 0; n < 100; n++ {
		resp := get(t, h, "/v1/report", params)
		rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		if err != nil || resp.StatusCode != 200 || len(rows) == 0 || rows[0][0] != "seq" {
			t.Fatalf("page %d: expect 200 and a CSV with its header, got %d %v", n, resp.StatusCode, err)
		}
		for _, r := range rows[1:] {
			got = append(got, r[1])
		}
		next := resp.Headers["X-Next-Cursor"]
		if next == "" {
			break
		}
		if link := resp.Headers["Link"]; !strings.HasPrefix(link, "</v1/report?") || !strings.HasSuffix(link, `>; rel="next"`) ||
			!strings.Contains(link, "format=csv") || !strings.Contains(link, "limit=100") {
			t.Fatalf("expect a Link to the next page with the same parameters, got %q", link)
		}
		params["cursor"] = next
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("expect the CSV pages to hold every entry once (-want +got):\n%s", d)
	}
}

// A page stays under Lambda's 6 MB response limit whatever the limit.
func TestPageFitsALambdaResponse(t *testing.T) {
	h := big(t, 6000)
	resp := get(t, h, "/v1/report", map[string]string{"limit": "10000"})
	var p page
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(resp)
	if len(whole) >= 6<<20 || p.NextCursor == nil || len(p.Entries) >= 6000 || len(p.Entries) < 1000 {
		t.Fatalf("expect a page under 6 MB with a next cursor, got %d bytes, %d entries", len(whole), len(p.Entries))
	}
}

func TestBadPageParameters(t *testing.T) {
	h := big(t, 50)
	resp := get(t, h, "/v1/report", map[string]string{"limit": "5", "kind": "transfer"})
	var p page
	json.Unmarshal([]byte(resp.Body), &p)
	if p.NextCursor == nil {
		t.Fatal("expect a next cursor")
	}
	cases := map[string]struct {
		q    map[string]string
		body string
	}{
		"limit zero":              {map[string]string{"limit": "0"}, "limit="},
		"limit too big":           {map[string]string{"limit": "10001"}, "limit="},
		"limit not a int":         {map[string]string{"limit": "ten"}, "limit="},
		"cursor garbage":          {map[string]string{"cursor": "!!"}, "cursor"},
		"cursor of other filters": {map[string]string{"cursor": *p.NextCursor, "kind": "denial"}, "other filters"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := get(t, h, "/v1/report", c.q)
			if resp.StatusCode != 400 || !strings.Contains(resp.Body, c.body) {
				t.Fatalf("expect 400 naming %q, got %d %s", c.body, resp.StatusCode, resp.Body)
			}
		})
	}
}

func TestHTMLPage(t *testing.T) {
	h := big(t, 300)
	resp := get(t, h, "/v1/report", map[string]string{"format": "html", "limit": "20"})
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "text/html; charset=utf-8" || strings.Count(resp.Body, "<svg") != 3 ||
		resp.Headers["X-Next-Cursor"] == "" || strings.Contains(resp.Body, "http") {
		t.Fatalf("expect a self-contained HTML page with 3 charts and a next cursor, got %d %v", resp.StatusCode, resp.Headers)
	}
}
