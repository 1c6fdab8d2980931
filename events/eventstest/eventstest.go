// Package eventstest gives tests the sample payloads of events/samples.
package eventstest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
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
