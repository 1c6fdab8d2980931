package ledger_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, a message that is not a valid draft is kept with
// its reason and acknowledged; the messages after it in its FIFO group are
// appended, since it never will be.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	h, st := newHandler(t)
	dl := &fakes.DeadLetters{}
	h.DeadLetters = dl
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	entry := func(id, region string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at, Kind: ledger.KindTransfer, Region: region, Actor: "router"}
	}
	bad := entry("b", "eu-central-1")
	bad.Kind = "export"
	forged := entry("f", "us-east-1")
	forged.Seq, forged.Hash = 9, "00"
	ev := events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", "eu-central-1", entry("a", "eu-central-1")),
		msg("m2", "eu-central-1", bad), // poison
		msg("m3", "eu-central-1", entry("c", "eu-central-1")),
		msg("m4", "us-east-1", forged),
		{MessageId: "m5", Body: "not json", Attributes: map[string]string{"MessageGroupId": "eu-west-1"}},
	}}
	payload, _ := json.Marshal(ev)
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("expect every message acknowledged, got %+v", resp.BatchItemFailures)
	}
	var items []string
	for _, l := range dl.Letters {
		if !errors.Is(l.Err, record.ErrPermanent) || l.Function != "ledger" {
			t.Fatalf("expect a permanent reason from the ledger, got %+v", l)
		}
		items = append(items, l.Item)
	}
	if want := []string{"message m2", "message m4", "message m5"}; !slices.Equal(items, want) {
		t.Fatalf("expect dead letters %v, got %v", want, items)
	}
	if n := count(t, st, "eu-central-1"); n != 2 {
		t.Fatalf("expect 2 eu-central-1 entries (m1, m3), got %d", n)
	}
}
