package router_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
)

// FuzzInvoke feeds the router arbitrary EventBridge payloads, seeded with the
// samples of the events it consumes (Record Ingest, Residency Violation,
// Transfer Requested): it must handle the event or fail with an error of its
// own, never panic.
func FuzzInvoke(f *testing.F) {
	eventstest.AddSamples(f, "eventbridge-*.json")
	for _, s := range []string{`{}`, `{"detail-type":"Residency Violation","detail":null}`, `{"detail-type":"Record Ingest","detail":{"source":"users","item":{"pk":1.5e999}}}`,
		`{"detail-type":"Residency Violation","detail":{"source":"users","record":{"pk":"a","sk":"b"},"region":"us-east-1","action":"relocate","home_region":"eu-central-1"}}`,
		`{"detail-type":"Transfer Requested","detail":{"transfer_id":"t","source":"users","record":{},"subject_id":"u","category":"events","to_country":"ZZ","importer":""}}`} {
		f.Add([]byte(s))
	}
	h, _, _ := setup(f, "us-east-1")
	f.Fuzz(func(t *testing.T, payload []byte) {
		_, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), payload)
		if err == nil || !json.Valid(payload) {
			return // aws-lambda-go refuses what is not JSON before the router sees it
		}
		if !strings.HasPrefix(err.Error(), "router: ") {
			t.Fatalf("expect an error starting with the function's name, got %v", err)
		}
	})
}
