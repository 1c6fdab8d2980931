package trigger

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func FuzzDetect(f *testing.F) {
	paths, _ := filepath.Glob("../../events/samples/*.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		k, err := Detect(payload)
		if err != nil && !errors.Is(err, ErrUnknown) {
			t.Fatalf("expect ErrUnknown on failure, got %v", err)
		}
		if err == nil && k == "" {
			t.Fatal("expect a kind when there is no error")
		}
	})
}
