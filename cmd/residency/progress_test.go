package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/local"
)

// fakeMeter is a meter drawing as on a terminal into a buffer, on a clock
// the test moves.
func fakeMeter(tty bool) (*meter, *bytes.Buffer, *time.Time) {
	var b bytes.Buffer
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	m := newMeter(&b, true)
	m.on = tty
	m.now = func() time.Time { return now }
	return m, &b, &now
}

func TestMeterRateLimited(t *testing.T) {
	m, b, now := fakeMeter(true)
	m.start("sweep", "items", 1000, 0)
	// Before the delay: short work draws nothing.
	*now = now.Add(100 * time.Millisecond)
	m.set(10, "")
	if b.Len() != 0 {
		t.Fatalf("expect nothing before %s, got %q", m.delay, b.String())
	}
	// 100 updates within one interval: one line.
	*now = now.Add(900 * time.Millisecond) // 1s in
	for i := range 100 {
		m.set(100+i, "")
	}
	if m.draws != 1 {
		t.Fatalf("expect 1 draw within %s, got %d: %q", m.interval, m.draws, b.String())
	}
	want := "\r\033[Ksweep: 100 of 1000 items, 100 items/s, 9s left"
	if b.String() != want {
		t.Fatalf("expect %q, got %q", want, b.String())
	}
	// After an interval, a redraw with the figures then; 4 a second at most.
	for range 20 {
		*now = now.Add(50 * time.Millisecond)
		m.add(10)
	}
	if m.draws != 5 {
		t.Fatalf("expect 1+4 draws over 1s of updates every 50ms, got %d", m.draws)
	}
	if !strings.HasSuffix(b.String(), "\r\033[Ksweep: 399 of 1000 items, 200 items/s, 3s left") {
		t.Fatalf("expect the latest figures, got %q", b.String())
	}
	// The final line stays, with a newline.
	*now = now.Add(time.Second)
	m.set(1000, "3 catalog entries read")
	m.finish()
	if !strings.HasSuffix(b.String(), "\r\033[Ksweep: 1000 of 1000 items (3 catalog entries read), 333 items/s, done in 3s\n") {
		t.Fatalf("expect the final line, got %q", b.String())
	}
}

func TestMeterSilent(t *testing.T) {
	// Not a terminal: nothing at all, however long the work.
	m, b, now := fakeMeter(false)
	m.start("report", "ledger entries read", 0, 0)
	for range 100 {
		*now = now.Add(time.Second)
		m.add(1000)
	}
	m.clear()
	m.finish()
	if b.Len() != 0 {
		t.Fatalf("expect nothing without a terminal, got %q", b.String())
	}
	// Short work on a terminal: no final line either.
	m, b, _ = fakeMeter(true)
	m.start("sweep", "regions", 3, 0)
	m.set(3, "")
	m.finish()
	if b.Len() != 0 {
		t.Fatalf("expect nothing for work shorter than the delay, got %q", b.String())
	}
	// A file, a pipe: not terminals; --no-progress: off on a terminal too.
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newMeter(f, true).on || newMeter(&bytes.Buffer{}, true).on {
		t.Fatal("expect a file and a buffer not to count as terminals")
	}
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		if !newMeter(tty, true).on || newMeter(tty, false).on {
			t.Error("expect /dev/tty to draw, and not with --no-progress")
		}
	}
}

func TestMeterUnknownTotalAndResumed(t *testing.T) {
	m, b, now := fakeMeter(true)
	m.start("backfill eu-west-1/users", "items", 0, 500) // 500 done before
	*now = now.Add(2 * time.Second)
	m.set(700, "2 tagged")
	if want := "\r\033[Kbackfill eu-west-1/users: 700 items (2 tagged), 100 items/s"; b.String() != want {
		t.Fatalf("expect %q (no total, no time left; the rate of this run), got %q", want, b.String())
	}
	m.clear()
	if !strings.HasSuffix(b.String(), "\r\033[K") || m.drawn {
		t.Fatalf("expect the line erased, got %q", b.String())
	}
}

// A bulk load's index build, after the last page, is not silent: in the
// progress line on a terminal, else a line at its start and one with its
// time at its end; nothing with --no-progress.
func TestBackfillProgressIndexing(t *testing.T) {
	page := local.BackfillProgress{Region: "us-east-1", Table: "users", Expected: 2000}
	page.Total.Read, page.Total.Tagged = 2000, 2000
	for _, c := range []struct {
		name     string
		tty      bool
		wanted   bool
		contains []string
	}{
		{"terminal", true, true, []string{"\r\033[Kbackfill us-east-1/users: 2000 of 2000 items (building the catalog's indexes)"}},
		{"lines", false, true, []string{"backfill us-east-1/users: building the catalog's indexes\n",
			"backfill us-east-1/users: building the catalog's indexes: done in 1.5s\n"}},
		{"no progress", false, false, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, b, now := fakeMeter(c.tty)
			m.delay = 0
			p := &progress{w: b, m: m, lines: c.wanted && !c.tty, every: 1, now: func() time.Time { return *now }}
			if !c.wanted {
				m.on = false
			}
			p.start()
			p.page(page)
			before := b.Len()
			*now = now.Add(time.Second) // the meter draws again after its interval
			p.indexing(local.BackfillIndexing{Region: "us-east-1", Table: "users"})
			p.indexing(local.BackfillIndexing{Region: "us-east-1", Table: "users", Done: true, Took: 1500 * time.Millisecond})
			got := b.String()[before:]
			for _, w := range c.contains {
				if !strings.Contains(got, w) {
					t.Errorf("expect %q, got %q", w, got)
				}
			}
			if len(c.contains) == 0 && got != "" {
				t.Errorf("expect nothing, got %q", got)
			}
		})
	}
}
