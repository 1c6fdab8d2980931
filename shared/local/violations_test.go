package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local/loadgen"
)

// The local stack delivers violations to the router in SQS batches of up
// to 100, as the violations queue's event source mapping does on AWS: 250
// misplaced records of one stream batch take 3 router invocations, not
// 250, and every one is relocated once.
func TestViolationsReachTheRouterInBatches(t *testing.T) {
	ctx := context.Background()
	st, s := stackAt(t, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	for _, f := range loadgen.StreamBatches(500, 500, 50) {
		d, err := s.Replay(ctx, f)
		if err != nil || d.Failed != 0 || d.Error != "" {
			t.Fatalf("expect the batch delivered, got %+v, %v", d, err)
		}
	}
	if got := s.Stats.Delivered["router"]; got != 3 {
		t.Fatalf("expect 250 violations in 3 router invocations, got %d", got)
	}
	kinds := map[ledger.Kind]int{}
	if err := st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error { kinds[e.Kind]++; return nil }); err != nil {
		t.Fatal(err)
	}
	if kinds[ledger.KindViolation] != 250 || kinds[ledger.KindRelocation] != 250 {
		t.Fatalf("expect 250 violations and 250 relocations in the ledger, got %v", kinds)
	}
	if n, _ := st.CountEntries(ctx, "us-east-1"); n != 250 {
		t.Fatalf("expect the 250 records at home in us-east-1 catalogued there, got %d", n)
	}
	dls, err := st.DeadLetters(ctx)
	if err != nil || len(dls) != 0 {
		t.Fatalf("expect no dead letter, got %+v", dls)
	}
}
