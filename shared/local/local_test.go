package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
	"github.com/residency-dev/residency/shared/trigger"
)

var key = bytes.Repeat([]byte{7}, 32)

// sample is a replayable sample payload with its event time.
type sample struct {
	name string
	at   time.Time
	data []byte
}

func samples(t *testing.T) []sample {
	t.Helper()
	paths, err := filepath.Glob("../../events/samples/*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("expect sample files, got %v (%v)", paths, err)
	}
	var out []sample
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sample{name: filepath.Base(p), at: eventTime(t, data), data: data})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

func eventTime(t *testing.T, data []byte) time.Time {
	kind, err := trigger.Detect(data)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Time    time.Time
		Records []struct {
			EventTime time.Time `json:"eventTime"`
			DynamoDB  struct{ ApproximateCreationDateTime float64 }
			Attrs     struct{ SentTimestamp json.Number } `json:"attributes"`
		}
		RequestContext struct{ TimeEpoch int64 }
	}
	json.Unmarshal(data, &p)
	switch kind {
	case trigger.DynamoDBStream:
		return time.Unix(int64(p.Records[0].DynamoDB.ApproximateCreationDateTime), 0)
	case trigger.S3:
		return p.Records[0].EventTime
	case trigger.SQS:
		ms, _ := p.Records[0].Attrs.SentTimestamp.Int64()
		return time.UnixMilli(ms)
	case trigger.HTTP:
		return time.UnixMilli(p.RequestContext.TimeEpoch)
	}
	return p.Time
}

type env struct {
	stack *local.Stack
	store *sqlitestore.Store
	logs  *bytes.Buffer
	at    time.Time
}

func newEnv(t *testing.T) *env { return newEnvKey(t, key) }

// stackAt is the example policy's local stack on a fresh file store, its
// clock stopped at at.
func stackAt(tb testing.TB, at time.Time) (*sqlitestore.Store, *local.Stack) {
	tb.Helper()
	st := sqlitetest.Open(tb)
	s, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: func() time.Time { return at }})
	if err != nil {
		tb.Fatal(err)
	}
	return st, s
}

// benchStack is stackAt for a benchmark's loop: its store is a new file in
// b's temporary directory that the iteration closes itself, so the stores
// of the iterations before are not all kept open until the end.
func benchStack(b *testing.B, at time.Time) (*sqlitestore.Store, *local.Stack) {
	b.Helper()
	st, err := sqlitestore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	s, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: func() time.Time { return at }})
	if err != nil {
		b.Fatal(err)
	}
	return st, s
}

