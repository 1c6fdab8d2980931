package router_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, an event that cannot be routed is kept with its
// reason and acknowledged, not failed for a retry; what may pass on a retry
// still fails.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	events := map[string]string{
		"unknown detail type": `{"detail-type":"Something Else","source":"x","id":"e-1","detail":{}}`,
		"missing item":        `{"detail-type":"Record Ingest","source":"x","id":"e-2","detail":{"source":"users"}}`,
		"unwatched table":     `{"detail-type":"Record Ingest","source":"x","id":"e-3","detail":{"source":"orders","item":{"pk":"1"}}}`,
		"unknown to_country":  `{"detail-type":"Transfer Requested","source":"x","id":"e-4","detail":{"transfer_id":"t","source":"users","record":{"pk":"1"},"subject_id":"u","category":"events","to_country":"XX","importer":"I"}}`,
	}
	for name, payload := range events {
		t.Run(name, func(t *testing.T) {
			h, _, sk := setup(t, "us-east-1")
			dl := &fakes.DeadLetters{}
			h.DeadLetters = dl
			if _, err := lambda.NewHandler(h.Invoke).Invoke(t.Context(), []byte(payload)); err != nil {
				t.Fatalf("expect the event acknowledged, got %v", err)
			}
			var ev struct {
				DetailType string `json:"detail-type"`
				ID         string `json:"id"`
			}
			json.Unmarshal([]byte(payload), &ev)
			if want := ev.DetailType + " " + ev.ID; len(dl.Letters) != 1 || dl.Letters[0].Item != want || dl.Letters[0].Function != router.Actor || !errors.Is(dl.Letters[0].Err, record.ErrPermanent) {
				t.Fatalf("expect %q dead-lettered with a permanent reason, got %+v", want, dl.Letters)
			}
			if len(sk.Entries)+len(sk.Events) != 0 {
				t.Fatalf("expect no side effects, got %+v", sk)
			}
		})
	}
}

// What is not EventBridge JSON, and a conflict at home, are not permanent
// failures of an event: they fail, for a retry.
func TestOtherFailuresAreNotDeadLettered(t *testing.T) {
	h, st, _ := setup(t, "us-east-1")
	dl := &fakes.DeadLetters{}
	h.DeadLetters = dl
	ctx := t.Context()
	if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, []byte(`[]`)); err == nil {
		t.Fatal("expect an error for a payload that is not an event, got nil")
	}
	st.PutItem(ctx, "us-east-1", "users", key, item, false)
	st.PutItem(ctx, "eu-central-1", "users", key, record.Item{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "DE"}, false)
	if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, eventstest.Sample(t, "eventbridge-residency-violation.json")); !errors.Is(err, router.ErrConflict) {
		t.Fatalf("expect the conflict to fail for a retry, got %v", err)
	}
	if len(dl.Letters) != 0 {
		t.Fatalf("expect no dead letter, got %+v", dl.Letters)
	}
}
