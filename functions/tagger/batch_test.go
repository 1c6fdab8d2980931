package tagger

import (
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/record"
)

// formatNow gives record.FormatTime of every time it is given, its cache
// of one second notwithstanding: within a second, across one, back in time.
func TestFormatNow(t *testing.T) {
	var b batch
	start := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{0, 400 * time.Millisecond, 999 * time.Millisecond, time.Second, 1500 * time.Millisecond, -time.Second, 59 * time.Minute} {
		now := start.Add(d)
		if got, want := b.formatNow(now), record.FormatTime(now); got != want {
			t.Errorf("formatNow(%s) = %q, want %q", now.Format(time.RFC3339Nano), got, want)
		}
	}
	if got := b.formatNow(time.Time{}); got != "" {
		t.Errorf("formatNow(zero) = %q, want \"\"", got)
	}
	if got, want := b.formatNow(start.In(time.FixedZone("CET", 3600))), "2026-11-20T12:00:00Z"; got != want {
		t.Errorf("formatNow in another zone = %q, want %q", got, want)
	}
}
