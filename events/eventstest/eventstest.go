// Package eventstest gives tests the sample payloads of events/samples.
package eventstest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// AddSamples adds every sample whose file name matches pattern (e.g.
// "eventbridge-*.json") to f's seed corpus, and fails f when none matches.
func AddSamples(f *testing.F, pattern string) {
	f.Helper()
	_, self, _, _ := runtime.Caller(0)
	paths, err := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "samples", pattern))
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
