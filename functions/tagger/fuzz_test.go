package tagger_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/lambdaraw"
)

// FuzzInvoke feeds the tagger arbitrary payloads (stream, S3 and EventBridge
// shapes seeded from the samples), through its Lambda main's path: it must
// answer, with failures only of the batch's own records, or fail with an
// error of its own, never panic.
func FuzzInvoke(f *testing.F) {
	eventstest.AddSamples(f, "*.json")
	f.Add([]byte(`{"Records":[{"eventSource":"aws:dynamodb","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:eu-west-1:1:table/users/stream/x","dynamodb":{"NewImage":{"pk":{"M":{"x":{"BOOL":"yes"}}}}}}]}`))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","awsRegion":"eu-west-1","s3":{"bucket":{"name":"acme-exports"},"object":{"key":"users/u-2002/export+2026%2B11%zz.json"}}}]}`))
	f.Add([]byte(`{"Records":[{"eventSource":"aws:dynamodb","eventName":"MODIFY","eventSourceARN":"arn:aws:dynamodb:eu-west-1:1:table/users/stream/x","dynamodb":{"Keys":{"pk":{"S":"a"},"sk":{"S":"b"}},"NewImage":{"pk":{"S":"a"},"sk":{"S":"b"},"user_id":{"S":"u"},"country":{"S":"GB"},"created_at":{"N":"1e400"}},"SequenceNumber":"1"}}]}`))
	h, _, _ := setup(f, "eu-west-1")
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := lambda.NewHandler(lambdaraw.Handler(h.Invoke)).Invoke(context.Background(), payload)
		if err != nil {
			// A clear error: the tagger says it is its own.
			if !strings.HasPrefix(err.Error(), "tagger: ") {
				t.Fatalf("expect an error starting with the function's name, got %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("expect a JSON response, got %q", out)
		}
		// Only records of the batch fail, each once.
		var resp lambdaevents.DynamoDBEventResponse
		json.Unmarshal(out, &resp)
		if len(resp.BatchItemFailures) == 0 {
			return
		}
		recs, err := ddbjson.DecodeStream(payload)
		if err != nil {
			t.Fatalf("expect failures only for a stream batch, got %v", err)
		}
		seqs := map[string]int{}
		for _, r := range recs {
			seqs[r.SequenceNumber]++
		}
		for _, f := range resp.BatchItemFailures {
			if seqs[f.ItemIdentifier] == 0 {
				t.Fatalf("expect failures of the batch's records, got %q", f.ItemIdentifier)
			}
		}
		if len(resp.BatchItemFailures) > len(recs) {
			t.Fatalf("expect at most %d failures, got %d", len(recs), len(resp.BatchItemFailures))
		}
	})
}
