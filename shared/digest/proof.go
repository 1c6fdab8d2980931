package digest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/ledger"
)

// The proof types.
const (
	ProofInclusion   = "inclusion"
	ProofConsistency = "consistency"
)

// Proof is what an auditor checks alone (CheckProof): an inclusion proof
// of one entry (Entry, LeafIndex, AuditPath against Checkpoint), or a
// consistency proof between two signed tree heads (FromCheckpoint,
// Checkpoint, ConsistencyPath). Hashes are base64, as in checkpoints.
type Proof struct {
	Type   string `json:"type"`
	Region string `json:"region"`
	// Inclusion: the entry as the ledger's JSON has it, its leaf index
	// (seq-1) and the audit path to the root of the checkpoint's tree.
	Entry     *ledger.Entry `json:"entry,omitempty"`
	LeafIndex int64         `json:"leaf_index,omitempty"`
	AuditPath []string      `json:"audit_path,omitempty"`
	// Consistency: the older tree head and the path from it to the newer.
	FromSize        int64    `json:"from_size,omitempty"`
	FromRoot        string   `json:"from_root,omitempty"`
	FromCheckpoint  string   `json:"from_checkpoint,omitempty"`
	ConsistencyPath []string `json:"consistency_path,omitempty"`
	// The (newer) signed tree head.
	TreeSize   int64  `json:"tree_size"`
	RootHash   string `json:"root_hash"`
	Checkpoint string `json:"checkpoint,omitempty"`
	// The key that signed the checkpoints: its id (the note's key name),
	// algorithm and fingerprint (SHA-256 of its PKIX DER).
	KeyID          string `json:"key_id"`
	Algorithm      string `json:"signing_algorithm"`
	KeyFingerprint string `json:"key_fingerprint"`
}

// ErrNotSigned marks a proof asked of what no signed digest covers yet.
var ErrNotSigned = errors.New("not signed yet")

// ErrInvalidProof marks a proof that does not check.
var ErrInvalidProof = errors.New("invalid proof")

// Prover makes proofs from the store's stored hashes and the signed
// digests.
type Prover struct {
	Source Source
	Chain  ChainReader
	Keys   Keys // the digest keys: the proof names the key's fingerprint
}

// newest returns region's newest version 2 digest, checked (signature and
// checkpoint), and all of region's digests.
func (p *Prover) newest(ctx context.Context, region string) (*Digest, []Digest, error) {
	ds, err := p.Source.List(ctx, region)
	if err != nil {
		return nil, nil, fmt.Errorf("digests of %s: %w", region, err)
	}
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Version >= 2 {
			d := &ds[i]
			if err := p.Keys.Verify(d); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", d.Name(), err)
			}
			if problem := (&Checker{Keys: p.Keys}).checkTreeHead(region, d); problem != "" {
				return nil, nil, errors.New(problem)
			}
			return d, ds, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: region %s has no signed checkpoint (no version 2 digest); the next digest signs one", ErrNotSigned, region)
}

func (p *Prover) proof(typ string, d *Digest) (*Proof, error) {
	pr := &Proof{Type: typ, Region: d.Region, TreeSize: d.TreeSize, RootHash: d.RootHash, Checkpoint: d.Checkpoint,
		KeyID: d.KeyID, Algorithm: d.Algorithm}
	fp, err := Fingerprint(p.Keys[d.KeyID])
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", d.KeyID, err)
	}
	pr.KeyFingerprint = fp
	return pr, nil
}

// ProveEntry proves the entry at seq of region's chain included in the
// tree its newest signed checkpoint signs.
func (p *Prover) ProveEntry(ctx context.Context, region string, seq int64) (*Proof, error) {
	d, _, err := p.newest(ctx, region)
	if err != nil {
		return nil, err
	}
	if seq < 1 || seq > d.TreeSize {
		return nil, fmt.Errorf("%w: seq %d of %s: the newest checkpoint (%s) signs %d entries", ErrNotSigned, seq, region, d.Name(), d.TreeSize)
	}
	var e *ledger.Entry
	err = p.Chain.ScanChainAfter(ctx, region, seq-1, 1, func(x *ledger.Entry) error {
		if x.Seq == seq {
			c := *x
			e = &c
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s seq %d: %w", region, seq, err)
	}
	if e == nil {
		return nil, fmt.Errorf("%s has no entry at seq %d", region, seq)
	}
	path, err := ledger.Tree{Nodes: p.Chain}.ProveEntry(ctx, region, seq, d.TreeSize)
	if err != nil {
		return nil, err
	}
	pr, err := p.proof(ProofInclusion, d)
	if err != nil {
		return nil, err
	}
	pr.Entry, pr.LeafIndex, pr.AuditPath = e, seq-1, encodeHashes(path)
	return pr, nil
}

// ProveConsistency proves region's tree at toSize an extension of its tree
// at fromSize; the proof carries the checkpoints of the digests that
// signed those sizes (toSize 0: the newest).
func (p *Prover) ProveConsistency(ctx context.Context, region string, fromSize, toSize int64) (*Proof, error) {
	newest, ds, err := p.newest(ctx, region)
	if err != nil {
		return nil, err
	}
	if toSize == 0 {
		toSize = newest.TreeSize
	}
	signedAt := func(size int64) *Digest {
		for i := len(ds) - 1; i >= 0; i-- {
			if ds[i].Version >= 2 && ds[i].TreeSize == size && ds[i].KeyID == newest.KeyID {
				return &ds[i]
			}
		}
		return nil
	}
	to, from := signedAt(toSize), signedAt(fromSize)
	switch {
	case to == nil:
		return nil, fmt.Errorf("%w: no digest of %s signs a tree of size %d", ErrNotSigned, region, toSize)
	case from == nil:
		return nil, fmt.Errorf("%w: no digest of %s signs a tree of size %d", ErrNotSigned, region, fromSize)
	}
	for _, d := range []*Digest{from, to} {
		if err := p.Keys.Verify(d); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Name(), err)
		}
	}
	path, err := ledger.Tree{Nodes: p.Chain}.ProveConsistency(ctx, region, fromSize, toSize)
	if err != nil {
		return nil, err
	}
	pr, err := p.proof(ProofConsistency, to)
	if err != nil {
		return nil, err
	}
	pr.FromSize, pr.FromRoot, pr.FromCheckpoint, pr.ConsistencyPath = from.TreeSize, from.RootHash, from.Checkpoint, encodeHashes(path)
	return pr, nil
}

