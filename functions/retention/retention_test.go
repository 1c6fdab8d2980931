package retention_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
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
	st := sqlitetest.Open(t)
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
	// Items read: the 25 due entries, and the 2 holds that kept two of them.
	want := retention.SweepResult{Region: "eu-central-1", Due: 25, Deleted: 23, Held: 2, Emitted: 23, ItemsRead: 27, Complete: true}
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

// failingTables fails the nth record deleted (a record throttled beyond
// the SDK's retries), or with crash, deletes a whole batch and then fails it
// (a sweep killed after the deletions, before their receipts).
type failingTables struct {
	*sqlitestore.Store
	n, calls int
	crash    bool
}

func (f *failingTables) DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error) {
	if f.crash {
		f.Store.DeleteItems(ctx, region, table, dels)
		return nil, fmt.Errorf("killed")
	}
	// The nth record fails and stays; the others go.
	failed := -1
	var rest []record.Delete
	for i, d := range dels {
		if f.calls++; f.calls == f.n {
			failed = i
			continue
		}
		rest = append(rest, d)
	}
	errs, err := f.Store.DeleteItems(ctx, region, table, rest)
	if err != nil || failed < 0 {
		return errs, err
	}
	return slices.Insert(errs, failed, error(fmt.Errorf("throttled"))), nil
}

func TestCrashMidSweepDeletesNothingTwiceSkipsNothing(t *testing.T) {
	for _, tc := range []struct {
		name             string
		tables           *failingTables
		first, remaining int // deleted by the failing sweep, and by the next
	}{
		{"a record fails", &failingTables{n: 8}, 9, 11},
		{"killed after the deletions", &failingTables{crash: true}, 0, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, st, sk := setup(t)
			seed(t, st, 20, 20)
			tc.tables.Store = st
			h.Tables = tc.tables
			res, err := h.Sweep(context.Background(), now)
			if err == nil || res.Deleted != tc.first {
				t.Fatalf("expect the sweep to fail having deleted %d, got %+v (%v)", tc.first, res, err)
			}
			h.Tables = st
			res, err = h.Sweep(context.Background(), now)
			if err != nil {
				t.Fatal(err)
			}
			if res.Deleted != tc.remaining || !res.Complete {
				t.Fatalf("expect the resumed sweep to delete the %d left, got %+v", tc.remaining, res)
			}
			ids := map[string]bool{}
			for _, e := range sk.Entries {
				if ids[e.ID] {
					t.Fatalf("receipt %s sent twice", e.ID)
				}
				ids[e.ID] = true
			}
			if len(ids) != 20 {
				t.Fatalf("expect 20 distinct receipts, got %d", len(ids))
			}
			if n, _ := st.CountItems(context.Background(), "eu-central-1", "users"); n != 0 {
				t.Fatalf("expect every record deleted, %d left", n)
			}
			if n, _ := st.CountEntries(context.Background(), "eu-central-1"); n != 0 {
				t.Fatalf("expect every catalog entry removed, %d left", n)
			}
		})
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

// Contract Ended starts the clocks of the records linked to the contract
// whose category retains from contract_end: the tags (with their TTL
// backstop) and the catalog entries get the new retain-until, and a sweep
// after it deletes them.
func TestContractEndStartsTheClocks(t *testing.T) {
	h, st, _ := setup(t)
	ctx := context.Background()
	p, err := policy.Parse("contract.yaml", bytes.Replace(policy.Example,
		[]byte("billing:    {personal: true, retention: 10y,  from: created}"),
		[]byte("billing:    {personal: true, retention: 12mo, from: contract_end}"), 1))
	if err != nil {
		t.Fatal(err)
	}
	h.Policy = p
	var es []catalog.Entry
	for i, contract := range []string{"acct-77", "acct-77", "acct-88"} {
		k := record.Key{"pk": fmt.Sprintf("INVOICE#%d", i), "sk": "BILLING"}
		tag := record.Tag{Status: record.StatusCompliant, PolicyVersion: p.Version}
		st.PutItem(ctx, "eu-central-1", "users", k, record.Item{"pk": k["pk"], "sk": "BILLING", record.TagAttribute: tag.Map()}, false)
		es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k,
			SubjectRef: fmt.Sprintf("sub_%d", i), Category: "billing", Contract: contract, Status: record.StatusCompliant, TaggedAt: now})
	}
	if err := st.PutEntries(ctx, es); err != nil {
		t.Fatal(err)
	}
	ended := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	if _, err := h.Invoke(ctx, eventstest.Sample(t, "eventbridge-contract-ended.json")); err != nil {
		t.Fatal(err)
	}
	until := ended.AddDate(1, 0, 0)
	for i, want := range []time.Time{until, until, {}} {
		e, err := st.GetEntry(ctx, "eu-central-1", "users", es[i].Key)
		if err != nil {
			t.Fatal(err)
		}
		if !e.RetainUntil.Equal(want) {
			t.Errorf("entry %d: expect retain-until %v, got %v", i, want, e.RetainUntil)
		}
		it, _ := st.GetItem(ctx, "eu-central-1", "users", es[i].Key)
		tag, _ := record.TagOf(it)
		wantTTL := ""
		if !want.IsZero() {
			wantTTL = fmt.Sprint(want.Add(policy.TTLBackstop).Unix())
		}
		if tag.RetainUntil != record.FormatTime(want) && !want.IsZero() || it.String("expires_at") != wantTTL {
			t.Errorf("record %d: expect tag retain_until %v and expires_at %q, got %+v, %q", i, want, wantTTL, tag, it.String("expires_at"))
		}
	}
	if res, err := h.Sweep(ctx, until.Add(-time.Second)); err != nil || res.Due != 0 {
		t.Fatalf("expect nothing due before the end of the clock, got %+v (%v)", res, err)
	}
	if res, err := h.Sweep(ctx, until); err != nil || res.Deleted != 2 {
		t.Fatalf("expect the two records of acct-77 deleted, got %+v (%v)", res, err)
	}
}

