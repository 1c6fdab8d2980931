package ledger_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// testdata/chain-v1.jsonl is a chain of two entries written before entries
// had exposed_ms (the canonical encoding's v1), kept as they were written.
func TestEntriesWrittenBeforeExposureStillVerify(t *testing.T) {
	f, err := os.ReadFile("testdata/chain-v1.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	v := ledger.NewVerifier("eu-central-1")
	sc := bufio.NewScanner(bytes.NewReader(f))
	n := 0
	for sc.Scan() {
		e, err := ledger.DecodeJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if e.ExposedMS != nil {
			t.Fatalf("expect no exposed_ms on a v1 entry, got %d", *e.ExposedMS)
		}
		if err := v.Add(&e); err != nil {
			t.Fatalf("expect the v1 entry %d to verify, got %v", e.Seq, err)
		}
		stored := e.Hash
		if h, _ := e.ComputeHash(nil); h != stored {
			t.Fatalf("expect seq %d to hash to %s as when written, got %s", e.Seq, stored, h)
		}
		again, _ := e.AppendJSON(nil)
		if !bytes.Equal(again, sc.Bytes()) {
			t.Fatalf("expect the entry to encode as written:\n%s\ngot\n%s", sc.Bytes(), again)
		}
		n++
	}
	if err := v.Close(); err != nil || n != 2 {
		t.Fatalf("expect 2 verified entries, got %d (%v)", n, err)
	}
}

func TestExposureIsInTheHashOnlyWhenSet(t *testing.T) {
	base := receipt
	base.Kind, base.ID = ledger.KindRelocation, "rel_x"
	withZero, withSome := base, base
	withZero.ExposedMS, withSome.ExposedMS = ledger.Exposure(0), ledger.Exposure(1500*time.Millisecond)
	hBase, _ := base.ComputeHash(nil)
	hZero, _ := withZero.ComputeHash(nil)
	hSome, _ := withSome.ComputeHash(nil)
	if hBase == hZero || hZero == hSome || hBase == hSome {
		t.Fatalf("expect three different hashes (absent, 0 ms, 1500 ms), got %s %s %s", hBase, hZero, hSome)
	}
	if got := string(withSome.AppendCanonical(nil)[:20]); got != "residency-ledger-v2\n" {
		t.Fatalf("expect the v2 header on an entry with exposed_ms, got %q", got)
	}
	if got := string(base.AppendCanonical(nil)[:20]); got != "residency-ledger-v1\n" {
		t.Fatalf("expect the v1 header on an entry without, got %q", got)
	}
	// Altering the exposure breaks the chain.
	e, _ := ledger.Link(ledger.Head{}, withSome)
	*e.ExposedMS = 10
	if err := ledger.NewVerifier(e.Region).Add(&e); err == nil {
		t.Fatal("expect an altered exposed_ms to break the chain, got nil")
	}
	if got := *ledger.Exposure(-time.Second); got != 0 {
		t.Fatalf("expect a negative exposure to count as 0, got %d", got)
	}
}

func TestExposureJSON(t *testing.T) {
	cases := map[string]ledger.Entry{
		"absent": receipt,
		"zero":   func() ledger.Entry { e := receipt; e.ExposedMS = ledger.Exposure(0); return e }(),
		"some":   func() ledger.Entry { e := receipt; e.ExposedMS = ledger.Exposure(2345 * time.Millisecond); return e }(),
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			want, _ := json.Marshal(e)
			got, err := e.AppendJSON(nil)
			if err != nil || !bytes.Equal(want, got) {
				t.Fatalf("expect %s, got %s (%v)", want, got, err)
			}
			back, err := ledger.DecodeJSON(got)
			if err != nil {
				t.Fatal(err)
			}
			if (back.ExposedMS == nil) != (e.ExposedMS == nil) || (e.ExposedMS != nil && *back.ExposedMS != *e.ExposedMS) {
				t.Fatalf("expect exposed_ms %v back, got %v", e.ExposedMS, back.ExposedMS)
			}
		})
	}
	for _, in := range []string{`{"exposed_ms":null}`, `{"exposed_ms":1.5}`, `{"exposed_ms":"7"}`, `{"exposed_ms":12}`, `{"exposed_ms":1e3}`} {
		checkDecode(t, []byte(in))
	}
}
