package tagger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/record"
)

// The Residency Violation carries when the misplaced write happened, as its
// trigger says, for the router to measure the exposure from; a backfilled
// record's violation has no write time.
func TestViolationCarriesTheWriteTime(t *testing.T) {
	ctx := context.Background()
	violations := func(sk *fakes.Sink) []*events.ResidencyViolationDetail {
		var out []*events.ResidencyViolationDetail
		for _, e := range sk.Events {
			if e.DetailType == events.ResidencyViolation {
				out = append(out, e.Detail.(*events.ResidencyViolationDetail))
			}
		}
		return out
	}
	t.Run("stream: ApproximateCreationDateTime", func(t *testing.T) {
		h, st, sk := setup(t, "us-east-1")
		payload := eventstest.Sample(t, "dynamodb-insert-misplaced.json")
		apply(t, st, payload)
		invokeStream(t, h, payload)
		v := violations(sk)
		want := time.Unix(1795166043, 0).UTC()
		if len(v) != 1 || !v[0].WrittenAt.Equal(want) {
			t.Fatalf("expect one violation written at %v, got %+v", want, v)
		}
		b, _ := json.Marshal(v[0])
		if !strings.Contains(string(b), `"written_at":"2026-11-20T09:14:03Z"`) {
			t.Fatalf("expect written_at in the event's JSON, got %s", b)
		}
	})
	t.Run("Data Written: the event's time", func(t *testing.T) {
		h, _, sk := setup(t, "us-east-1")
		payload := strings.Replace(string(eventstest.Sample(t, "eventbridge-data-written.json")), `"subject_country": "CH"`, `"subject_country": "FR"`, 1)
		if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, []byte(payload)); err != nil {
			t.Fatal(err)
		}
		v := violations(sk)
		want := time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)
		if len(v) != 1 || !v[0].WrittenAt.Equal(want) {
			t.Fatalf("expect one violation written at %v, got %+v", want, v)
		}
	})
	t.Run("backfill: not known", func(t *testing.T) {
		h, st, sk := setup(t, "us-east-1")
		it := record.Item{"pk": "USER#b-1", "sk": "PROFILE", "user_id": "b-1", "country": "FR", "created_at": "2026-11-01T00:00:00Z"}
		st.PutItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"}, it, false)
		got, _ := st.GetItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"})
		if _, err := h.Backfill(ctx, "us-east-1", "users", []record.Item{got}); err != nil {
			t.Fatal(err)
		}
		v := violations(sk)
		if len(v) != 1 || !v[0].WrittenAt.IsZero() {
			t.Fatalf("expect one violation without a write time, got %s", fmt.Sprint(v))
		}
		b, _ := json.Marshal(v[0])
		if strings.Contains(string(b), "written_at") {
			t.Fatalf("expect no written_at in the JSON, got %s", b)
		}
	})
}
