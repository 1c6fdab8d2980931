package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/residency-dev/residency/events"
)

// fuzzDecode fuzzes events.Decode of T, seeded with the detail of every
// sample of detailTypes: Decode never panics; it fails with an error wrapping
// ErrInvalid, or returns a valid value that encodes to JSON which decodes to
// a valid value again and encodes to the same bytes (the contract of Time
// and of exact numbers).
func fuzzDecode[T any, PT interface {
	*T
	events.Detail
}](f *testing.F, detailTypes ...string) {
	names, err := filepath.Glob(filepath.Join("samples", "eventbridge-*.json"))
	if err != nil {
		f.Fatalf("expect a glob of samples, got %v", err)
	}
	seeded := 0
	for _, n := range names {
		raw, err := os.ReadFile(n)
		if err != nil {
			f.Fatalf("expect to read %s, got %v", n, err)
		}
		var e envelope
		if err := json.Unmarshal(raw, &e); err != nil {
			f.Fatalf("%s: expect an EventBridge envelope, got %v", n, err)
		}
		if slices.Contains(detailTypes, e.DetailType) {
			f.Add([]byte(e.Detail))
			seeded++
		}
	}
	if seeded == 0 {
		f.Fatalf("expect a sample of %v to seed the corpus, got none", detailTypes)
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `{"source":null}`, `{"record":"USER#1"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := events.Decode[T, PT](raw)
		if err != nil {
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("expect an error wrapping ErrInvalid, got %v", err)
			}
			return
		}
		if err := PT(&v).Validate(); err != nil {
			t.Fatalf("expect a decoded value to validate, got %v", err)
		}
		b, err := json.Marshal(PT(&v))
		if err != nil {
			t.Fatalf("expect a decoded value to encode, got %v", err)
		}
		w, err := events.Decode[T, PT](b)
		if err != nil {
			t.Fatalf("expect the encoding %s to decode, got %v", b, err)
		}
		again, err := json.Marshal(PT(&w))
		if err != nil {
			t.Fatalf("expect the value to encode again, got %v", err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("expect a stable encoding %s, got %s", b, again)
		}
	})
}

func FuzzDecodeRecordIngest(f *testing.F) {
	fuzzDecode[events.RecordIngestDetail](f, events.RecordIngest)
}

func FuzzDecodeDataWritten(f *testing.F) {
	fuzzDecode[events.DataWrittenDetail](f, events.DataWritten)
}

func FuzzDecodeTransferRequested(f *testing.F) {
	fuzzDecode[events.TransferRequestedDetail](f, events.TransferRequested)
}

func FuzzDecodeLegalHold(f *testing.F) {
	fuzzDecode[events.LegalHoldDetail](f, events.LegalHoldSet, events.LegalHoldReleased)
}

func FuzzDecodeContractEnded(f *testing.F) {
	fuzzDecode[events.ContractEndedDetail](f, events.ContractEnded)
}

func FuzzDecodeErasureRequested(f *testing.F) {
	fuzzDecode[events.ErasureRequestedDetail](f, events.ErasureRequested)
}
