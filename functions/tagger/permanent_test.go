package tagger_test

import (
	"encoding/json"
	"errors"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, what fails permanently is kept with its reason
// and acknowledged; what may pass on a retry still fails.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	malformed := eventstest.Sample(t, "dynamodb-insert-malformed.json")
	var ev lambdaevents.DynamoDBEvent
	json.Unmarshal(malformed, &ev)
	cases := map[string]struct {
		payload    []byte
		region     string
		busFails   bool
		wantItems  []string // dead-lettered
		wantFailed int      // batch item failures
	}{
		"poison stream record": {payload: malformed, region: "eu-west-1",
			wantItems: []string{"stream record " + ev.Records[1].Change.SequenceNumber}},
		"data written missing subject": {payload: []byte(`{"detail-type":"Data Written","source":"p","id":"e-1","region":"us-east-1","detail":{"source":"w","record":{"id":"1"},"category":"events","region":"us-east-1","created_at":1}}`),
			region: "us-east-1", wantItems: []string{"Data Written e-1"}},
		"data written bad region": {payload: []byte(`{"detail-type":"Data Written","source":"p","id":"e-2","detail":{"source":"w","record":{"id":"1"},"subject_id":"s","category":"events","region":"mars-1","created_at":1}}`),
			region: "us-east-1", wantItems: []string{"Data Written e-2"}},
		"throttled bus still fails the batch": {payload: eventstest.Sample(t, "dynamodb-insert-compliant.json"), region: "eu-central-1", busFails: true, wantFailed: 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, c.region)
			dl := &fakes.DeadLetters{}
			h.DeadLetters = dl
			if c.busFails {
				sk.Fail = errors.New("ThrottlingException")
			}
			apply(t, st, c.payload)
			out, err := lambda.NewHandler(lambdaraw.Handler(h.Invoke)).Invoke(t.Context(), c.payload)
			if err != nil {
				t.Fatalf("expect the invocation acknowledged, got %v", err)
			}
			var resp lambdaevents.DynamoDBEventResponse
			json.Unmarshal(out, &resp)
			if len(resp.BatchItemFailures) != c.wantFailed {
				t.Fatalf("expect %d batch item failures, got %+v", c.wantFailed, resp.BatchItemFailures)
			}
			if len(dl.Letters) != len(c.wantItems) {
				t.Fatalf("expect dead letters %v, got %+v", c.wantItems, dl.Letters)
			}
			for i, l := range dl.Letters {
				if l.Item != c.wantItems[i] || l.Function != tagger.Actor || !errors.Is(l.Err, record.ErrPermanent) || l.Err.Error() == "" {
					t.Fatalf("expect %q dead-lettered by the tagger with a permanent reason, got %+v", c.wantItems[i], l)
				}
			}
		})
	}
}
