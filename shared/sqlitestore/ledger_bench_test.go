package sqlitestore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// BenchmarkAppend appends drafts to one chain on the embedded store, a batch
// per transaction: 10 is the ledger queue's batch on AWS (an SQS FIFO
// trigger delivers at most 10 messages), 1000 a local drain's. Goal (issue
// #4): 20,000 entries/s.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st, err := sqlitestore.Open(filepath.Join(b.TempDir(), "bench.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
			drafts := make([]ledger.Entry, batch)
			n := 0
			for b.Loop() {
				for i := range drafts {
					n++
					drafts[i] = ledger.Entry{ID: fmt.Sprintf("tra_%032d", n), Time: at.Add(time.Duration(n) * time.Millisecond),
						Kind: ledger.KindTransfer, Region: "eu-central-1", Source: "users", Record: "rec_0123456789abcdef0123456789abcdef",
						SubjectRef: "sub_0123456789abcdef0123456789abcdef", Category: "events", FromRegion: "eu-central-1",
						FromCountry: "DE", ToRegion: "us-east-1", ToCountry: "US", Importer: "Acme Inc", Mechanism: "scc",
						Reference: "scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)", Decision: "allowed", PolicyVersion: "2026-11-01", Actor: "router"}
				}
				if _, err := st.Append(ctx, "eu-central-1", drafts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
