package digest

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/ledger"
)

// Version is the digest format version the writer signs. Version 2 adds
// the chain's Merkle tree head (tree_size, root_hash) and its signed
// checkpoint; version 1 digests keep verifying.
const Version = 2

// Digest vouches for one region's ledger chain up to ToSeq: it names the
// head hash at ToSeq and the signature of the region's previous digest, so
// the digests form a chain of their own, and it is signed.
type Digest struct {
	Version int    `json:"version"`
	Region  string `json:"region"`
	// FromSeq and ToSeq are the entries this digest adds to its
	// predecessor's; when nothing was appended since, FromSeq is ToSeq+1.
	FromSeq  int64  `json:"from_seq"`
	ToSeq    int64  `json:"to_seq"`
	HeadHash string `json:"head_hash"`
	// PrevSignature is the previous digest's signature (base64), empty for
	// a region's first digest.
	PrevSignature string    `json:"prev_digest_signature"`
	Time          time.Time `json:"time"`
	Algorithm     string    `json:"signing_algorithm"`
	KeyID         string    `json:"key_id"`
	// Version 2: the chain's Merkle tree at ToSeq entries (TreeSize is
	// ToSeq), its root hash (base64), and the same tree head as a C2SP
	// tlog-checkpoint signed note, signed by the same key.
	TreeSize   int64  `json:"tree_size,omitempty"`
	RootHash   string `json:"root_hash,omitempty"`
	Checkpoint string `json:"checkpoint,omitempty"`
	Signature  string `json:"signature"` // base64
}

// The signing algorithms.
const (
	AlgEd25519     = "ed25519"       // locally
	AlgECDSASHA256 = "ECDSA_SHA_256" // AWS KMS, ECC_NIST_P256
)

const (
	header   = "residency-digest-v1\n"
	headerV2 = "residency-digest-v2\n"
)

// SigningInput is the canonical encoding the signature covers: every field
// but the signature, length-prefixed as in the ledger's entries (version
// 2: its own first line, and tree_size, root_hash and checkpoint last).
func (d *Digest) SigningInput() []byte {
	b := make([]byte, 0, 512)
	if d.Version >= 2 {
		b = append(b, headerV2...)
	} else {
		b = append(b, header...)
	}
	b = ledger.AppendField(b, strconv.Itoa(d.Version))
	b = ledger.AppendField(b, d.Region)
	b = ledger.AppendField(b, strconv.FormatInt(d.FromSeq, 10))
	b = ledger.AppendField(b, strconv.FormatInt(d.ToSeq, 10))
	b = ledger.AppendField(b, d.HeadHash)
	b = ledger.AppendField(b, d.PrevSignature)
	b = ledger.AppendField(b, d.Time.UTC().Format(time.RFC3339Nano))
	b = ledger.AppendField(b, d.Algorithm)
	b = ledger.AppendField(b, d.KeyID)
	if d.Version >= 2 {
		b = ledger.AppendField(b, strconv.FormatInt(d.TreeSize, 10))
		b = ledger.AppendField(b, d.RootHash)
		b = ledger.AppendField(b, d.Checkpoint)
	}
	return b
}

