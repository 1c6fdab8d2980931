package router_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/record"
)

// violationFor is the sample violation's EventBridge envelope for the
// record with pk, under event id id.
func violationFor(t *testing.T, id, pk string) string {
	var ev map[string]any
	if err := json.Unmarshal(eventstest.Sample(t, "eventbridge-residency-violation.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["id"] = id
	ev["detail"].(map[string]any)["record"] = map[string]any{"pk": pk, "sk": "PROFILE"}
	b, _ := json.Marshal(ev)
	return string(b)
}

// sqsBatch is the SQS event the violations queue's event source mapping
// delivers, one message a body, message ids m-0, m-1, ...
func sqsBatch(t *testing.T, bodies ...string) []byte {
	var ev lambdaevents.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, lambdaevents.SQSMessage{MessageId: "m-" + string(rune('0'+i)), Body: b, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:residency-violations"})
	}
	p, _ := json.Marshal(ev)
	return p
}

func invokeBatch(t *testing.T, h *router.Handler, payload []byte) []string {
	out, err := lambda.NewHandler(h.Invoke).Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("expect the batch handled (failures per message), got %v", err)
	}
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.BatchItemFailures == nil {
		t.Fatalf("expect an SQS batch response with batchItemFailures, got %s (%v)", out, err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

func userItem(pk, country string) record.Item {
	return record.Item{"pk": pk, "sk": "PROFILE", "user_id": strings.TrimPrefix(pk, "USER#"), "country": country, "created_at": "2026-11-20T09:14:03Z"}
}

// In one batch: two violations relocate, a poison message (not an event)
// and an unroutable event are dead-lettered with their reasons and
// acknowledged, and a conflict at home fails alone, reported by its
// message id for a retry.
func TestBatchPoisonAndPartialFailure(t *testing.T) {
	ctx := t.Context()
	h, st, sk := setup(t, "us-east-1")
	dl := &fakes.DeadLetters{}
	h.DeadLetters = dl
	for _, pk := range []string{"USER#u-1", "USER#u-2", "USER#u-3"} {
		st.PutItem(ctx, "us-east-1", "users", record.Key{"pk": pk, "sk": "PROFILE"}, userItem(pk, "FR"), false)
	}
	// Another version of u-3 is already at home: the router keeps both.
	st.PutItem(ctx, "eu-central-1", "users", record.Key{"pk": "USER#u-3", "sk": "PROFILE"}, userItem("USER#u-3", "DE"), false)
	payload := sqsBatch(t,
		violationFor(t, "e-1", "USER#u-1"),
		`not json at all`,
		violationFor(t, "e-3", "USER#u-3"),
		`{"detail-type":"Something Else","source":"x","id":"e-4","detail":{}}`,
		violationFor(t, "e-5", "USER#u-2"),
	)
	if got := invokeBatch(t, h, payload); !slices.Equal(got, []string{"m-2"}) {
		t.Fatalf("expect only the conflict m-2 reported failed, got %v", got)
	}
	for _, pk := range []string{"USER#u-1", "USER#u-2"} {
		k := record.Key{"pk": pk, "sk": "PROFILE"}
		if _, err := st.GetItem(ctx, "us-east-1", "users", k); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect %s gone from us-east-1, got %v", pk, err)
		}
		if _, err := st.GetItem(ctx, "eu-central-1", "users", k); err != nil {
			t.Fatalf("expect %s at home, got %v", pk, err)
		}
	}
	if _, err := st.GetItem(ctx, "us-east-1", "users", record.Key{"pk": "USER#u-3", "sk": "PROFILE"}); err != nil {
		t.Fatalf("expect the conflicting record's misplaced copy kept, got %v", err)
	}
	if len(sk.Entries) != 2 || len(sk.Events) != 2 {
		t.Fatalf("expect 2 ledger entries and 2 Record Relocated events, got %d and %d", len(sk.Entries), len(sk.Events))
	}
	if len(dl.Letters) != 2 {
		t.Fatalf("expect 2 dead letters, got %+v", dl.Letters)
	}
	wantItems := []string{"sqs message m-1", "Something Else e-4"}
	for i, l := range dl.Letters {
		if l.Item != wantItems[i] || l.Function != router.Actor || l.Region != "us-east-1" || !errors.Is(l.Err, record.ErrPermanent) {
			t.Fatalf("expect dead letter %q of kind ErrPermanent, got %+v", wantItems[i], l)
		}
		if strings.Contains(l.Err.Error(), "u-1") || strings.Contains(l.Err.Error(), "u-3") {
			t.Fatalf("expect no record key in a reason, got %v", l.Err)
		}
	}
}

// Without a dead-letter sink, a poison message is not acknowledged: it
// fails alone, so the queue's redrive policy dead-letters it, and the
// rest of the batch is handled.
func TestBatchPoisonWithoutSinkFailsAlone(t *testing.T) {
	ctx := t.Context()
	h, st, sk := setup(t, "us-east-1")
	st.PutItem(ctx, "us-east-1", "users", key, item, false)
	payload := sqsBatch(t, `{"no":"detail-type"}`, string(eventstest.Sample(t, "eventbridge-residency-violation.json")))
	if got := invokeBatch(t, h, payload); !slices.Equal(got, []string{"m-0"}) {
		t.Fatalf("expect only the poison m-0 reported failed, got %v", got)
	}
	if len(sk.Entries) != 1 {
		t.Fatalf("expect the violation relocated with 1 ledger entry, got %d", len(sk.Entries))
	}
}

// A redelivered batch (SQS delivers at least once) changes nothing: no
// failure, no second ledger entry or event, the record still at home only.
func TestBatchRedeliveryChangesNothing(t *testing.T) {
	ctx := t.Context()
	h, st, sk := setup(t, "us-east-1")
	for _, pk := range []string{"USER#u-1", "USER#u-2"} {
		st.PutItem(ctx, "us-east-1", "users", record.Key{"pk": pk, "sk": "PROFILE"}, userItem(pk, "FR"), false)
	}
	payload := sqsBatch(t, violationFor(t, "e-1", "USER#u-1"), violationFor(t, "e-2", "USER#u-2"), violationFor(t, "e-1", "USER#u-1"))
	if got := invokeBatch(t, h, payload); len(got) != 0 {
		t.Fatalf("expect no failure, got %v", got)
	}
	entries, evs := len(sk.Entries), len(sk.Events)
	if entries != 2 || evs != 2 {
		t.Fatalf("expect 2 ledger entries and 2 events (the duplicate in the batch changing nothing), got %d and %d", entries, evs)
	}
	if got := invokeBatch(t, h, payload); len(got) != 0 {
		t.Fatalf("expect no failure on redelivery, got %v", got)
	}
	if len(sk.Entries) != entries || len(sk.Events) != evs {
		t.Fatalf("expect redelivery to add nothing, got %d entries and %d events", len(sk.Entries), len(sk.Events))
	}
	for _, pk := range []string{"USER#u-1", "USER#u-2"} {
		k := record.Key{"pk": pk, "sk": "PROFILE"}
		if _, err := st.GetItem(ctx, "eu-central-1", "users", k); err != nil {
			t.Fatalf("expect %s at home, got %v", pk, err)
		}
		if _, err := st.GetItem(ctx, "us-east-1", "users", k); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect %s gone from us-east-1, got %v", pk, err)
		}
	}
}

// A cancelled invocation acknowledges nothing it did not handle.
func TestBatchOutOfTimeFailsTheRest(t *testing.T) {
	h, _, sk := setup(t, "us-east-1")
	ctx, cancel := contextCancelled(t)
	defer cancel()
	var batch lambdaevents.SQSEvent
	json.Unmarshal(sqsBatch(t, violationFor(t, "e-1", "USER#u-1"), violationFor(t, "e-2", "USER#u-2")), &batch)
	resp := h.HandleBatch(ctx, batch)
	if len(resp.BatchItemFailures) != 2 || len(sk.Entries) != 0 {
		t.Fatalf("expect both messages failed for a retry and nothing done, got %+v", resp)
	}
}

func contextCancelled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}

// Invoke tells an SQS batch from an EventBridge event, as the Lambda main
// serves it (lambdaraw): a batch is handled; a batch whose envelope does
// not decode fails whole, saying so; an event with a Records member is
// still an event (it has a detail-type), and null Records is no batch.
func TestInvokeTellsBatchesFromEvents(t *testing.T) {
	ctx := t.Context()
	h, st, sk := setup(t, "us-east-1")
	st.PutItem(ctx, "us-east-1", "users", key, item, false)
	invoke := lambda.NewHandler(lambdaraw.Handler(h.Invoke))
	out, err := invoke.Invoke(ctx, sqsBatch(t, string(eventstest.Sample(t, "eventbridge-residency-violation.json"))))
	if err != nil || !strings.Contains(string(out), `"batchItemFailures":[]`) || len(sk.Entries) != 1 {
		t.Fatalf("expect the batch handled, one ledger entry, got %s, %v, %d entries", out, err, len(sk.Entries))
	}
	if _, err := invoke.Invoke(ctx, []byte(`{"Records":[{"messageId":5,"body":"{}"}]}`)); err == nil || !strings.Contains(err.Error(), "decode SQS event") {
		t.Fatalf("expect a batch that does not decode to fail naming it, got %v", err)
	}
	var ev map[string]any
	if err := json.Unmarshal(eventstest.Sample(t, "eventbridge-transfer-requested-denied.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["Records"] = []any{}
	withRecords, _ := json.Marshal(ev)
	if out, err := invoke.Invoke(ctx, withRecords); err != nil || strings.Contains(string(out), "batchItemFailures") {
		t.Fatalf("expect an EventBridge event handled as one, got %s, %v", out, err)
	}
	if _, err := invoke.Invoke(ctx, []byte(`{"Records":null}`)); err == nil || !strings.Contains(err.Error(), "not an EventBridge event") {
		t.Fatalf("expect null Records to be no batch, got %v", err)
	}
}