// seedSubjects writes a tagged and catalogued profile record for each
// subject reference, USER#0, USER#1, ..., due in 2028.
func seedSubjects(t *testing.T, st *sqlitestore.Store, subjects ...string) []catalog.Entry {
	t.Helper()
	ctx := context.Background()
	until := time.Date(2028, 12, 22, 12, 0, 0, 0, time.UTC)
	var es []catalog.Entry
	for i, sub := range subjects {
		k := record.Key{"pk": fmt.Sprintf("USER#%d", i), "sk": "PROFILE"}
		tag := record.Tag{Status: record.StatusCompliant, RetainUntil: record.FormatTime(until)}
		if err := st.PutItem(ctx, "eu-central-1", "users", k, record.Item{"pk": k["pk"], "sk": "PROFILE", record.TagAttribute: tag.Map()}, false); err != nil {
			t.Fatal(err)
		}
		es = append(es, catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: k,
			SubjectRef: sub, Category: "profile", TaggedAt: now, RetainUntil: until})
	}
	if err := st.PutEntries(ctx, es); err != nil {
		t.Fatal(err)
	}
	return es
}

// refusingLedger refuses every send but the erasure requests' entries
// while refuse is set (the ledger queue down after the request was
// recorded), keeping what it accepts otherwise.
type refusingLedger struct {
	*fakes.Sink
	refuse bool
}

func (r *refusingLedger) Send(ctx context.Context, es ...ledger.Entry) error {
	if r.refuse && (len(es) != 1 || es[0].Decision != ledger.DecisionErasureRequested) {
		return fmt.Errorf("queue unavailable")
	}
	return r.Sink.Send(ctx, es...)
}

