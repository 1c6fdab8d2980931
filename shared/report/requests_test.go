package report_test

import (
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/report"
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
