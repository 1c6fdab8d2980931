// Package eventstest gives tests the sample payloads of events/samples,
// and runs payloads through a handler's JSON path as Lambda does.
package eventstest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
)

// dir is events/samples, wherever the test that reads it runs.
func dir() string {
	_, self, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(self), "..", "samples")
}

// Sample reads the sample file name (e.g. "apigw-report.json") of
// events/samples, and fails tb's test when it cannot.
func Sample(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir(), name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// AddSamples adds every sample whose file name matches pattern (e.g.
// "eventbridge-*.json") to f's seed corpus, and fails f when none matches.
func AddSamples(f *testing.F, pattern string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join(dir(), pattern))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no samples match %q (%v)", pattern, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// Invoke sends payload through handler's JSON path, as the Lambda runtime
// does (lambda.NewHandler: handler is a function's Invoke method or any
// handler it takes), and decodes the answer as a T; an error of either
// fails tb's test.
func Invoke[T any](tb testing.TB, handler any, payload []byte) T {
	tb.Helper()
	out, err := lambda.NewHandler(handler).Invoke(context.Background(), payload)
	if err != nil {
		tb.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(out, &v); err != nil {
		tb.Fatalf("decode %s: %v", out, err)
	}
	return v
}
