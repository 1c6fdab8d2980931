package sqlitestore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// catalogRows is every column of every catalog row, in key order.
func catalogRows(t *testing.T, s *Store) [][]string {
	t.Helper()
	rows, err := s.db.Query(`SELECT ` + entryCols + ` FROM catalog ORDER BY region, source, k`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		r := make([]string, 16)
		ptrs := make([]any, 16)
		for i := range r {
			ptrs[i] = &r[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPutEntriesInGroupsIsEntryByEntry: a batch whose entries share their
// columns in several interleaved groups (violations among compliant
// records, an erasure, a reapplied one; and in the mixed batch two regions
// and two sources), more than a chunk of rows, with keys given twice, is
// stored as the same entries put one at a time, in order.
func TestPutEntriesInGroupsIsEntryByEntry(t *testing.T) {
	for name, mixed := range map[string]bool{"one region and source": false, "mixed": true} {
		t.Run(name, func(t *testing.T) {
			entries := groupedEntries(mixed)
			ctx := context.Background()
			grouped, one := testStore(t), testStore(t)
			if err := grouped.PutEntries(ctx, entries); err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := one.PutEntries(ctx, []catalog.Entry{e}); err != nil {
					t.Fatal(err)
				}
			}
			want := catalogRows(t, one)
			distinct := map[string]bool{}
			for _, e := range entries {
				distinct[e.Region+" "+e.Source+" "+e.Key.String()] = true
			}
			if len(want) != len(distinct) || len(distinct) >= len(entries) {
				t.Fatalf("expect %d rows for %d entries, got %d", len(distinct), len(entries), len(want))
			}
			if diff := cmp.Diff(want, catalogRows(t, grouped)); diff != "" {
				t.Errorf("expect the batch stored as entry by entry (-want +got):\n%s", diff)
			}
			if groups := entryGroups(entries); len(groups) < 3 {
				t.Errorf("expect the entries in several groups, got %d", len(groups))
			}
		})
	}
}

// groupedEntries is a batch of 3 chunks and 7 entries over 200 keys, a
// tenth misplaced, some erased, and when mixed, some of another region or
// source; one tagging time for a run of five entries.
func groupedEntries(mixed bool) []catalog.Entry {
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 123456789, time.UTC)
	var entries []catalog.Entry
	for i := range 3*chunkRows + 7 {
		e := catalog.Entry{Region: "us-east-1", Source: "users", SourceKind: catalog.SourceTable,
			Key: record.Key{"pk": fmt.Sprintf("USER#%d", i%(2*chunkRows))}, SubjectRef: fmt.Sprintf("sub_%d", i),
			Category: "profile", OriginRegion: "us-east-1", HomeRegion: "us-east-1", Jurisdiction: "US",
			Status: record.StatusCompliant, PolicyVersion: "v1", TaggedAt: t0.Add(time.Duration(i/5) * time.Millisecond)}
		if i%3 == 0 {
			e.Contract = fmt.Sprintf("acct-%d", i)
		}
		if i%4 != 0 {
			e.RetainUntil = t0.AddDate(0, 0, i)
		}
		switch {
		case i%10 == 1:
			e.HomeRegion, e.Jurisdiction, e.Status = "eu-central-1", "EU", record.StatusViolation
		case i%17 == 2:
			e.Erasure, e.Reapplied = "dsr-1", i%2 == 0
		case mixed && i%23 == 3:
			e.Region, e.OriginRegion, e.HomeRegion = "eu-central-1", "eu-central-1", "eu-central-1"
		case mixed && i%29 == 4:
			e.Source, e.SourceKind = "uploads", catalog.SourceBucket
		}
		entries = append(entries, e)
	}
	return entries
}

func testStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