// An erasure that stopped after its deletions, before its receipts, is
// finished as that erasure by whichever comes first, the request's
// redelivery or the sweep: one receipt per record, naming the request, and
// Record Deleted events that carry it.
func TestErasureStoppedBeforeItsReceiptsIsFinishedAsAnErasure(t *testing.T) {
	for _, sweepFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("sweep first %v", sweepFirst), func(t *testing.T) {
			h, st, sk := setup(t)
			ctx := context.Background()
			ql := &refusingLedger{Sink: sk, refuse: true}
			h.Ledger = ql
			subject := h.Refs.Subject("u-1004")
			seedSubjects(t, st, subject, subject, h.Refs.Subject("u-1005"))
			request := eventstest.Sample(t, "eventbridge-erasure-requested.json")

			// GIVEN an erasure whose receipts could not be sent
			if _, err := h.Invoke(ctx, request); err == nil {
				t.Fatal("expect the erasure to fail sending its receipts")
			}
			if n, _ := st.CountItems(ctx, "eu-central-1", "users"); n != 1 {
				t.Fatalf("expect u-1004's 2 records deleted before the receipts failed, %d records left", n)
			}
			ql.refuse = false

			// WHEN the sweep and the redelivery run, in either order
			later := now.Add(30 * time.Minute)
			var res retention.SweepResult
			var completed any
			steps := []func(){
				func() {
					var err error
					if res, err = h.Sweep(ctx, later); err != nil {
						t.Fatal(err)
					}
				},
				func() {
					var err error
					if completed, err = h.Invoke(ctx, request); err != nil {
						t.Fatal(err)
					}
				},
			}
			if !sweepFirst {
				slices.Reverse(steps)
			}
			for _, step := range steps {
				step()
			}

			// THEN each record has one receipt naming the request (the
			// request's entry, sent again on the redelivery with the same
			// id, the ledger keeps once)
			var receipts []ledger.Entry
			for _, e := range sk.Entries {
				if e.Decision != ledger.DecisionErasureRequested {
					receipts = append(receipts, e)
				} else if e.ID != sk.Entries[0].ID {
					t.Errorf("expect the redelivered request's entry to keep its id, got %+v", e)
				}
			}
			if len(receipts) != 2 {
				t.Fatalf("expect 2 receipts, got %d: %+v", len(receipts), sk.Entries)
			}
			for _, e := range receipts {
				if e.Kind != ledger.KindDeletion || e.SubjectRef != subject || e.Reference != "GDPR Art. 17 erasure request dsr-2026-1142" {
					t.Errorf("expect an erasure receipt of %s naming dsr-2026-1142, got %+v", subject, e)
				}
			}
			var deleted, expired int
			for _, ev := range sk.Events {
				switch d := ev.Detail.(type) {
				case *events.RecordDeletedDetail:
					deleted++
					if d.Reason != events.ReasonErasure || d.RequestID != "dsr-2026-1142" {
						t.Errorf("expect Record Deleted for erasure dsr-2026-1142, got %+v", d)
					}
				case *events.RetentionExpiredDetail:
					expired++
				}
			}
			if deleted != 2 || expired != 0 {
				t.Errorf("expect 2 Record Deleted and no Retention Expired, got %d and %d", deleted, expired)
			}
			// AND the sweep says what it finished
			wantErased := 0
			if sweepFirst {
				wantErased = 2
			}
			if res.Deleted != wantErased || res.Erased != wantErased || res.Emitted != 0 {
				t.Errorf("expect the sweep to have erased %d, emitted 0, got %+v", wantErased, res)
			}
			wantDeleted := 2 - wantErased
			if c, ok := completed.(events.ErasureCompletedDetail); !ok || c.Deleted != wantDeleted || len(c.Receipts) != wantDeleted {
				t.Errorf("expect the redelivery's Erasure Completed to count %d deletions, got %+v", wantDeleted, completed)
			}
			// AND the other subject's record and entry stay
			if n, _ := st.CountItems(ctx, "eu-central-1", "users"); n != 1 {
				t.Errorf("expect u-1005's record kept, %d records left", n)
			}
			if n, _ := st.CountEntries(ctx, "eu-central-1"); n != 1 {
				t.Errorf("expect only u-1005's catalog entry left, got %d", n)
			}
		})
	}
}

// A record under a legal hold outlives its subject's erasure request while
// the hold lasts (GDPR Art. 17(3)(e)); once the hold is released, the
// sweep erases it on that request.
func TestErasureOfAHeldRecordWaitsForTheRelease(t *testing.T) {
	h, st, sk := setup(t)
	ctx := context.Background()
	subject := h.Refs.Subject("u-1004")
	es := seedSubjects(t, st, subject, subject)
	st.SetHold(ctx, catalog.Hold{ID: "h1", Source: "users", Key: es[1].Key, Reason: "litigation"})

	// GIVEN the erasure, which leaves the held record
	out, err := h.Invoke(ctx, eventstest.Sample(t, "eventbridge-erasure-requested.json"))
	if err != nil {
		t.Fatal(err)
	}
	if c := out.(events.ErasureCompletedDetail); c.Deleted != 1 || c.Held != 1 {
		t.Fatalf("expect 1 deleted and 1 held, got %+v", c)
	}
	// WHEN sweeps run while the hold lasts
	if res, err := h.Sweep(ctx, now.Add(time.Hour)); err != nil || res.Held != 1 || res.Deleted != 0 {
		t.Fatalf("expect the held record kept by the sweep, got %+v (%v)", res, err)
	}
	if _, err := st.GetItem(ctx, "eu-central-1", "users", es[1].Key); err != nil {
		t.Fatalf("expect the held record kept, got %v", err)
	}
	// AND after the hold is released
	st.ReleaseHold(ctx, "h1")
	res, err := h.Sweep(ctx, now.Add(2*time.Hour))
	if err != nil || res.Deleted != 1 || res.Erased != 1 || res.Emitted != 0 {
		t.Fatalf("expect the released record erased, got %+v (%v)", res, err)
	}
	// THEN it is gone, with a receipt naming the request
	if _, err := st.GetItem(ctx, "eu-central-1", "users", es[1].Key); err == nil {
		t.Fatal("expect the released record deleted")
	}
	last := sk.Entries[len(sk.Entries)-1]
	if first := sk.Entries[0]; first.Decision != ledger.DecisionErasureRequested ||
		first.Reference != "GDPR Art. 17 erasure request dsr-2026-1142; received 2026-11-21T15:30:00Z; 2 records to erase" {
		t.Fatalf("expect the request's entry first, the held record among its 2, got %+v", first)
	}
	if len(sk.Entries) != 3 || last.Reference != "GDPR Art. 17 erasure request dsr-2026-1142" || last.Record != h.Refs.Record("users", es[1].Key) {
		t.Fatalf("expect the request and 2 erasure receipts, the last for the released record, got %+v", sk.Entries)
	}
}

