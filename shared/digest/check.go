package digest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Checker checks a deployment's digests against their keys.
type Checker struct {
	Source Source
	Keys   Keys
}

// Result is what one region's digests vouch for.
type Result struct {
	Digests   int       // how many
	SignedSeq int64     // the newest digest's to_seq
	SignedAt  time.Time // the newest digest's time
	// Problem, when not empty, is why the digests themselves do not
	// verify; ProblemSeq is the first seq they leave unvouched for.
	Problem    string
	ProblemSeq int64
	valid      []Digest
}

// Anchor makes v check the chain against every digest that verified: the
// entry at each digest's to_seq must have the hash it signed, and the chain
// must reach the newest digest's to_seq.
func (r *Result) Anchor(v *ledger.Verifier) {
	for i := range r.valid {
		d := &r.valid[i]
		if d.ToSeq > 0 {
			v.Anchor(d.ToSeq, d.HeadHash, d.Name())
		}
	}
}

// Signed checks region's digests (see [Checker.Check]) and says what they
// vouch for, as the ledger's verification takes it.
func (c *Checker) Signed(ctx context.Context, region string) (ledger.Signed, error) {
	r, err := c.Check(ctx, region)
	if err != nil {
		return ledger.Signed{}, err
	}
	return ledger.Signed{Digests: r.Digests, SignedSeq: r.SignedSeq, SignedAt: r.SignedAt, Problem: r.Problem, ProblemSeq: r.ProblemSeq,
		Anchor: r.Anchor}, nil
}

var _ ledger.DigestChecker = (*Checker)(nil)

// Regions lists the regions with digests.
func (c *Checker) Regions(ctx context.Context) ([]string, error) { return c.Source.Regions(ctx) }

// Check reads and checks region's digests: each signature, and that each
// digest follows the one before (its prev_digest_signature, from_seq and
// time), so a removed, replaced or reordered digest shows. It returns an
// error only when the digests cannot be read.
func (c *Checker) Check(ctx context.Context, region string) (Result, error) {
	ds, err := c.Source.List(ctx, region)
	malformed := errors.Is(err, ErrMalformed)
	if err != nil && !malformed {
		return Result{}, fmt.Errorf("digests of %s: %w", region, err)
	}
	r := Result{Digests: len(ds)}
	var prev *Digest
	for i := range ds {
		d := &ds[i]
		problem := ""
		switch {
		case d.Version != Version:
			problem = fmt.Sprintf("%s: unknown version %d", d.Name(), d.Version)
		case d.Region != region:
			problem = fmt.Sprintf("%s: names region %q", d.Name(), d.Region)
		}
		if problem == "" {
			if err := c.Keys.Verify(d); err != nil {
				problem = fmt.Sprintf("%s: %v", d.Name(), err)
			}
		}
		if problem == "" {
			switch {
			case prev == nil && d.PrevSignature != "":
				problem = fmt.Sprintf("%s names a previous digest, but it is the oldest one found: older digests were removed", d.Name())
			case prev == nil && d.FromSeq != 1:
				problem = fmt.Sprintf("%s starts at seq %d, but it is the oldest one found: older digests were removed", d.Name(), d.FromSeq)
			case prev != nil && d.PrevSignature != prev.Signature:
				problem = fmt.Sprintf("%s does not follow %s (prev_digest_signature differs): a digest between them was removed or replaced", d.Name(), prev.Name())
			case prev != nil && d.FromSeq != prev.ToSeq+1:
				problem = fmt.Sprintf("%s starts at seq %d, but %s ended at seq %d", d.Name(), d.FromSeq, prev.Name(), prev.ToSeq)
			case prev != nil && !d.Time.After(prev.Time):
				problem = fmt.Sprintf("%s is not later than %s", d.Name(), prev.Name())
			case d.ToSeq < d.FromSeq-1:
				problem = fmt.Sprintf("%s ends before it starts", d.Name())
			}
		}
		if problem != "" {
			r.Problem, r.ProblemSeq = problem, 1
			if prev != nil {
				r.ProblemSeq = prev.ToSeq + 1
			}
			return r, nil
		}
		r.valid = append(r.valid, *d)
		r.SignedSeq, r.SignedAt = d.ToSeq, d.Time
		prev = d
	}
	if malformed {
		r.Digests++
		r.Problem, r.ProblemSeq = err.Error(), r.SignedSeq+1
	}
	return r, nil
}
