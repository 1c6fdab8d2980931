package ledger

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// ChainReader reads a ledger's chains.
type ChainReader interface {
	Chains(ctx context.Context) ([]string, error)
	// ScanChainAfter calls fn with at most limit entries of region's chain
	// (limit <= 0: all) whose seq is above afterSeq, in seq order.
	ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*Entry) error) error
}

// DigestHead is what the check of a chain's signed digests found: how many
// there are, the newest that verified, and why they do not, if they do not.
type DigestHead struct {
	Digests   int       // how many digests of the chain were found
	SignedSeq int64     // the newest digest's to_seq
	SignedAt  time.Time // the newest digest's time
	// SignedHash is the newest digest's head hash (the entry's at
	// SignedSeq) and SignedKeyID the id of the key that signed it.
	SignedHash  string
	SignedKeyID string
	// Problem, when not empty, is why the digests themselves do not
	// verify; ProblemSeq is the first seq they leave unvouched for.
	Problem    string
	ProblemSeq int64
}

// Signed is what a chain's signed digests vouch for.
type Signed struct {
	DigestHead
	// Anchor makes a Verifier check the chain against every digest that
	// verified (nil: none did).
	Anchor func(*Verifier)
	// Points are the digests that verified, oldest first, and Cadence the
	// schedule they keep (a zero Every: not checked); see [Cadence.Gaps].
	Points  []DigestPoint
	Cadence Cadence
}

// DigestChecker checks the signed digests of a ledger's chains (the digest
// package's Checker).
type DigestChecker interface {
	// Regions lists the regions that have digests.
	Regions(ctx context.Context) ([]string, error)
	// Signed checks region's digests; an error means they cannot be read.
	Signed(ctx context.Context, region string) (Signed, error)
}

// ChainStatus is the verification result of one region's chain.
type ChainStatus struct {
	Region      string `json:"region"`
	Entries     int64  `json:"entries"`
	Verified    bool   `json:"verified"`
	Head        Head   `json:"head"`
	FirstBadSeq int64  `json:"first_bad_seq,omitempty"`
	Problem     string `json:"problem,omitempty"`
	// Digests is how many signed digests of the chain were checked;
	// SignedSeq, SignedAt, SignedHash and SignedKeyID are the newest valid
	// one's to_seq, time, head hash (the hash of the entry at SignedSeq)
	// and signing key. Entries after SignedSeq await the next digest.
	Digests     int        `json:"digests"`
	SignedSeq   int64      `json:"signed_seq"`
	SignedAt    *time.Time `json:"signed_at,omitempty"`
	SignedHash  string     `json:"signed_hash,omitempty"`
	SignedKeyID string     `json:"signed_key_id,omitempty"`
	// CadenceGaps are the stretches the digest schedule left unsigned
	// (see [Cadence.Gaps]); any fails the chain.
	CadenceGaps []CadenceGap `json:"cadence_gaps,omitempty"`
}

// Signed describes what the digests vouch for: "signed to seq N at T (k
// digests)", "no signed digest", or, when checked is false, "digests not
// checked".
func (c *ChainStatus) Signed(checked bool) string {
	switch {
	case !checked:
		return "digests not checked"
	case c.Digests == 0 || c.SignedAt == nil:
		return "no signed digest: a truncated tail cannot be detected"
	}
	s := fmt.Sprintf("signed to seq %d at %s (%d digests)", c.SignedSeq, c.SignedAt.Format(time.RFC3339), c.Digests)
	if n := c.Head.Seq - c.SignedSeq; n > 0 && c.Verified {
		s += fmt.Sprintf(", %d newer entries await the next digest", n)
	}
	return s
}

// Status sums up the chains of a ledger.
type Status struct {
	Entries  int64           `json:"entries"`
	Verified bool            `json:"verified"`
	Head     map[string]Head `json:"head"`
	Chains   []ChainStatus   `json:"chains"`
	// DigestsChecked says the signed digests were checked too: without
	// them, a truncated tail or a chain rewritten from some entry on cannot
	// be detected.
	DigestsChecked bool `json:"digests_checked"`
}

// NewStatus is the status of a ledger before verification: nothing
// verified, no chain.
func NewStatus() Status {
	return Status{Head: map[string]Head{}, Chains: []ChainStatus{}}
}

