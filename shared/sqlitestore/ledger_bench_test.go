package sqlitestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// BenchmarkAppend appends drafts to one chain on the embedded store, a batch
// per transaction: 10 is the ledger queue's batch on AWS (an SQS FIFO
// trigger delivers at most 10 messages), 1000 a local drain's. Goal (issue
// #4): 20,000 entries/s.
func BenchmarkAppend(b *testing.B) {
	for _, batch := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st := sqlitetest.Open(b)
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

// BenchmarkProve makes inclusion and consistency proofs and tree heads in a
// chain of a million entries on the embedded store: each reads O(log n)
// stored hashes (one query). Goal (issue 18): well under a millisecond.
func BenchmarkProve(b *testing.B) {
	st := sqlitetest.Open(b)
	ctx := context.Background()
	const size, batch = 1_000_000, 10_000
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	drafts := make([]ledger.Entry, batch)
	for n := 0; n < size; {
		for i := range drafts {
			n++
			drafts[i] = ledger.Entry{ID: fmt.Sprintf("tra_%028d", n), Time: at, Kind: ledger.KindTransfer, Region: "eu-central-1",
				Record: "rec_0123456789abcdef0123456789abcdef", Decision: "allowed", Actor: "router"}
		}
		if _, err := st.Append(ctx, "eu-central-1", drafts); err != nil {
			b.Fatal(err)
		}
	}
	tree := ledger.Tree{Nodes: st}
	b.Run("inclusion", func(b *testing.B) {
		b.ReportAllocs()
		seq := int64(1)
		for b.Loop() {
			seq = seq*7919%size + 1
			if _, err := tree.ProveEntry(ctx, "eu-central-1", seq, size); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("consistency", func(b *testing.B) {
		b.ReportAllocs()
		old := int64(1)
		for b.Loop() {
			old = old*7919%(size-1) + 1
			if _, err := tree.ProveConsistency(ctx, "eu-central-1", old, size); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("root", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tree.Root(ctx, "eu-central-1", size); err != nil {
				b.Fatal(err)
			}
		}
	})
}
