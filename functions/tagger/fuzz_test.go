package tagger_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// FuzzInvoke feeds the tagger arbitrary payloads (stream, S3 and EventBridge
// shapes seeded from the samples): it must answer or fail with an error,
// never panic.
func FuzzInvoke(f *testing.F) {
	paths, _ := filepath.Glob("../../events/samples/*.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"eventSource":"aws:dynamodb","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:eu-west-1:1:table/users/stream/x","dynamodb":{"NewImage":{"pk":{"M":{"x":{"BOOL":"yes"}}}}}}]}`))
	h, _, _ := setup(f, "eu-west-1")
	f.Fuzz(func(t *testing.T, payload []byte) {
		lambda.NewHandler(h.Invoke).Invoke(context.Background(), payload)
	})
}
