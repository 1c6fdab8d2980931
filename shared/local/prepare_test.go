package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/local/loadgen"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// outcome is what a replay left: its deliveries, counts, catalog, ledger
// and dead letters, without what differs between two stores by design
// (random ids, hashes over them, letter ids).
type outcome struct {
	Deliveries []local.Delivery
	Stats      local.Stats
	Catalog    map[string]int
	Ledger     []string
	Dead       []string
}

func outcomeOf(t *testing.T, st *sqlitestore.Store, s *local.Stack, ds []local.Delivery) outcome {
	t.Helper()
	ctx := context.Background()
	o := outcome{Deliveries: ds, Stats: s.Stats, Catalog: map[string]int{}}
	for _, r := range s.Policy.Regions {
		n, err := st.CountEntries(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		o.Catalog[r] = n
	}
	err := st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error {
		o.Ledger = append(o.Ledger, e.Region+" "+string(e.Kind)+" "+e.Source+" "+e.Record+" "+e.Decision+" "+e.ToRegion)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := st.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dead {
		o.Dead = append(o.Dead, d.Function+" "+d.Region+" "+d.Item+" "+d.Reason)
	}
	return o
}

// TestPrepareAheadIsReplay replays the samples (a malformed stream record
// among them) and generated stream batches with misplaced records twice:
// one payload after the other, each stream batch decoded by the tagger's
// Invoke as on Lambda, and prepared ahead on another goroutine with
// ReplayPrepared, as `residency run` does. Both leave the same deliveries,
// counts, catalog, ledger and dead letters.
func TestPrepareAheadIsReplay(t *testing.T) {
	var payloads [][]byte
	for _, smp := range samples(t) {
		payloads = append(payloads, smp.data)
	}
	payloads = append(payloads, loadgen.StreamBatches(600, 100, 10)...)
	payloads = append(payloads, []byte(`{"Records":[{"eventSource":"aws:dynamodb","eventName":"INSERT","dynamodb":{"Keys":{"id":{"S":1}}}}]}`))
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	ctx := context.Background()

	st1, s1 := stackAt(t, at)
	var one []local.Delivery
	for _, p := range payloads {
		d, err := s1.ReplayUndecoded(ctx, p)
		if err != nil {
			d.Error = "replay: " + err.Error()
		}
		one = append(one, d)
	}
	st2, s2 := stackAt(t, at)
	var ahead []local.Delivery
	for i, p := range local.PrepareAhead(payloads) {
		d, err := s2.ReplayPrepared(ctx, p)
		if err != nil {
			d.Error = "replay: " + err.Error()
		}
		if i != len(ahead) {
			t.Fatalf("expect payload %d next, got %d", len(ahead), i)
		}
		ahead = append(ahead, d)
	}
	want, got := outcomeOf(t, st1, s1, one), outcomeOf(t, st2, s2, ahead)
	if len(want.Ledger) == 0 || len(want.Dead) == 0 || want.Stats.StreamRecords == 0 {
		t.Fatalf("expect the payloads to leave ledger entries, dead letters and stream records, got %+v", want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("prepared ahead differs from Invoke's decoding (-Invoke +ahead):\n%s", diff)
	}
}

// TestPrepareAheadStopsWhenTheCallerDoes: breaking out of the loop
// prepares no more than the payload after the last one taken.
func TestPrepareAheadStopsWhenTheCallerDoes(t *testing.T) {
	payloads := loadgen.StreamBatches(50, 10, 10)
	n := 0
	for i := range local.PrepareAhead(payloads) {
		n++
		if i == 1 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("expect 2 payloads yielded, got %d", n)
	}
	for range local.PrepareAhead(nil) {
		t.Fatal("expect nothing yielded of no payloads")
	}
}
