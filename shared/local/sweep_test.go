package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// A sweep killed after deleting records and before sending their receipts:
// the deletions stream to the tagger, which keeps the due records' catalog
// entries, so the next sweep finds them gone and writes the receipts. A
// record the platform deletes before it is due loses its entry.
func TestSweepStoppedBeforeItsReceiptsIsFinishedByTheNext(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	st, s := stackAt(t, at)
	seedDue(t, st, 10, at)
	notDue := catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: record.Key{"pk": "USER#later", "sk": "PROFILE"},
		SubjectRef: "sub_later", Category: "profile", TaggedAt: at, RetainUntil: at.AddDate(1, 0, 0)}
	if err := st.PutItem(ctx, "eu-central-1", "users", notDue.Key, record.Item{"pk": "USER#later", "sk": "PROFILE"}, false); err != nil {
		t.Fatal(err)
	}
	if err := st.PutEntries(ctx, []catalog.Entry{notDue}); err != nil {
		t.Fatal(err)
	}
	// What the killed sweep did: the due records' conditional deletions,
	// nothing after. And the platform deletes the record not yet due.
	due, _, err := st.DueEntries(ctx, "eu-central-1", at, catalog.Cursor{}, 100)
	if err != nil || len(due) != 10 {
		t.Fatalf("expect 10 due entries, got %d (%v)", len(due), err)
	}
	var dels []record.Delete
	for _, e := range due {
		dels = append(dels, record.Delete{Key: e.Key, RetainUntil: record.FormatTime(e.RetainUntil)})
	}
	dels = append(dels, record.Delete{Key: notDue.Key})
	if errs, err := st.DeleteItems(ctx, "eu-central-1", "users", dels); err != nil || errs[0] != nil {
		t.Fatalf("delete: %v %v", errs, err)
	}
	if err := s.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountEntries(ctx, "eu-central-1"); n != 10 {
		t.Fatalf("expect the 10 due entries kept and the other removed, got %d entries", n)
	}
	rs, err := s.Sweep(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Deleted != 10 {
		t.Fatalf("expect the next sweep to settle the 10 records, got %+v", rs[0])
	}
	receipts := 0
	st.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error {
		if e.Kind == ledger.KindDeletion {
			receipts++
		}
		return nil
	})
	if receipts != 10 {
		t.Fatalf("expect 10 deletion receipts, got %d", receipts)
	}
	if n, _ := st.CountEntries(ctx, "eu-central-1"); n != 0 {
		t.Fatalf("expect no catalog entry left, got %d", n)
	}
}

// A sweep of more due records than one ledger batch: the stack appends the
// receipts of each full batch while the sweep goes on deleting (on a
// goroutine of its own, as the ledger function consumes its queue on AWS),
// the rest when it drains. Every receipt is appended once, in one intact
// chain, and counted.
func TestSweepAppendsReceiptsWhileItDeletes(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	st, s := stackAt(t, at)
	const n = 12345 // two full batches of 5000 and a partial one
	held := seedDue(t, st, n, at)
	rs, err := s.Sweep(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Deleted != n-held || !rs[0].Complete {
		t.Fatalf("expect %d deleted, got %+v", n-held, rs[0])
	}
	v := ledger.NewVerifier("eu-central-1")
	ids := map[string]bool{}
	if err := st.ScanChain(ctx, "eu-central-1", func(e *ledger.Entry) error {
		if e.Kind == ledger.KindDeletion {
			ids[e.ID] = true
		}
		return v.Add(e)
	}); err != nil {
		t.Fatalf("expect one intact chain, got %v", err)
	}
	if len(ids) != n-held {
		t.Fatalf("expect %d distinct receipts, got %d", n-held, len(ids))
	}
	if s.Stats.LedgerEntries != n-held || s.Stats.Failures != 0 {
		t.Fatalf("expect %d ledger messages delivered and no failure, got %+v", n-held, s.Stats)
	}
}
