package ledger_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, a message that is not a valid draft is kept with
// its reason and acknowledged; the messages after it in its FIFO group are
// appended, since it never will be.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	h, st := newHandler(t)
	dl := &fakes.DeadLetters{}
	h.DeadLetters = dl
	if resp := invoke(t, h, poisonBatch()); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("expect every message acknowledged, got %+v", resp.BatchItemFailures)
	}
	var items []string
	for _, l := range dl.Letters {
		if !errors.Is(l.Err, record.ErrPermanent) || l.Function != "ledger" {
			t.Fatalf("expect a permanent reason from the ledger, got %+v", l)
		}
		items = append(items, l.Item)
	}
	if want := []string{"message m2", "message m5", "message m6"}; !slices.Equal(items, want) {
		t.Fatalf("expect dead letters %v, got %v", want, items)
	}
	for region, want := range map[string]int{"eu-central-1": 2, "us-east-1": 1} {
		if n := count(t, st, region); n != want {
			t.Fatalf("expect %d %s entries, got %d", want, region, n)
		}
	}
}
