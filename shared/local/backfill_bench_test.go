package local_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/local"
)

// BenchmarkBackfill backfills a 50,000-item export of the users table in
// us-east-1 on a file store, as `residency backfill EXPORT_DIR` does: each
// page of the data files is loaded into the table, tagged, catalogued and
// checkpointed in one transaction; violations go to the router, which
// relocates them home within the page. It reports the export's items per
// second from the first line read to the last checkpoint (items/s), for
// every item at home, and for 10% EU subjects misplaced in us-east-1 with
// 5% past their retention. The rescan sub-benchmark backfills the loaded
// table again: every tag is current, nothing is written. The machine's
// cores are shared, so it also reports the process's CPU time per item
// (cpu-µs/item, user and system, the store's background checkpoints
// included), which others' load does not inflate.
func BenchmarkBackfill(b *testing.B) {
	for _, bc := range []struct {
		name   string
		spec   exportSpec
		rescan bool
	}{
		{"at_home", exportSpec{items: 50000}, false},
		{"misplaced=10%/expired=5%", exportSpec{items: 50000, misplaced: true, expired: true}, false},
		{"rescan_at_home", exportSpec{items: 50000}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			root := writeExport(b, bc.spec)
			misplaced, _ := bc.spec.counts()
			ctx := context.Background()
			var elapsed, cpu time.Duration
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, s := benchStack(b, time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
				e, err := s.OpenExport(root)
				if err != nil {
					b.Fatal(err)
				}
				if bc.rescan {
					if _, err := s.BackfillExport(ctx, e, local.BackfillOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				t0, c0 := time.Now(), cpuTime(b)
				var res local.BackfillSummary
				if bc.rescan {
					res, err = s.Backfill(ctx, "us-east-1", "users", local.BackfillOptions{})
				} else {
					res, err = s.BackfillExport(ctx, e, local.BackfillOptions{})
				}
				if err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(t0)
				cpu += cpuTime(b) - c0
				b.StopTimer()
				switch {
				case bc.rescan && (res.Items != bc.spec.items || res.Unchanged != bc.spec.items || res.Tagged != 0):
					b.Fatalf("expect every tag current on a rescan, got %+v", res)
				case !bc.rescan && (res.Items != bc.spec.items || res.Tagged != bc.spec.items || res.Violations != misplaced || res.Relocated != misplaced):
					b.Fatalf("expect %d tagged, %d violations relocated, got %+v", bc.spec.items, misplaced, res)
				}
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(bc.spec.items*b.N)/elapsed.Seconds(), "items/s")
			b.ReportMetric(float64(cpu.Microseconds())/float64(bc.spec.items*b.N), "cpu-µs/item")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
