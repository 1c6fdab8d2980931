package router_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, an event that cannot be routed is kept with its
// reason and acknowledged, not failed for a retry; what may pass on a retry
// still fails.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	cases := map[string]struct {
		payload string
		want    string // the dead-lettered item; "" when the invocation must fail
	}{
		"unknown detail type": {`{"detail-type":"Something Else","source":"x","id":"e-1","detail":{}}`, "Something Else e-1"},
		"missing item":        {`{"detail-type":"Record Ingest","source":"x","id":"e-2","detail":{"source":"users"}}`, "Record Ingest e-2"},
		"unwatched table":     {`{"detail-type":"Record Ingest","source":"x","id":"e-3","detail":{"source":"orders","item":{"pk":"1"}}}`, "Record Ingest e-3"},
		"unknown to_country": {`{"detail-type":"Transfer Requested","source":"x","id":"e-4","detail":{"transfer_id":"t","source":"users","record":{"pk":"1"},"subject_id":"u","category":"events","to_country":"XX","importer":"I"}}`,
			"Transfer Requested e-4"},
		"not EventBridge JSON": {`[]`, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, _, sk := setup(t, "us-east-1")
			dl := &fakes.DeadLetters{}
			h.DeadLetters = dl
			_, err := lambda.NewHandler(h.Invoke).Invoke(t.Context(), []byte(c.payload))
			if c.want == "" {
				if err == nil || len(dl.Letters) != 0 {
					t.Fatalf("expect an error and no dead letter, got %v, %+v", err, dl.Letters)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect the event acknowledged, got %v", err)
			}
			if len(dl.Letters) != 1 || dl.Letters[0].Item != c.want || dl.Letters[0].Function != router.Actor || !errors.Is(dl.Letters[0].Err, record.ErrPermanent) {
				t.Fatalf("expect %q dead-lettered with a permanent reason, got %+v", c.want, dl.Letters)
			}
			if len(sk.Entries)+len(sk.Events) != 0 {
				t.Fatalf("expect no side effects, got %+v", sk)
			}
		})
	}
}

// A conflict at home is not permanent: the relocation is retried.
func TestConflictIsNotDeadLettered(t *testing.T) {
	h, st, _ := setup(t, "us-east-1")
	dl := &fakes.DeadLetters{}
	h.DeadLetters = dl
	ctx := t.Context()
	st.PutItem(ctx, "us-east-1", "users", key, item, false)
	st.PutItem(ctx, "eu-central-1", "users", key, record.Item{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "DE"}, false)
	_, err := lambda.NewHandler(h.Invoke).Invoke(ctx, sample(t, "eventbridge-residency-violation.json"))
	if err == nil || len(dl.Letters) != 0 {
		t.Fatalf("expect the conflict to fail for a retry, got %v, %+v", err, dl.Letters)
	}
}