// A due object of a watched bucket is deleted down to its last version, and
// its receipt says how many versions went.
func TestSweepReceiptCountsObjectVersions(t *testing.T) {
	h, st, sk := setup(t)
	ctx := context.Background()
	key := "users/u-2002/export.json"
	if err := st.PutObject(ctx, record.Object{Region: "eu-central-1", Bucket: "acme-exports", Key: key, Metadata: map[string]string{"subject-id": "u-2002"}}); err != nil {
		t.Fatal(err)
	}
	e := catalog.Entry{Region: "eu-central-1", Source: "acme-exports", SourceKind: catalog.SourceBucket, Key: record.Key{"key": key},
		SubjectRef: "sub_2002", Category: "events", TaggedAt: now.Add(-time.Hour), RetainUntil: now.Add(-time.Minute)}
	if err := st.PutEntries(ctx, []catalog.Entry{e}); err != nil {
		t.Fatal(err)
	}
	res, err := h.Sweep(ctx, now)
	if err != nil || res.Deleted != 1 {
		t.Fatalf("expect the object deleted, got %+v (%v)", res, err)
	}
	if len(sk.Entries) != 1 || !strings.HasSuffix(sk.Entries[0].Reference, "; 1 object version deleted") {
		t.Fatalf("expect a receipt counting the versions, got %+v", sk.Entries)
	}
	if _, err := st.HeadObject(ctx, "eu-central-1", "acme-exports", key); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect the object gone, got %v", err)
	}
}

// A sweep's figures are metrics of its region, the oldest overdue record's
// age among them: the held records do not count as overdue.
func TestSweepMetrics(t *testing.T) {
	h, st, _ := setup(t)
	ctx := context.Background()
	var emf bytes.Buffer
	h.Metrics = &metrics.Emitter{W: &emf, Function: "retention", Region: h.Region}
	seed(t, st, 50, 25) // due 1 to 25 days ago
	st.SetHold(ctx, catalog.Hold{ID: "h1", Source: "users", Key: record.Key{"pk": "USER#0024", "sk": "PROFILE"}, Reason: "audit"})
	if _, err := h.Sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(emf.Bytes(), &line); err != nil {
		t.Fatalf("expect one EMF line, got %v: %s", err, emf.Bytes())
	}
	// USER#0024, 25 days overdue, is held: the oldest overdue is USER#0023.
	want := map[string]any{retention.MetricSweepDue: 25.0, retention.MetricSweepDeleted: 24.0, retention.MetricSweepHeld: 1.0,
		retention.MetricSweepLocked: 0.0, retention.MetricOldestOverdueAge: (24 * 24 * time.Hour).Seconds(), "region": "eu-central-1"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("expect %s %v, got %v in %s", k, v, line[k], emf.Bytes())
		}
	}
	// A sweep with nothing due says so: age 0.
	emf.Reset()
	if _, err := h.Sweep(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(emf.Bytes(), &line); err != nil || line[retention.MetricOldestOverdueAge] != 0.0 || line[retention.MetricSweepHeld] != 1.0 {
		t.Errorf("expect no overdue record and the held one, got %s (%v)", emf.Bytes(), err)
	}
}