func encodeHashes(hs []tlog.Hash) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func decodeHashes(what string, ss []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(ss))
	for i, s := range ss {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("%s[%d] is not %d bytes of base64", what, i, tlog.HashSize)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// ParseProof decodes a proof file, strictly: unknown fields are an error.
func ParseProof(b []byte) (*Proof, error) {
	var p Proof
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: not a proof file: %v", ErrInvalidProof, err)
	}
	return &p, nil
}

// CheckProof checks p with keys alone (no store, no network): the
// checkpoint's signature by the key p names, that it signs p's tree head
// for p's region, and then, for an inclusion proof, the entry's hash from
// its fields, its leaf and the audit path to the signed root; for a
// consistency proof, the older checkpoint too and the path between them.
// Its errors wrap ErrInvalidProof and say what does not check.
func CheckProof(p *Proof, keys Keys) error {
	if err := checkProof(p, keys); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	return nil
}

func checkProof(p *Proof, keys Keys) error {
	open := func(what, signed string, size int64, rootB64 string) (tlog.Hash, error) {
		if signed == "" {
			return tlog.Hash{}, fmt.Errorf("no signed %s", what)
		}
		cp, err := keys.OpenCheckpoint(signed, p.KeyID)
		if err != nil {
			return tlog.Hash{}, fmt.Errorf("%s: %v", what, err)
		}
		if !strings.HasSuffix(cp.Origin, "/"+p.Region) {
			return tlog.Hash{}, fmt.Errorf("%s: origin %q is not region %s's log", what, cp.Origin, p.Region)
		}
		if cp.Size != size {
			return tlog.Hash{}, fmt.Errorf("%s: signs a tree of %d entries, the proof says %d", what, cp.Size, size)
		}
		if base64.StdEncoding.EncodeToString(cp.Root[:]) != rootB64 {
			return tlog.Hash{}, fmt.Errorf("%s: signs another root hash than the proof's", what)
		}
		return cp.Root, nil
	}
	root, err := open("checkpoint", p.Checkpoint, p.TreeSize, p.RootHash)
	if err != nil {
		return err
	}
	switch p.Type {
	case ProofInclusion:
		e := p.Entry
		if e == nil {
			return errors.New("no entry")
		}
		if e.Region != p.Region {
			return fmt.Errorf("the entry is of chain %q, the proof of %q", e.Region, p.Region)
		}
		if e.Seq != p.LeafIndex+1 {
			return fmt.Errorf("the entry's seq %d is not leaf %d's", e.Seq, p.LeafIndex)
		}
		if p.LeafIndex < 0 || p.LeafIndex >= p.TreeSize {
			return fmt.Errorf("leaf %d is outside a tree of %d entries", p.LeafIndex, p.TreeSize)
		}
		if h, _ := e.ComputeHash(nil); h != e.Hash {
			return fmt.Errorf("entry seq %d: its fields do not hash to its hash: the entry was altered", e.Seq)
		}
		leaf, err := ledger.LeafHash(e.Hash)
		if err != nil {
			return fmt.Errorf("entry seq %d: %v", e.Seq, err)
		}
		path, err := decodeHashes("audit_path", p.AuditPath)
		if err != nil {
			return err
		}
		if err := tlog.CheckRecord(path, p.TreeSize, root, p.LeafIndex, leaf); err != nil {
			return fmt.Errorf("entry seq %d is not in the signed tree of %d entries: the audit path leads elsewhere", e.Seq, p.TreeSize)
		}
		return nil
	case ProofConsistency:
		if p.FromSize < 1 || p.FromSize > p.TreeSize {
			return fmt.Errorf("from_size %d is not between 1 and tree_size %d", p.FromSize, p.TreeSize)
		}
		old, err := open("from_checkpoint", p.FromCheckpoint, p.FromSize, p.FromRoot)
		if err != nil {
			return err
		}
		path, err := decodeHashes("consistency_path", p.ConsistencyPath)
		if err != nil {
			return err
		}
		if err := tlog.CheckTree(path, p.TreeSize, root, p.FromSize, old); err != nil {
			return fmt.Errorf("the tree of %d entries does not extend the signed tree of %d entries", p.TreeSize, p.FromSize)
		}
		return nil
	}
	return fmt.Errorf("unknown proof type %q (want %s or %s)", p.Type, ProofInclusion, ProofConsistency)
}
