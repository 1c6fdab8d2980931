package digest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Version is the digest format version.
const Version = 1

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
	Signature     string    `json:"signature"` // base64
}

// The signing algorithms.
const (
	AlgEd25519     = "ed25519"       // locally
	AlgECDSASHA256 = "ECDSA_SHA_256" // AWS KMS, ECC_NIST_P256
)

const header = "residency-digest-v1\n"

// SigningInput is the canonical encoding the signature covers: every field
// but the signature, length-prefixed as in the ledger's entries.
func (d *Digest) SigningInput() []byte {
	b := make([]byte, 0, 256)
	b = append(b, header...)
	b = ledger.AppendField(b, strconv.Itoa(d.Version))
	b = ledger.AppendField(b, d.Region)
	b = ledger.AppendField(b, strconv.FormatInt(d.FromSeq, 10))
	b = ledger.AppendField(b, strconv.FormatInt(d.ToSeq, 10))
	b = ledger.AppendField(b, d.HeadHash)
	b = ledger.AppendField(b, d.PrevSignature)
	b = ledger.AppendField(b, d.Time.UTC().Format(time.RFC3339Nano))
	b = ledger.AppendField(b, d.Algorithm)
	b = ledger.AppendField(b, d.KeyID)
	return b
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
	// Sign signs msg (the digest's signing input).
	Sign(ctx context.Context, msg []byte) ([]byte, error)
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

// ChainReader reads a region's chain in seq order (both stores implement
// it).
type ChainReader interface {
	ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error
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
