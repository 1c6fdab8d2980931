package ledger

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"
)

func chain(n int) []Entry {
	head := Head{}
	out := make([]Entry, 0, n)
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	for i := range n {
		var e Entry
		e, head = Link(head, Entry{
			ID: fmt.Sprintf("tra_%03d", i), Time: t0.Add(time.Duration(i) * time.Minute), Kind: KindTransfer,
			Region: "eu-central-1", Source: "users", Record: "rec_x", SubjectRef: "sub_y", Category: "events",
			FromRegion: "eu-central-1", FromCountry: "DE", ToCountry: "US", Importer: "Acme Inc",
			Mechanism: "scc", Reference: "scc-acme-inc-2024", Decision: "allowed", PolicyVersion: "2026-11-01", Actor: "router",
		})
		out = append(out, e)
	}
	return out
}

func verify(entries []Entry) error {
	v := NewVerifier("eu-central-1")
	for i := range entries {
		if err := v.Add(&entries[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := map[string]struct {
		tamper  func([]Entry) []Entry
		wantSeq int64
	}{
		"intact": {func(e []Entry) []Entry { return e }, 0},
		"edited field": {func(e []Entry) []Entry {
			e[3].Importer = "Someone Else"
			return e
		}, 4},
		"edited and rehashed": {func(e []Entry) []Entry {
			e[3].Decision = "denied"
			e[3].Hash, _ = e[3].ComputeHash(nil)
			return e
		}, 5},
		"deleted entry": {func(e []Entry) []Entry { return append(e[:2:2], e[3:]...) }, 3},
		"reordered": {func(e []Entry) []Entry {
			e[4], e[5] = e[5], e[4]
			return e
		}, 5},
		"renumbered after delete": {func(e []Entry) []Entry {
			e = append(e[:2:2], e[3:]...)
			for i := 2; i < len(e); i++ {
				e[i].Seq--
			}
			return e
		}, 3},
		"first entry prev_hash": {func(e []Entry) []Entry {
			e[0].PrevHash = "ab"
			return e
		}, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := verify(c.tamper(chain(8)))
			if c.wantSeq == 0 {
				if err != nil {
					t.Fatalf("expect an intact chain, got %v", err)
				}
				return
			}
			var b *BreakError
			if !errors.As(err, &b) {
				t.Fatalf("expect a BreakError at seq %d, got %v", c.wantSeq, err)
			}
			if b.Seq != c.wantSeq {
				t.Fatalf("expect first bad seq %d, got %d (%v)", c.wantSeq, b.Seq, b)
			}
		})
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	a := Entry{Source: "ab", Record: "c"}
	b := Entry{Source: "a", Record: "bc"}
	ha, _ := a.ComputeHash(nil)
	hb, _ := b.ComputeHash(nil)
	if ha == hb {
		t.Fatal("expect different hashes for shifted field boundaries")
	}
}

func TestValidateDraft(t *testing.T) {
	ok := chain(1)[0]
	cases := map[string]func(*Entry){
		"missing id":     func(e *Entry) { e.ID = "" },
		"bad kind":       func(e *Entry) { e.Kind = "export" },
		"missing region": func(e *Entry) { e.Region = "" },
		"missing time":   func(e *Entry) { e.Time = time.Time{} },
		"missing actor":  func(e *Entry) { e.Actor = "" },
	}
	if err := ok.ValidateDraft(); err != nil {
		t.Fatalf("expect a valid draft, got %v", err)
	}
	for name, mut := range cases {
		t.Run(name, func(t *testing.T) {
			e := ok
			mut(&e)
			if err := e.ValidateDraft(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("expect ErrInvalid, got %v", err)
			}
		})
	}
}

func TestIDDeterministic(t *testing.T) {
	first, second := ID(KindViolation, "a", "b"), ID(KindViolation, "a", "b")
	if first != second {
		t.Fatal("expect the same id for the same parts")
	}
	if ID(KindViolation, "a", "b") == ID(KindViolation, "ab") {
		t.Fatal("expect part boundaries to matter")
	}
}

// BenchmarkVerify measures chain verification against raw SHA-256 over the
// same canonical bytes, side by side.
func BenchmarkVerify(b *testing.B) {
	entries := chain(10000)
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := verify(entries); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
	})
	b.Run("raw-sha256", func(b *testing.B) {
		bufs := make([][]byte, len(entries))
		for i := range entries {
			bufs[i] = entries[i].AppendCanonical(nil)
		}
		b.ReportAllocs()
		for b.Loop() {
			for _, buf := range bufs {
				sha256.Sum256(buf)
			}
		}
		b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "entries/s")
	})
}
