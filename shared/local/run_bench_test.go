package local_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/local/loadgen"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// BenchmarkRun drives the local pipeline as `residency run` does, on a file
// store: each stream batch file is applied to the embedded store's tables and
// delivered to its region's tagger; the tag writes come back through the
// stream (echoes, no write), violations go to the router, which relocates the
// misplaced records (whose copies and deletions go through the stream again),
// and the ledger function appends the violations and relocations. It reports
// the files' records per second (records/s), and all the stream records
// delivered to the tagger per second, as `residency run` counts them
// (stream-records/s).
func BenchmarkRun(b *testing.B) {
	for _, bc := range []struct{ records, batch, misplaced int }{{30000, 1000, -1}, {30000, 100, -1}, {20000, 1000, 10}, {20000, 1000, 100}} {
		name := fmt.Sprintf("records=%d/batch=%d", bc.records, bc.batch)
		if bc.misplaced >= 0 {
			name += fmt.Sprintf("/misplaced=%d%%", bc.misplaced)
		}
		b.Run(name, func(b *testing.B) {
			files := loadgen.StreamBatches(bc.records, bc.batch, bc.misplaced)
			ctx := context.Background()
			var elapsed time.Duration
			delivered := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, s := benchStack(b, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
				b.StartTimer()
				t0 := time.Now()
				for _, p := range local.PrepareAhead(files) {
					d, err := s.ReplayPrepared(ctx, p)
					if err != nil {
						b.Fatal(err)
					}
					if d.Failed != 0 || d.Error != "" {
						b.Fatalf("expect no failure, got %+v", d)
					}
				}
				elapsed += time.Since(t0)
				delivered += s.Stats.StreamRecords
				b.StopTimer()
				checkRun(b, st, bc.records)
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(bc.records*b.N)/elapsed.Seconds(), "records/s")
			// What `residency run` counts as stream records delivered to the
			// tagger: the files' records, and those of the writes they cause
			// (the tags' echoes, the relocations' copies and deletions).
			b.ReportMetric(float64(delivered)/elapsed.Seconds(), "stream-records/s")
		})
	}
}

// checkRun checks what a benchmark run did: every record tagged once in
// the catalog, every misplaced one relocated, the ledger complete.
func checkRun(b *testing.B, st *sqlitestore.Store, records int) {
	b.Helper()
	ctx := context.Background()
	total := 0
	for _, r := range []string{"eu-central-1", "eu-west-1", "us-east-1"} {
		n, err := st.CountEntries(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	if total != records {
		b.Fatalf("expect %d catalog entries, got %d", records, total)
	}
	if n, _ := st.PendingStream(ctx, 1); len(n) != 0 {
		b.Fatalf("expect the stream drained, %d pending", len(n))
	}
	kinds := map[ledger.Kind]int{}
	err := st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error { kinds[e.Kind]++; return nil })
	if err != nil {
		b.Fatal(err)
	}
	if kinds[ledger.KindViolation] == 0 || kinds[ledger.KindViolation] != kinds[ledger.KindRelocation] {
		b.Fatalf("expect as many relocations as violations, got %v", kinds)
	}
}
