package report_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/report/reporttest"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// benchLedger is a store with a synthetic ledger of n entries over 2026.
// RESIDENCY_BENCH_DB names a store made by scripts/genledger to use instead
// (it is not modified), e.g. the 1,000,000 entries of make report-1m.
func benchLedger(b *testing.B, n int) *sqlitestore.Store {
	b.Helper()
	path := os.Getenv("RESIDENCY_BENCH_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "bench.db")
	}
	st, err := sqlitestore.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if os.Getenv("RESIDENCY_BENCH_DB") == "" {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if _, err := reporttest.Generate(context.Background(), st, n, start, 365*24*time.Hour, 1); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// peakHeap samples the heap in use while it runs, and returns the highest
// value seen, in MB.
func peakHeap() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if v := ms.HeapInuse + ms.StackInuse; v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() float64 {
		close(done)
		wg.Wait()
		return float64(peak.Load()) / (1 << 20)
	}
}

// BenchmarkRender streams a report over a synthetic ledger (100,000 entries,
// RESIDENCY_BENCH_ENTRIES to change it, or RESIDENCY_BENCH_DB to read a
// store scripts/genledger filled) in each format, to io.Discard, and reports
// the ledger entries covered per second and the peak heap. The HTML format
// lists MaxHTMLEntries of them; its charts cover all.
func BenchmarkRender(b *testing.B) {
	n := 100000
	if s := os.Getenv("RESIDENCY_BENCH_ENTRIES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("RESIDENCY_BENCH_ENTRIES=%q: %v", s, err)
		}
	}
	st := benchLedger(b, n)
	now := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, format := range []string{"csv", "json", "html", "table"} {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			runtime.GC()
			stop := peakHeap()
			var ledgerSize int64
			for b.Loop() {
				res, err := report.Render(context.Background(), st, report.Query{}, format, io.Discard, report.Options{Now: now, Holds: st})
				if err != nil {
					b.Fatal(err)
				}
				ledgerSize = res.Header.Ledger.Entries
			}
			b.ReportMetric(stop(), "peak-heap-MB")
			b.ReportMetric(float64(ledgerSize)*float64(b.N)/b.Elapsed().Seconds(), "ledger-entries/s")
		})
	}
}