// chainPageSize is how many entries one keyset read of a chain asks for.
const chainPageSize = 5000

// VerifyChains checks every chain of l from its first entry and, when
// digests is not nil, the signed digests and the chain against them (each
// digest's head hash, and that the chain reaches the newest digest); a
// region with digests but no entries lost its whole chain. It reads the
// chains concurrently, at most GOMAXPROCS at a time. observe, when not nil,
// is asked once per region, before the reads start, for a function that
// sees each of its entries in seq order as they are read (nil: none), so
// that a caller summarizes the ledger in the same read.
func VerifyChains(ctx context.Context, l ChainReader, digests DigestChecker, observe func(region string) func(*Entry)) (Status, error) {
	st := NewStatus()
	st.Verified, st.DigestsChecked = true, digests != nil
	regions, err := l.Chains(ctx)
	if err != nil {
		return st, err
	}
	if digests != nil {
		signed, err := digests.Regions(ctx)
		if err != nil {
			return st, fmt.Errorf("list digests: %w", err)
		}
		for _, r := range signed {
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
	}
	slices.Sort(regions)
	chains := make([]ChainStatus, len(regions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, runtime.GOMAXPROCS(0)))
	for i, r := range regions {
		var fn func(*Entry)
		if observe != nil {
			fn = observe(r)
		}
		g.Go(func() error {
			var err error
			chains[i], err = verifyChain(gctx, l, r, digests, fn)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return st, err
	}
	for _, cs := range chains {
		st.Verified = st.Verified && cs.Verified
		st.Entries += cs.Entries
		st.Head[cs.Region] = cs.Head
		st.Chains = append(st.Chains, cs)
	}
	return st, nil
}

func verifyChain(ctx context.Context, l ChainReader, region string, digests DigestChecker, observe func(*Entry)) (ChainStatus, error) {
	v := NewVerifier(region)
	cs := ChainStatus{Region: region}
	var signed Signed
	if digests != nil {
		var err error
		if signed, err = digests.Signed(ctx, region); err != nil {
			return cs, err
		}
		if signed.Anchor != nil {
			signed.Anchor(v)
		}
		cs.Digests, cs.SignedSeq, cs.SignedHash, cs.SignedKeyID = signed.Digests, signed.SignedSeq, signed.SignedHash, signed.SignedKeyID
		if !signed.SignedAt.IsZero() {
			at := signed.SignedAt.UTC()
			cs.SignedAt = &at
		}
	}
	var unsigned Unsigned
	checkCadence := signed.Cadence.Every > 0
	var after int64
	for {
		n := 0
		err := l.ScanChainAfter(ctx, region, after, chainPageSize, func(e *Entry) error {
			n++
			cs.Entries++
			after = e.Seq
			v.Add(e)
			if checkCadence && e.Seq > signed.SignedSeq {
				unsigned.Add(e)
			}
			if observe != nil {
				observe(e)
			}
			return nil
		})
		if err != nil {
			return cs, err
		}
		if n < chainPageSize {
			break
		}
	}
	cs.Head = v.Head()
	var b *BreakError
	switch {
	case errors.As(v.Close(), &b) && (signed.Problem == "" || b.Seq <= signed.ProblemSeq):
		cs.FirstBadSeq, cs.Problem = b.Seq, b.Reason
		if signed.Problem != "" {
			cs.Problem += "; and the digests: " + signed.Problem
		}
	case signed.Problem != "":
		cs.FirstBadSeq, cs.Problem = signed.ProblemSeq, "digests: "+signed.Problem
	default:
		cs.Verified = true
	}
	if cs.Verified && checkCadence {
		if gaps := signed.Cadence.Gaps(region, signed.Points, unsigned); len(gaps) > 0 {
			cs.Verified, cs.CadenceGaps, cs.FirstBadSeq = false, gaps, gaps[0].FromSeq
			msgs := make([]string, len(gaps))
			for i, g := range gaps {
				msgs[i] = g.String()
			}
			cs.Problem = fmt.Sprintf("digest cadence (one every %s): %s", signed.Cadence.Every, strings.Join(msgs, "; "))
		}
	}
	return cs, nil
}
