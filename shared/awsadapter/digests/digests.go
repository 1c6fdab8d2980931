// Package digests is the AWS side of the ledger's signed digests: a KMS
// signer (an ECC_NIST_P256 key, ECDSA_SHA_256), its public key for
// verification, and the digest store, an S3 bucket with Object Lock in
// compliance mode where each digest is written once and never overwritten.
//
// Object keys follow CloudTrail's digest layout:
// digests/<region>/<yyyy>/<mm>/<dd>/<time>_<to_seq>.json, so a listing is in
// time order. Erasure certificates go beside them, written once:
// certificates/<request id>.json.
package digests

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/digest"
)

// KMSAPI is the part of the KMS client the signer and Keys use.
type KMSAPI interface {
	Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// Signer signs digests with a KMS asymmetric key.
type Signer struct {
	API KMSAPI
	Key string // the key ARN: it names the key in every digest

	mu  sync.Mutex
	pub crypto.PublicKey // fetched once
}

// PublicKey implements digest.Signer: the key's public half, from KMS
// (GetPublicKey), once.
func (s *Signer) PublicKey(ctx context.Context) (crypto.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return s.pub, nil
	}
	keys, err := Keys(ctx, s.API, s.Key)
	if err != nil {
		return nil, err
	}
	s.pub = keys[s.Key]
	return s.pub, nil
}

// PublicKeyPEM returns keyID's public key from KMS as PKIX PEM, the form
// `residency check-proof --public-key` reads.
func PublicKeyPEM(ctx context.Context, api KMSAPI, keyID string) ([]byte, error) {
	keys, err := Keys(ctx, api, keyID)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(keys[keyID])
	if err != nil {
		return nil, fmt.Errorf("kms key %s: %w", keyID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Algorithm implements digest.Signer.
func (s *Signer) Algorithm() string { return digest.AlgECDSASHA256 }

// KeyID implements digest.Signer.
func (s *Signer) KeyID() string { return s.Key }

// Sign implements digest.Signer: KMS hashes the message (MessageType RAW)
// and returns an ASN.1 DER signature.
func (s *Signer) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	out, err := s.API.Sign(ctx, &kms.SignInput{KeyId: aws.String(s.Key), Message: msg,
		MessageType: kmstypes.MessageTypeRaw, SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		return nil, fmt.Errorf("kms sign with %s: %w", s.Key, err)
	}
	return out.Signature, nil
}

// Keys fetches the public keys of keyIDs (key ARNs, as digests name them)
// from KMS, once: the checks then run locally.
func Keys(ctx context.Context, api KMSAPI, keyIDs ...string) (digest.Keys, error) {
	keys := digest.Keys{}
	for _, id := range keyIDs {
		out, err := api.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
		if err != nil {
			return nil, fmt.Errorf("kms public key of %s: %w", id, err)
		}
		if !slices.Contains(out.SigningAlgorithms, kmstypes.SigningAlgorithmSpecEcdsaSha256) {
			return nil, fmt.Errorf("kms key %s does not sign with ECDSA_SHA_256 (it offers %v): digests are signed with an ECC_NIST_P256 key", id, out.SigningAlgorithms)
		}
		if err := keys.AddDER(id, out.PublicKey); err != nil {
			return nil, fmt.Errorf("kms key %s: %w", id, err)
		}
	}
	return keys, nil
}

// S3API is the part of the S3 client Store uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

// Store keeps digests in an S3 bucket with Object Lock (the bucket's
// default retention, compliance mode, locks each digest from its write).
type Store struct {
	API    S3API
	Bucket string
	Now    func() time.Time // finds the latest digest from recent days first
}

// Prefix is the key prefix of all digests.
const Prefix = "digests/"

// Key is the object key of d.
func Key(d *digest.Digest) string {
	return regionPrefix(d.Region) + d.Time.UTC().Format("2006/01/02/") + digest.FileName(d)
}

func regionPrefix(region string) string { return Prefix + region + "/" }

// Put implements digest.Store. The write is conditional (If-None-Match),
// so an existing digest is never replaced (nor is a write in conflict with
// a concurrent one of the key taken for a refusal: see putIfAbsent), and
// carries a SHA-256 checksum, which S3 requires of writes to Object Lock
// buckets.
func (s *Store) Put(ctx context.Context, d *digest.Digest) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	return s.putIfAbsent(ctx, Key(d), b)
}

// putIfAbsent writes body under key unless an object is there already
// (If-None-Match: *), with a SHA-256 checksum. S3 answers a write that
// races another conditional write of the key (or a delete) with a
// ConditionalRequestConflict (409), which decides nothing: that write is
// sent again (awsadapter.RetryConflicts). Any other error, a
// PreconditionFailed (412: an object is under the key) among them, is
// returned wrapped as S3 gave it.
func (s *Store) putIfAbsent(ctx context.Context, key string, body []byte) error {
	err := awsadapter.RetryConflicts(ctx, func() error {
		_, err := s.API.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*"),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
		return err
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}

// Regions implements digest.Source.
func (s *Store) Regions(ctx context.Context) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.API, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(Prefix), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, Prefix, err)
		}
		for _, cp := range page.CommonPrefixes {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), Prefix), "/"))
		}
	}
	return out, nil
}

