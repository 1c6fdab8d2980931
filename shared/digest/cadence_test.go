package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
)

// hourly appends two entries, then signs a digest an hour later, n times.
func hourly(t *testing.T, f *fixture, n int) {
	t.Helper()
	for range n {
		f.chain.at = f.now
		f.chain.append(t, 2)
		f.write(t, false)
	}
}

// verifyCadence verifies the chain as `residency verify --digest-every 1h`
// does at now.
func verifyCadence(t *testing.T, f *fixture, now time.Time) ledger.ChainStatus {
	t.Helper()
	c := &digest.Checker{Source: f.dir, Keys: f.keys, Tree: f.chain, Cadence: ledger.Cadence{Every: digest.DefaultEvery, Now: now}}
	st, err := ledger.VerifyChains(context.Background(), f.chain, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Chains) != 1 {
		t.Fatalf("expect one chain, got %+v", st.Chains)
	}
	return st.Chains[0]
}

func TestVerifyChecksTheDigestCadence(t *testing.T) {
	t.Run("regular", func(t *testing.T) {
		f := newFixture(t)
		hourly(t, f, 6)
		if cs := verifyCadence(t, f, f.now.Add(30*time.Minute)); !cs.Verified || len(cs.CadenceGaps) != 0 {
			t.Fatalf("expect an hourly cadence to verify, got %+v", cs)
		}
		// Entries appended since the last digest, younger than two periods,
		// await the next one.
		f.chain.at = f.now
		f.chain.append(t, 1)
		if cs := verifyCadence(t, f, f.now.Add(90*time.Minute)); !cs.Verified {
			t.Fatalf("expect entries 90 minutes old to await the next digest, got %+v", cs)
		}
		if cs := verifyCadence(t, f, f.now.Add(121*time.Minute)); cs.Verified || cs.FirstBadSeq != 13 {
			t.Fatalf("expect an entry 121 minutes old without a digest to fail at seq 13, got %+v", cs)
		}
	})
	t.Run("newest digests removed", func(t *testing.T) {
		f := newFixture(t)
		hourly(t, f, 6)
		now := f.now.Add(30 * time.Minute)
		removeDigest(t, f, 5)
		// One removed: its entries are 90 minutes old, within two periods.
		if cs := verifyCadence(t, f, now); !cs.Verified {
			t.Fatalf("expect one late digest to be tolerated, got %+v", cs)
		}
		removeDigest(t, f, 4)
		cs := verifyCadence(t, f, now)
		if cs.Verified || cs.FirstBadSeq != 9 || len(cs.CadenceGaps) != 1 {
			t.Fatalf("expect the two newest digests removed to fail from seq 9, got %+v", cs)
		}
		g := cs.CadenceGaps[0]
		if !g.Unsigned || g.FromSeq != 9 || g.ToSeq != 12 || g.Region != region || !g.To.Equal(now) {
			t.Fatalf("expect the gap seq 9-12 up to now, got %+v", g)
		}
		for _, want := range []string{"region " + region, "seq 9-12", "signed by no digest", "one every 1h0m0s"} {
			if !strings.Contains(cs.Problem, want) {
				t.Errorf("expect the problem to say %q, got %q", want, cs.Problem)
			}
		}
	})
	t.Run("every digest removed", func(t *testing.T) {
		f := newFixture(t)
		hourly(t, f, 3)
		for i := 2; i >= 0; i-- {
			removeDigest(t, f, i)
		}
		if cs := verifyCadence(t, f, f.now); cs.Verified || cs.FirstBadSeq != 1 {
			t.Fatalf("expect a chain with no digest left to fail from seq 1, got %+v", cs)
		}
	})
	t.Run("two-period gap", func(t *testing.T) {
		f := newFixture(t)
		hourly(t, f, 3)
		last := f.now
		// The schedule stops for three hours while the chain grows.
		f.chain.at = f.now
		f.chain.append(t, 2)
		f.now = f.now.Add(2 * time.Hour)
		f.write(t, false)
		hourly(t, f, 2)
		cs := verifyCadence(t, f, f.now.Add(10*time.Minute))
		if cs.Verified || len(cs.CadenceGaps) != 1 {
			t.Fatalf("expect a three-hour gap to fail, got %+v", cs)
		}
		g := cs.CadenceGaps[0]
		if g.Unsigned || g.FromSeq != 7 || g.ToSeq != 8 || !g.From.Equal(last) || !g.To.Equal(last.Add(3*time.Hour)) {
			t.Fatalf("expect the gap seq 7-8 from %s, three hours, got %+v", last, g)
		}
		if !strings.Contains(cs.Problem, "no digest from "+last.Format(time.RFC3339)) {
			t.Errorf("expect the problem to name the gap, got %q", cs.Problem)
		}
		// Without the schedule nothing is checked.
		c := &digest.Checker{Source: f.dir, Keys: f.keys}
		if st, err := ledger.VerifyChains(context.Background(), f.chain, c, nil); err != nil || !st.Verified {
			t.Fatalf("expect no cadence, no cadence check: %v %+v", err, st)
		}
	})
}
