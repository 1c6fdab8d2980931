package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// seedDue writes n tagged and catalogued records of eu-central-1's users
// table, as the tagger leaves them, every one of them due before at. Every
// 1000th subject is under a legal hold.
func seedDue(tb testing.TB, st *sqlitestore.Store, n int, at time.Time) (held int) {
	tb.Helper()
	ctx := context.Background()
	var writes []sqlitestore.ReplayedWrite
	var entries []catalog.Entry
	for i := range n {
		until := at.Add(-time.Duration(1+i%(30*24)) * time.Hour)
		id := fmt.Sprintf("u-%07d", i)
		k := record.Key{"pk": "USER#" + id, "sk": "PROFILE"}
		tag := record.Tag{OriginRegion: "eu-central-1", Jurisdiction: "DE", HomeRegion: "eu-central-1", Status: record.StatusCompliant,
			PolicyVersion: "2026-11-01", TaggedAt: "2025-11-01T00:00:00Z", RetainUntil: record.FormatTime(until)}
		tj, _ := json.Marshal(tag)
		item := fmt.Sprintf(`{"pk":"USER#%s","sk":"PROFILE","user_id":%q,"country":"DE","name":"Person %s","email":"%s@example.com",%q:%s}`,
			id, id, id, id, record.TagAttribute, tj)
		writes = append(writes, sqlitestore.ReplayedWrite{Region: "eu-central-1", Table: "users", Key: k, Item: []byte(item)})
		entries = append(entries, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k,
			SubjectRef: fmt.Sprintf("sub_%07d", i), Category: "profile", OriginRegion: "eu-central-1", HomeRegion: "eu-central-1",
			Jurisdiction: "DE", Status: record.StatusCompliant, PolicyVersion: "2026-11-01", TaggedAt: until.AddDate(-1, 0, 0), RetainUntil: until})
		if i%1000 == 999 {
			held++
			if err := st.SetHold(ctx, catalog.Hold{ID: "hold-" + id, SubjectRef: entries[i].SubjectRef, Reason: "litigation"}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := st.ReplayWrites(ctx, writes); err != nil {
		tb.Fatal(err)
	}
	if err := st.PutEntries(ctx, entries); err != nil {
		tb.Fatal(err)
	}
	return held
}

// BenchmarkSweep runs `residency sweep` over 100,000 due records on a file
// store: the retention function reads the due index, skips the held
// records, deletes the others, and the stack delivers what that caused (the
// deletion receipts to the ledger function, which appends them; the
// deletions' REMOVE stream records to the tagger). It reports deletions per
// second, end to end, and the catalog entries read per deleted record.
func BenchmarkSweep(b *testing.B) {
	const n = 100000
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	var elapsed time.Duration
	var read, deleted int
	for b.Loop() {
		b.StopTimer()
		st, err := sqlitestore.Open(filepath.Join(b.TempDir(), "sweep.db"))
		if err != nil {
			b.Fatal(err)
		}
		held := seedDue(b, st, n, at)
		s, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: func() time.Time { return at }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		rs, err := s.Sweep(ctx, at)
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(t0)
		b.StopTimer()
		var res struct{ due, deleted, held, read int }
		for _, r := range rs {
			res.due += r.Due
			res.deleted += r.Deleted
			res.held += r.Held
			res.read += r.ItemsRead
		}
		if res.due != n || res.held != held || res.deleted != n-held {
			b.Fatalf("expect %d due, %d held, %d deleted; got %+v", n, held, n-held, res)
		}
		if left, _ := st.CountItems(ctx, "eu-central-1", "users"); left != held {
			b.Fatalf("expect the %d held records left, got %d", held, left)
		}
		receipts := 0
		if err := st.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error {
			if e.Kind == ledger.KindDeletion {
				receipts++
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if receipts != n-held {
			b.Fatalf("expect %d deletion receipts in the ledger, got %d", n-held, receipts)
		}
		read += res.read
		deleted += res.deleted
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(deleted)/elapsed.Seconds(), "deletions/s")
	b.ReportMetric(float64(read)/float64(deleted), "items-read/deletion")
}