// newEnvKey is newEnv with another HMAC key.
func newEnvKey(t *testing.T, key []byte) *env {
	t.Helper()
	st := sqlitetest.Open(t)
	e := &env{store: st, logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var err error
	e.stack, err = local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: func() time.Time { return e.at }, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	loadFixtures(t, st)
	return e
}

// loadFixtures puts the local S3 objects of events/fixtures in st.
func loadFixtures(t *testing.T, st *sqlitestore.Store) {
	t.Helper()
	fix, err := os.ReadFile("../../events/fixtures/s3-objects.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Objects []record.Object }
	if err := json.Unmarshal(fix, &f); err != nil {
		t.Fatal(err)
	}
	for _, o := range f.Objects {
		if err := st.PutObject(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

var sweepAt = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func (e *env) replayAll(t *testing.T) []local.Delivery {
	t.Helper()
	ctx := context.Background()
	var out []local.Delivery
	for _, s := range samples(t) {
		e.at = s.at
		d, err := e.stack.Replay(ctx, s.data)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		out = append(out, d)
	}
	e.at = sweepAt
	if _, err := e.stack.Sweep(ctx, sweepAt); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) entries(t *testing.T) []ledger.Entry {
	t.Helper()
	var out []ledger.Entry
	err := e.store.ScanLedger(context.Background(), ledger.Query{}, func(x *ledger.Entry) error {
		out = append(out, *x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func has(t *testing.T, st *sqlitestore.Store, region, table, pk string) bool {
	t.Helper()
	_, err := st.GetItem(context.Background(), region, table, record.Key{"pk": pk, "sk": "PROFILE"})
	if err != nil && !errors.Is(err, record.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestSamplesEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.replayAll(t)
	ctx := context.Background()

	t.Run("misplaced EU record relocated to its home region", func(t *testing.T) {
		if has(t, e.store, "us-east-1", "users", "USER#u-1001") {
			t.Fatal("expect u-1001 gone from us-east-1, it is still there")
		}
		it, err := e.store.GetItem(ctx, "eu-central-1", "users", record.Key{"pk": "USER#u-1001", "sk": "PROFILE"})
		if err != nil {
			t.Fatalf("expect u-1001 in eu-central-1, got %v", err)
		}
		tag, ok := record.TagOf(it)
		if !ok || tag.Status != record.StatusRelocated || tag.OriginRegion != "us-east-1" || tag.HomeRegion != "eu-central-1" {
			t.Fatalf("expect a relocated tag from us-east-1 to eu-central-1, got %+v", tag)
		}
	})
	t.Run("ingested EU record written straight to its home", func(t *testing.T) {
		if has(t, e.store, "us-east-1", "users", "USER#u-1010") || !has(t, e.store, "eu-central-1", "users", "USER#u-1010") {
			t.Fatal("expect u-1010 only in eu-central-1")
		}
	})
	t.Run("retention deletes the due unheld record and keeps the held one", func(t *testing.T) {
		if has(t, e.store, "us-east-1", "users", "USER#u-0042") {
			t.Fatal("expect u-0042 deleted by the sweep")
		}
		if !has(t, e.store, "us-east-1", "users", "USER#u-0043") {
			t.Fatal("expect u-0043 kept under legal hold")
		}
	})
	t.Run("erasure deletes the subject's records", func(t *testing.T) {
		if has(t, e.store, "eu-central-1", "users", "USER#u-1004") {
			t.Fatal("expect u-1004 erased")
		}
	})
	t.Run("poison record fails alone", func(t *testing.T) {
		dead, err := e.store.DeadLetters(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(dead) != 1 || !strings.Contains(dead[0].Reason, `"user_id" missing`) {
			t.Fatalf("expect one dead letter naming user_id, got %+v", dead)
		}
	})

	entries := e.entries(t)
	count := map[string]int{}
	for _, x := range entries {
		count[string(x.Kind)+"/"+x.Mechanism+"/"+x.Decision]++
	}
	t.Run("ledger holds every kind of decision", func(t *testing.T) {
		want := map[string]int{
			"violation//relocate":         2, // u-1001 (users), u-3001 (warehouse)
			"relocation//relocated":       1,
			"relocation//routed":          1,
			"transfer/scc/allowed":        2, // tr-5001 and the replayed SQS entry
			"transfer/dpf/allowed":        2, // tr-5002, tr-5006 (the UK entity, UK Extension)
			"transfer/adequacy/allowed":   1,
			"transfer/derogation/allowed": 1,
			"denial/none/denied":          1,
			"deletion//deleted":           2, // u-0042 by retention, u-1004 by erasure
		}
		for k, n := range want {
			if count[k] != n {
				t.Errorf("expect %d entries %s, got %d (all: %v)", n, k, count[k], count)
			}
		}
	})
	t.Run("chains verify", func(t *testing.T) {
		st, err := report.Verify(ctx, e.store, nil)
		if err != nil || !st.Verified || st.Entries != int64(len(entries)) {
			t.Fatalf("expect %d verified entries, got %+v (%v)", len(entries), st, err)
		}
	})
	t.Run("no personal data in ledger, report or logs", func(t *testing.T) {
		rep, err := report.Build(ctx, e.store, report.Query{}, sweepAt)
		if err != nil {
			t.Fatal(err)
		}
		var all bytes.Buffer
		json.NewEncoder(&all).Encode(entries)
		rep.Write(&all, "json")
		rep.Write(&all, "csv")
		rep.Write(&all, "table")
		all.Write(e.logs.Bytes())
		for _, pii := range []string{"u-1001", "u-1002", "u-1004", "u-0042", "u-0043", "u-1010", "u-3001", "USER#", "claire", "@example"} {
			if bytes.Contains(all.Bytes(), []byte(pii)) {
				i := bytes.Index(all.Bytes(), []byte(pii))
				t.Errorf("expect no %q in ledger/report/logs, found: ...%s...", pii, all.Bytes()[max(0, i-80):min(all.Len(), i+40)])
			}
		}
	})
}

// A redelivered batch changes nothing: replaying every sample again adds no
// ledger entry but one. The replay writes the erased subject u-1004's record
// into its table again, as a restore would: the record is erased again,
// with a receipt of its own naming the request (the resurrection guard).
func TestRedeliveryChangesNothing(t *testing.T) {
	e := newEnv(t)
	e.replayAll(t)
	before := e.entries(t)
	seen := map[string]bool{}
	for _, x := range before {
		seen[x.ID] = true
	}
	e.replayAll(t)
	var extra []ledger.Entry
	for _, x := range e.entries(t) {
		if !seen[x.ID] {
			extra = append(extra, x)
		}
	}
	if len(extra) != 1 || extra[0].Kind != ledger.KindDeletion || extra[0].Region != "eu-central-1" ||
		extra[0].Reference != "GDPR Art. 17 erasure request dsr-2026-1142, re-applied" || extra[0].Record != e.stack.Refs.Record("users", record.Key{"pk": "USER#u-1004", "sk": "PROFILE"}) {
		var got []string
		for _, x := range extra {
			got = append(got, string(x.Kind)+" "+x.Region+" "+x.Decision+" "+x.Reference)
		}
		t.Fatalf("expect only u-1004's re-applied erasure receipt after redelivery, got %v", got)
	}
	if has(t, e.store, "eu-central-1", "users", "USER#u-1004") {
		t.Fatal("expect u-1004 erased again")
	}
}

// The tagger's own tag write comes back through the stream as a MODIFY; it
// must cause no second write.
func TestEchoCausesNoWrite(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	data := eventstest.Sample(t, "dynamodb-insert-compliant.json")
	e.at = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := e.stack.Replay(ctx, data); err != nil {
		t.Fatal(err)
	}
	// Two INSERTs: two tag writes, each echoed once as a MODIFY; the echoes
	// were delivered and caused nothing more.
	if got := e.stack.Stats.StreamRecords; got != 4 {
		t.Fatalf("expect 4 stream records (2 inserts + 2 tag echoes), got %d", got)
	}
	pending, err := e.store.PendingStream(ctx, 10)
	if err != nil || len(pending) != 0 {
		t.Fatalf("expect no pending stream records, got %d (%v)", len(pending), err)
	}
	if got := e.stack.Stats.Published["Record Tagged"]; got != 2 {
		t.Fatalf("expect 2 Record Tagged, got %d", got)
	}
}

// TestLedgerIDsAreKeyed: the id of every entry about a record is derived
// from keyed references, so that nobody holding the ledger alone can test a
// guessed record key or subject id against it. The same events under two
// HMAC keys give the same entries with other ids; only transfer entries,
// named by the platform's transfer_id, keep theirs.
func TestLedgerIDsAreKeyed(t *testing.T) {
	a, b := newEnvKey(t, key), newEnvKey(t, bytes.Repeat([]byte{9}, 32))
	a.replayAll(t)
	b.replayAll(t)
	ea, eb := a.entries(t), b.entries(t)
	if len(ea) != len(eb) || len(ea) < 10 {
		t.Fatalf("expect the same entries under both keys, got %d and %d", len(ea), len(eb))
	}
	checked := 0
	for i := range ea {
		x, y := ea[i], eb[i]
		if x.Kind != y.Kind || x.Region != y.Region || x.Seq != y.Seq {
			t.Fatalf("expect entry %d to be the same event, got %s %s/%d and %s %s/%d", i, x.Kind, x.Region, x.Seq, y.Kind, y.Region, y.Seq)
		}
		if x.Kind == ledger.KindTransfer || x.Kind == ledger.KindDenial {
			continue
		}
		checked++
		if x.ID == y.ID {
			t.Errorf("%s %s/%d: expect the id to change with the key, got %s under both", x.Kind, x.Region, x.Seq, x.ID)
		}
	}
	if checked < 6 {
		t.Fatalf("expect violations, relocations and deletions checked, got %d", checked)
	}
}