// Root decodes the root hash of a version 2 digest.
func (d *Digest) Root() (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(d.RootHash)
	if err != nil || len(b) != tlog.HashSize {
		return h, fmt.Errorf("root_hash %q is not %d bytes of base64", d.RootHash, tlog.HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// Name describes the digest in messages: "the digest of <time> (seq a-b)".
func (d *Digest) Name() string {
	return fmt.Sprintf("the digest of %s (seq %d-%d)", d.Time.UTC().Format(time.RFC3339), d.FromSeq, d.ToSeq)
}

// Signer signs digests.
type Signer interface {
	// Algorithm is the digest's signing_algorithm.
	Algorithm() string
	// KeyID names the key in the digest, so a verifier finds its public key.
	KeyID() string
	// Sign signs msg (the digest's signing input, or a checkpoint's text):
	// ed25519 over msg, or ECDSA over its SHA-256 (ASN.1 DER).
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	// PublicKey is the key's public half (it names the key in
	// checkpoints).
	PublicKey(ctx context.Context) (crypto.PublicKey, error)
}

// Store keeps a deployment's digests: beside the embedded store locally, in
// an S3 bucket with Object Lock in compliance mode on AWS.
type Store interface {
	Source
	// Put writes d; a store never overwrites a digest.
	Put(ctx context.Context, d *Digest) error
	// Latest returns region's newest digest, or nil if it has none.
	Latest(ctx context.Context, region string) (*Digest, error)
}

// Source lists the digests a verification checks.
type Source interface {
	// Regions lists the regions with at least one digest.
	Regions(ctx context.Context) ([]string, error)
	// List returns region's digests, oldest first. When a digest cannot be
	// decoded it returns the ones before it and an error wrapping
	// ErrMalformed.
	List(ctx context.Context, region string) ([]Digest, error)
}

// ChainReader reads a region's chain in seq order and the stored hashes of
// its Merkle tree (both stores implement it).
type ChainReader interface {
	ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error
	ledger.NodeReader
}

// TreeBackfiller is a store that computes missing stored hashes of a
// chain's tree from its entries on request (DynamoDB does it on the next
// append otherwise).
type TreeBackfiller interface {
	BackfillTree(ctx context.Context, region string) error
}

// ErrMalformed marks a stored digest that does not decode.
var ErrMalformed = errors.New("malformed digest")

// ErrRefused marks a digest the writer refused to sign because the chain
// does not extend the last signed digest: signing it would vouch for a
// tampered ledger.
var ErrRefused = errors.New("refusing to sign a digest")

// Writer signs and stores digests of the chains.
type Writer struct {
	Signer Signer
	Store  Store
	Chain  ChainReader
	Now    func() time.Time
	// Deployment names the deployment in checkpoint origins
	// ("<deployment>/<region>"; default DefaultDeployment).
	Deployment string
}

// pageSize is how many entries the writer reads at a time.
const pageSize = 5000

// Write signs a digest of region's chain up to its head. It first checks
// that the entries appended since the last digest extend the hash it signed
// (reading only those entries); if they do not, it refuses (ErrRefused).
// When nothing was appended since the last digest, it writes one only if
// always is set (the hourly digest in AWS proves the ledger was intact at
// that hour), and otherwise returns nil.
func (w *Writer) Write(ctx context.Context, region string, always bool) (*Digest, error) {
	prev, err := w.Store.Latest(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("digest %s: read the last digest: %w", region, err)
	}
	v := ledger.NewVerifier(region)
	var after int64
	if prev != nil {
		// The signed head must still be there, unchanged.
		found := false
		err := w.Chain.ScanChainAfter(ctx, region, prev.ToSeq-1, 1, func(e *ledger.Entry) error {
			found = e.Seq == prev.ToSeq && e.Hash == prev.HeadHash
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w", region, err)
		}
		if !found && prev.ToSeq > 0 {
			return nil, fmt.Errorf("%w for %s: the entry at seq %d is missing or differs from %s", ErrRefused, region, prev.ToSeq, prev.Name())
		}
		v = ledger.NewVerifierAfter(region, ledger.Head{Seq: prev.ToSeq, Hash: prev.HeadHash})
		after = prev.ToSeq
	}
	for {
		n := 0
		err := w.Chain.ScanChainAfter(ctx, region, after, pageSize, func(e *ledger.Entry) error {
			n++
			after = e.Seq
			return v.Add(e)
		})
		var b *ledger.BreakError
		if errors.As(err, &b) {
			return nil, fmt.Errorf("%w for %s: %v", ErrRefused, region, b)
		}
		if err != nil {
			return nil, fmt.Errorf("digest %s: %w", region, err)
		}
		if n < pageSize {
			break
		}
	}
	head := v.Head()
	d := &Digest{Version: Version, Region: region, FromSeq: 1, ToSeq: head.Seq, HeadHash: head.PrevHash(),
		Time: w.Now().UTC(), Algorithm: w.Signer.Algorithm(), KeyID: w.Signer.KeyID()}
	if prev != nil {
		if head.Seq == prev.ToSeq && !always {
			return nil, nil
		}
		d.FromSeq, d.PrevSignature = prev.ToSeq+1, prev.Signature
		if !d.Time.After(prev.Time) {
			// Digest times order the digests: keep them strictly increasing
			// even under a fixed or skewed clock.
			d.Time = prev.Time.Add(time.Millisecond)
		}
	} else if head.Seq == 0 && !always {
		return nil, nil
	}
	if err := w.treeHead(ctx, d, prev); err != nil {
		return nil, err
	}
	sig, err := w.Signer.Sign(ctx, d.SigningInput())
	if err != nil {
		return nil, fmt.Errorf("digest %s: sign: %w", region, err)
	}
	d.Signature = base64.StdEncoding.EncodeToString(sig)
	if err := w.Store.Put(ctx, d); err != nil {
		return nil, fmt.Errorf("digest %s: store: %w", region, err)
	}
	return d, nil
}

// treeHead gives d the tree head at d.ToSeq and its signed checkpoint,
// after checking, from the stored hashes, that the tree extends the one
// prev signed (a consistency proof) and holds the head entry as its last
// leaf (an inclusion proof); otherwise it refuses.
func (w *Writer) treeHead(ctx context.Context, d *Digest, prev *Digest) error {
	tree := ledger.Tree{Nodes: w.Chain}
	size := d.ToSeq
	root, err := tree.Root(ctx, d.Region, size)
	if errors.Is(err, ledger.ErrTreeIncomplete) {
		if b, ok := w.Chain.(TreeBackfiller); ok {
			if err := b.BackfillTree(ctx, d.Region); err != nil {
				return fmt.Errorf("digest %s: %w", d.Region, err)
			}
			root, err = tree.Root(ctx, d.Region, size)
		}
	}
	if err != nil {
		return fmt.Errorf("digest %s: %w", d.Region, err)
	}
	if size > 0 {
		leaf, err := ledger.LeafHash(d.HeadHash)
		if err != nil {
			return fmt.Errorf("digest %s: %w", d.Region, err)
		}
		p, err := tree.ProveEntry(ctx, d.Region, size, size)
		if err != nil {
			return fmt.Errorf("digest %s: %w", d.Region, err)
		}
		if tlog.CheckRecord(p, size, root, size-1, leaf) != nil {
			return fmt.Errorf("%w for %s: the tree's last leaf at size %d is not the head entry", ErrRefused, d.Region, size)
		}
	}
	if prev != nil && prev.Version >= 2 && prev.TreeSize > 0 {
		old, err := prev.Root()
		if err != nil {
			return fmt.Errorf("digest %s: %s: %w", d.Region, prev.Name(), err)
		}
		p, err := tree.ProveConsistency(ctx, d.Region, prev.TreeSize, size)
		if err != nil {
			return fmt.Errorf("digest %s: %w", d.Region, err)
		}
		if tlog.CheckTree(p, size, root, prev.TreeSize, old) != nil {
			return fmt.Errorf("%w for %s: the tree at size %d does not extend the one %s signed at size %d", ErrRefused, d.Region, size, prev.Name(), prev.TreeSize)
		}
	}
	d.TreeSize, d.RootHash = size, base64.StdEncoding.EncodeToString(root[:])
	cp, err := SignCheckpoint(ctx, w.Signer, Checkpoint{Origin: Origin(w.Deployment, d.Region), Size: size, Root: root})
	if err != nil {
		return fmt.Errorf("digest %s: %w", d.Region, err)
	}
	d.Checkpoint = cp
	return nil
}