// keys lists region's digest keys after startAfter, in order.
func (s *Store) keys(ctx context.Context, region, startAfter string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(regionPrefix(region))}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.API, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", s.Bucket, regionPrefix(region), err)
		}
		for _, o := range page.Contents {
			if k := aws.ToString(o.Key); strings.HasSuffix(k, ".json") {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

func (s *Store) get(ctx context.Context, key string) (digest.Digest, error) {
	var d digest.Digest
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return d, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, 1<<20))
	if err != nil {
		return d, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%w: s3://%s/%s: %v", digest.ErrMalformed, s.Bucket, key, err)
	}
	return d, nil
}

// List implements digest.Source.
func (s *Store) List(ctx context.Context, region string) ([]digest.Digest, error) {
	keys, err := s.keys(ctx, region, "")
	if err != nil {
		return nil, err
	}
	out := make([]digest.Digest, 0, len(keys))
	for _, k := range keys {
		d, err := s.get(ctx, k)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// recentDays is how far back Latest looks before it lists every digest:
// digests are hourly, so the latest is almost always within it.
const recentDays = 3

// Latest implements digest.Store. It lists the last few days' digests
// only, and all of them when those days have none (a first digest, or a
// long pause).
func (s *Store) Latest(ctx context.Context, region string) (*digest.Digest, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	since := regionPrefix(region) + now().UTC().AddDate(0, 0, -recentDays).Format("2006/01/02/")
	keys, err := s.keys(ctx, region, since)
	if err == nil && len(keys) == 0 {
		keys, err = s.keys(ctx, region, "")
	}
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	d, err := s.get(ctx, keys[len(keys)-1])
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// CertificatePrefix is the key prefix of the erasure certificates, beside
// the digests in the same Object Lock bucket.
const CertificatePrefix = "certificates/"

// CertificateKey is the object key of the certificate of an erasure
// request: certificates/<request id>.json. The id is the controller's
// request id (a ticket number, never personal data, as the certificate
// itself carries it); it is path-escaped so that it names one object.
func CertificateKey(requestID string) string {
	return CertificatePrefix + url.PathEscape(requestID) + ".json"
}

// maxCertificate is the most of a stored certificate StoreCertificate
// reads back.
const maxCertificate = 16 << 20

// StoreCertificate writes an erasure certificate once, under the bucket's
// default Object Lock retention (compliance mode, as the digests): the
// write is conditional (If-None-Match), so when a certificate of the
// request is there already it is not replaced, and StoreCertificate
// returns the stored bytes with created false. A write in conflict with a
// concurrent one of the same request is sent again, a few times with
// backoff (putIfAbsent), never taken for a certificate already there.
func (s *Store) StoreCertificate(ctx context.Context, requestID string, body []byte) (stored []byte, created bool, err error) {
	key := CertificateKey(requestID)
	switch err = s.putIfAbsent(ctx, key, body); {
	case err == nil:
		return body, true, nil
	case awsadapter.PreconditionFailed(err):
		// Already there: the first certificate stands.
	default:
		return nil, false, err
	}
	out, err := s.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, false, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	defer out.Body.Close()
	if stored, err = io.ReadAll(io.LimitReader(out.Body, maxCertificate)); err != nil {
		return nil, false, fmt.Errorf("get s3://%s/%s: %w", s.Bucket, key, err)
	}
	return stored, false, nil
}
