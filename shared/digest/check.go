package digest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/ledger"
)

// Checker checks a deployment's digests against their keys.
type Checker struct {
	Source Source
	Keys   Keys
	// Tree, when set, proves each version 2 digest's tree head consistent
	// with the one before from the store's stored hashes, so a ledger whose
	// past was rewritten (and its tree recomputed) fails without reading
	// its entries again. Without it, the verification of the chain still
	// rebuilds the tree from the entries and compares it with each signed
	// root.
	Tree ledger.NodeReader
	// Cadence, when its Every is set, is the schedule the digests keep:
	// the verification then fails on a gap in it (see
	// [ledger.Cadence.Gaps]); a zero Now is the time of the check.
	Cadence ledger.Cadence
}

// DefaultEvery is the deployment's digest schedule: the stack signs a
// digest of each region's chain every hour (infra.DigestSchedule,
// rate(1 hour)).
const DefaultEvery = time.Hour

// Result is what one region's digests vouch for.
type Result struct {
	ledger.DigestHead
	valid []Digest
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
		if d.Version >= 2 && d.TreeSize > 0 {
			root, _ := d.Root() // checked by Check
			v.AnchorTree(d.TreeSize, root, d.Name())
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
	cadence := c.Cadence
	if cadence.Every > 0 && cadence.Now.IsZero() {
		cadence.Now = time.Now()
	}
	points := make([]ledger.DigestPoint, len(r.valid))
	for i, d := range r.valid {
		points[i] = ledger.DigestPoint{ToSeq: d.ToSeq, Time: d.Time}
	}
	return ledger.Signed{DigestHead: r.DigestHead, Anchor: r.Anchor, Points: points, Cadence: cadence}, nil
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
	r := Result{DigestHead: ledger.DigestHead{Digests: len(ds)}}
	var prev *Digest
	for i := range ds {
		d := &ds[i]
		problem := ""
		switch {
		case d.Version != 1 && d.Version != 2:
			problem = fmt.Sprintf("%s: unknown version %d", d.Name(), d.Version)
		case d.Region != region:
			problem = fmt.Sprintf("%s: names region %q", d.Name(), d.Region)
		}
		if problem == "" {
			if err := c.Keys.Verify(d); err != nil {
				problem = fmt.Sprintf("%s: %v", d.Name(), err)
			}
		}
		if problem == "" && d.Version >= 2 {
			problem = c.checkTreeHead(region, d)
		}
		if problem == "" && d.Version >= 2 && prev != nil && prev.Version >= 2 && prev.TreeSize > 0 && c.Tree != nil {
			var err error
			if problem, err = c.consistent(ctx, region, prev, d); err != nil {
				return Result{}, err
			}
			if problem != "" {
				// The store no longer proves the tree prev signed: an entry
				// up to prev's size was rewritten.
				r.Problem, r.ProblemSeq = problem, prev.TreeSize
				return r, nil
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
		r.SignedSeq, r.SignedAt, r.SignedHash, r.SignedKeyID = d.ToSeq, d.Time, d.HeadHash, d.KeyID
		prev = d
	}
	if malformed {
		r.Digests++
		r.Problem, r.ProblemSeq = err.Error(), r.SignedSeq+1
	}
	return r, nil
}

// checkTreeHead checks a version 2 digest's tree head: its size, root and
// signed checkpoint (same key, same tree head, the region's origin).
func (c *Checker) checkTreeHead(region string, d *Digest) string {
	root, err := d.Root()
	if err != nil {
		return fmt.Sprintf("%s: %v", d.Name(), err)
	}
	if d.TreeSize != d.ToSeq {
		return fmt.Sprintf("%s: tree_size %d is not to_seq %d", d.Name(), d.TreeSize, d.ToSeq)
	}
	cp, err := c.Keys.OpenCheckpoint(d.Checkpoint, d.KeyID)
	if err != nil {
		return fmt.Sprintf("%s: %v", d.Name(), err)
	}
	switch {
	case !strings.HasSuffix(cp.Origin, "/"+region):
		return fmt.Sprintf("%s: the checkpoint's origin %q is not region %s's", d.Name(), cp.Origin, region)
	case cp.Size != d.TreeSize || cp.Root != root:
		return fmt.Sprintf("%s: the checkpoint signs another tree head (size %d) than the digest (size %d)", d.Name(), cp.Size, d.TreeSize)
	}
	return ""
}

// consistent proves d's tree head consistent with prev's from the stored
// hashes. It returns the problem, or an error when they cannot be read.
func (c *Checker) consistent(ctx context.Context, region string, prev, d *Digest) (string, error) {
	old, _ := prev.Root() // both checked by checkTreeHead
	root, _ := d.Root()
	p, err := ledger.Tree{Nodes: c.Tree}.ProveConsistency(ctx, region, prev.TreeSize, d.TreeSize)
	if errors.Is(err, ledger.ErrTreeIncomplete) {
		return fmt.Sprintf("%s: the store cannot prove its tree consistent with %s's: %v", d.Name(), prev.Name(), err), nil
	}
	if err != nil {
		return "", err
	}
	if tlog.CheckTree(p, d.TreeSize, root, prev.TreeSize, old) != nil {
		return fmt.Sprintf("the tree head of %s is not consistent with that of %s: the ledger was rewritten at or before seq %d",
			d.Name(), prev.Name(), prev.TreeSize), nil
	}
	return "", nil
}
