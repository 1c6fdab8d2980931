package sqlitestore_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// BenchmarkBackfillWrites is the embedded store's share of a backfill from
// an export, alone: per page of 1,000 items, in one transaction, the items
// loaded with their tags (ReplayWrites) and their catalog entries
// (PutEntries), each with its contract (the users table's account_id), as
// shared/local's BenchmarkBackfill writes them, with no decoding, deciding
// or keyed references. Its items/s is the ceiling of
// BenchmarkBackfill at_home on this store (issue 16's goal: 50,000): as a
// bulk load (the catalog's due, subject and contract indexes dropped before
// the first page and built after the last, timed), and record by record
// (indexed).
func BenchmarkBackfillWrites(b *testing.B) {
	for _, bulk := range []bool{true, false} {
		name := "bulk"
		if !bulk {
			name = "indexed"
		}
		b.Run(name, func(b *testing.B) { benchmarkBackfillWrites(b, bulk) })
	}
}

func benchmarkBackfillWrites(b *testing.B, bulk bool) {
	const page, pages = 1000, 50
	ctx := context.Background()
	tagged := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ref := func(prefix string, i int) string { // keyed references look random
		h := sha256.Sum256(fmt.Appendf(nil, "%s%d", prefix, i))
		return prefix + hex.EncodeToString(h[:16])
	}
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		st := sqlitetest.Open(b)
		b.StartTimer()
		t0 := time.Now()
		if bulk {
			if err := st.DropCatalogIndexes(ctx); err != nil {
				b.Fatal(err)
			}
		}
		for p := range pages {
			writes := make([]sqlitestore.ReplayedWrite, page)
			entries := make([]catalog.Entry, page)
			for i := range page {
				n := p*page + i
				key := record.Key{"user_id": fmt.Sprintf("user-%08d", n)}
				writes[i] = sqlitestore.ReplayedWrite{Region: "us-east-1", Table: "users", Key: key, Item: fmt.Appendf(nil,
					`{"country":"US","created_at":"2024-%02d-%02dT10:00:00Z","email":"user%d@example.com","name":"User %d","plan":"pro",`+
						`"residency":{"home_region":"us-east-1","jurisdiction":"US","origin_region":"us-east-1","policy_version":"2026-11-01",`+
						`"retain_until":"2029-%02d-%02dT10:00:00Z","status":"compliant","tagged_at":"2026-11-22T12:00:00Z"},"user_id":"user-%08d"}`,
					n%12+1, n%28+1, n, n, n%12+1, n%28+1, n)}
				entries[i] = catalog.Entry{Region: "us-east-1", Source: "users", SourceKind: catalog.SourceTable, Key: key,
					SubjectRef: ref("sub_", n), Category: "profile", Contract: fmt.Sprintf("acct-%d", n%97), OriginRegion: "us-east-1", HomeRegion: "us-east-1", Jurisdiction: "US",
					Status: "compliant", PolicyVersion: "2026-11-01", TaggedAt: tagged, RetainUntil: tagged.AddDate(3, 0, n%365)}
			}
			err := st.Atomic(ctx, func(ctx context.Context) error {
				if err := st.ReplayWrites(ctx, writes); err != nil {
					return err
				}
				return st.PutEntries(ctx, entries)
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if bulk {
			if err := st.BuildCatalogIndexes(ctx); err != nil {
				b.Fatal(err)
			}
		}
		elapsed += time.Since(t0)
		b.StopTimer()
		if n, err := st.CountEntries(ctx, "us-east-1"); err != nil || n != page*pages {
			b.Fatalf("expect %d entries, got %d, %v", page*pages, n, err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(page*pages*b.N)/elapsed.Seconds(), "items/s")
}
