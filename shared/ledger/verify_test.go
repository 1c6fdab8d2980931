package ledger

import (
	"context"
	"sync"
	"testing"
	"time"
)

// memChains is an in-memory ChainReader.
type memChains map[string][]Entry

func (m memChains) Chains(context.Context) ([]string, error) {
	var out []string
	for r := range m {
		out = append(out, r)
	}
	return out, nil
}

func (m memChains) ScanChainAfter(_ context.Context, region string, after int64, limit int, fn func(*Entry) error) error {
	n := 0
	for i := range m[region] {
		if e := &m[region][i]; e.Seq > after && (limit <= 0 || n < limit) {
			n++
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// fakeDigests signs the chains of heads: region -> seq signed.
type fakeDigests struct {
	chains memChains
	heads  map[string]int64
}

func (f fakeDigests) Regions(context.Context) ([]string, error) {
	var out []string
	for r := range f.heads {
		out = append(out, r)
	}
	return out, nil
}

func (f fakeDigests) Signed(_ context.Context, region string) (Signed, error) {
	seq, ok := f.heads[region]
	if !ok {
		return Signed{}, nil
	}
	var hash string
	for _, e := range f.chains[region] {
		if e.Seq == seq {
			hash = e.Hash
		}
	}
	if hash == "" {
		hash = "signed-but-gone"
	}
	return Signed{DigestHead: DigestHead{Digests: 1, SignedSeq: seq, SignedAt: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), SignedHash: hash, SignedKeyID: "key-1"},
		Anchor: func(v *Verifier) { v.Anchor(seq, hash, "digest-1") }}, nil
}

func TestVerifyChains(t *testing.T) {
	ctx := context.Background()
	intact := chain(5)
	var tampered []Entry
	head := Head{}
	for _, e := range chain(4) {
		e.Region, e.Seq, e.PrevHash, e.Hash = "eu-west-1", 0, "", ""
		e, head = Link(head, e)
		tampered = append(tampered, e)
	}
	tampered[2].Importer = "Someone Else" // after linking: its hash no longer matches
	chains := memChains{"eu-central-1": intact, "eu-west-1": tampered}

	t.Run("without digests", func(t *testing.T) {
		var mu sync.Mutex
		seen := map[string]int{}
		st, err := VerifyChains(ctx, chains, nil, func(region string) func(*Entry) {
			return func(*Entry) { mu.Lock(); seen[region]++; mu.Unlock() }
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Verified || st.Entries != 9 || st.DigestsChecked || len(st.Chains) != 2 {
			t.Fatalf("expect 9 entries in 2 chains, not verified, digests unchecked, got %+v", st)
		}
		if c := st.Chains[0]; c.Region != "eu-central-1" || !c.Verified || c.Head.Seq != 5 {
			t.Errorf("expect eu-central-1 intact to seq 5, got %+v", c)
		}
		if c := st.Chains[1]; c.Region != "eu-west-1" || c.Verified || c.FirstBadSeq != 3 {
			t.Errorf("expect eu-west-1 broken at seq 3, got %+v", c)
		}
		if seen["eu-central-1"] != 5 || seen["eu-west-1"] != 4 {
			t.Errorf("expect every entry observed once, got %v", seen)
		}
	})
	t.Run("with digests", func(t *testing.T) {
		good := memChains{"eu-central-1": intact}
		// us-east-1 was signed, but its chain is gone.
		st, err := VerifyChains(ctx, good, fakeDigests{good, map[string]int64{"eu-central-1": 5, "us-east-1": 2}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Verified || !st.DigestsChecked || len(st.Chains) != 2 {
			t.Fatalf("expect 2 chains, digests checked, not verified, got %+v", st)
		}
		if c := st.Chains[0]; !c.Verified || c.Digests != 1 || c.SignedSeq != 5 || c.Signed(true) != "signed to seq 5 at 2026-11-22T00:00:00Z (1 digests)" {
			t.Errorf("expect eu-central-1 signed to seq 5, got %+v (%s)", c, c.Signed(true))
		}
		if c := st.Chains[0]; c.SignedHash != intact[4].Hash || c.SignedKeyID != "key-1" {
			t.Errorf("expect eu-central-1's signed head hash %s by key-1, got %q by %q", intact[4].Hash, c.SignedHash, c.SignedKeyID)
		}
		if c := st.Chains[1]; c.Region != "us-east-1" || c.Verified || c.Entries != 0 {
			t.Errorf("expect us-east-1's lost chain reported, got %+v", c)
		}
	})
}
