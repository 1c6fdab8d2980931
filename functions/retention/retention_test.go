package retention_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// seed writes n records, tagged and catalogued; the first due of them are
// past their retain-until.
func seed(t testing.TB, st *sqlitestore.Store, n, due int) {
	ctx := context.Background()
	var es []catalog.Entry
	for i := range n {
		until := now.AddDate(0, 0, 1)
		if i < due {
			until = now.AddDate(0, 0, -1-i)
		}
		k := record.Key{"pk": fmt.Sprintf("USER#%04d", i), "sk": "PROFILE"}
		tag := record.Tag{Status: record.StatusCompliant, RetainUntil: record.FormatTime(until)}
		st.PutItem(ctx, "eu-central-1", "users", k, record.Item{"pk": k["pk"], "sk": "PROFILE", record.TagAttribute: tag.Map()}, false)
		es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k,
			SubjectRef: fmt.Sprintf("sub_%d", i), Category: "profile", TaggedAt: now, RetainUntil: until})
	}
	if err := st.PutEntries(ctx, es); err != nil {
		t.Fatal(err)
	}
}

func setup(t testing.TB) (*retention.Handler, *sqlitestore.Store, *fakes.Sink) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	sk := &fakes.Sink{}
	h := &retention.Handler{Region: "eu-central-1", Policy: policy.MustExample(), Refs: refs, Catalog: st, Holds: st, Contracts: st,
		Tables: st, Objects: st, Bus: sk, Ledger: sk, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), BatchSize: 10}
	return h, st, sk
}

func TestSweepDeletesDueUnheld(t *testing.T) {
	h, st, sk := setup(t)
	ctx := context.Background()
	seed(t, st, 50, 25)
	st.SetHold(ctx, catalog.Hold{ID: "h1", SubjectRef: "sub_3", Reason: "litigation"})
	st.SetHold(ctx, catalog.Hold{ID: "h2", Source: "users", Key: record.Key{"pk": "USER#0007", "sk": "PROFILE"}, Reason: "audit"})
	res, err := h.Sweep(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	want := retention.SweepResult{Region: "eu-central-1", Due: 25, Deleted: 23, Held: 2, Emitted: 23, ItemsRead: 25, Complete: true}
	if res != want {
		t.Fatalf("expect %+v, got %+v", want, res)
	}
	if n, _ := st.CountItems(ctx, "eu-central-1", "users"); n != 27 {
		t.Fatalf("expect 27 records left (25 not due + 2 held), got %d", n)
	}
	if len(sk.Entries) != 23 || sk.Entries[0].Kind != ledger.KindDeletion {
		t.Fatalf("expect 23 deletion receipts, got %d", len(sk.Entries))
	}
	// Released holds make the records due again.
	st.ReleaseHold(ctx, "h1")
	res, _ = h.Sweep(ctx, now)
	if res.Deleted != 1 || res.Held != 1 {
		t.Fatalf("expect 1 deleted and 1 still held after the release, got %+v", res)
	}
}

func TestSweepStopsAtDeadlineAndResumes(t *testing.T) {
	h, st, _ := setup(t)
	seed(t, st, 30, 30)
	h.Margin = time.Hour // every deadline below is "too close"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h.Sweep(ctx, now)
	if err != nil || res.Complete || res.Deleted != 0 {
		t.Fatalf("expect an incomplete sweep that deleted nothing, got %+v (%v)", res, err)
	}
	h.Margin = time.Second
	res, err = h.Sweep(ctx, now)
	if err != nil || !res.Complete || res.Deleted != 30 {
		t.Fatalf("expect the next sweep to finish all 30, got %+v (%v)", res, err)
	}
}

// failingTables fails the nth delete, as a crash mid-batch would.
type failingTables struct {
	*sqlitestore.Store
	n, calls int
}

func (f *failingTables) DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error {
	f.calls++
	if f.calls == f.n {
		return fmt.Errorf("throttled")
	}
	return f.Store.DeleteItem(ctx, region, table, key, retainUntil)
}

func TestCrashMidSweepDeletesNothingTwiceSkipsNothing(t *testing.T) {
	h, st, sk := setup(t)
	seed(t, st, 20, 20)
	h.Tables = &failingTables{Store: st, n: 8}
	if _, err := h.Sweep(context.Background(), now); err == nil {
		t.Fatal("expect the sweep to fail at the 8th delete")
	}
	h.Tables = st
	res, err := h.Sweep(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 13 {
		t.Fatalf("expect the resumed sweep to delete the 13 left, got %+v", res)
	}
	ids := map[string]bool{}
	for _, e := range sk.Entries {
		ids[e.ID] = true
	}
	if len(ids) != 20 {
		t.Fatalf("expect 20 distinct receipts, got %d", len(ids))
	}
	if n, _ := st.CountItems(context.Background(), "eu-central-1", "users"); n != 0 {
		t.Fatalf("expect every record deleted, %d left", n)
	}
}

func TestChangedRecordIsNotDeleted(t *testing.T) {
	h, st, _ := setup(t)
	ctx := context.Background()
	seed(t, st, 1, 1)
	// New activity: the tagger rewrote the tag with a later retain-until,
	// after the catalog entry was read as due.
	k := record.Key{"pk": "USER#0000", "sk": "PROFILE"}
	st.UpdateTag(ctx, "eu-central-1", "users", k, record.Tag{Status: record.StatusCompliant, RetainUntil: "2030-01-01T00:00:00Z"})
	res, err := h.Sweep(ctx, now)
	if err != nil || res.Deleted != 0 || res.Changed != 1 {
		t.Fatalf("expect 0 deleted and 1 changed, got %+v (%v)", res, err)
	}
	if _, err := st.GetItem(ctx, "eu-central-1", "users", k); err != nil {
		t.Fatalf("expect the record kept, got %v", err)
	}
}

// BenchmarkSweep deletes 10,000 due records on the embedded store per op.
func BenchmarkSweep(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		h, st, _ := setup(b)
		seed(b, st, 10000, 10000)
		h.BatchSize = 500
		b.StartTimer()
		res, err := h.Sweep(context.Background(), now)
		if err != nil || res.Deleted != 10000 {
			b.Fatalf("expect 10000 deleted, got %+v (%v)", res, err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "deletions/s")
}
