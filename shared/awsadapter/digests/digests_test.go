package digests_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/shared/awsadapter/digests"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Run(m)) }

const region = "eu-central-1"

type env struct {
	s3     *s3.Client
	kms    *kms.Client
	bucket string
	keyARN string
	store  *digests.Store
	chain  *sqlitestore.Store
	now    time.Time
	w      *digest.Writer
}

// newEnv makes, on moto, what the stack makes: a bucket with Object Lock
// (compliance mode, default retention) and an ECC_NIST_P256 signing key.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := mototest.Context(t)
	cfg := mototest.Config(t, region)
	e := &env{
		s3:     s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		kms:    kms.NewFromConfig(cfg),
		bucket: fmt.Sprintf("digests-%d", time.Now().UnixNano()),
		now:    time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC),
	}
	mototest.LockedBucket(t, ctx, e.s3, e.bucket, region, &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1)})
	key, err := e.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	e.keyARN = aws.ToString(key.KeyMetadata.Arn)
	e.store = &digests.Store{API: e.s3, Bucket: e.bucket, Now: func() time.Time { return e.now }}
	e.chain, err = sqlitestore.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.chain.Close() })
	e.w = &digest.Writer{Signer: &digests.Signer{API: e.kms, Key: e.keyARN}, Store: e.store, Chain: e.chain, Now: func() time.Time { return e.now }}
	return e
}

func (e *env) append(t *testing.T, n int) {
	t.Helper()
	var drafts []ledger.Entry
	for i := 0; i < n; i++ {
		drafts = append(drafts, ledger.Entry{ID: fmt.Sprintf("tra_%d_%d", e.now.UnixNano(), i), Time: e.now, Kind: ledger.KindTransfer, Region: region, Actor: "router"})
	}
	if _, err := e.chain.Append(context.Background(), region, drafts); err != nil {
		t.Fatal(err)
	}
}

func (e *env) write(t *testing.T) *digest.Digest {
	t.Helper()
	e.now = e.now.Add(time.Hour)
	d, err := e.w.Write(mototest.Context(t), region, true)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDigestsOnS3SignedWithKMS(t *testing.T) {
	e := newEnv(t)
	ctx := mototest.Context(t)
	e.append(t, 4)
	d1 := e.write(t)
	e.append(t, 2)
	d2 := e.write(t)
	e.now = e.now.Add(24 * time.Hour) // the next day's prefix
	d3 := e.write(t)
	if d1.KeyID != e.keyARN || d1.Algorithm != digest.AlgECDSASHA256 || d2.PrevSignature != d1.Signature || d3.FromSeq != 7 || d3.ToSeq != 6 {
		t.Fatalf("digests %+v\n%+v\n%+v", d1, d2, d3)
	}
	// Latest, List and Regions read back what was written, in order.
	latest, err := e.store.Latest(ctx, region)
	if err != nil || latest.Signature != d3.Signature {
		t.Fatalf("latest %+v, %v", latest, err)
	}
	e.now = e.now.AddDate(0, 1, 0) // nothing in the last days: a full listing
	if latest, err = e.store.Latest(ctx, region); err != nil || latest.Signature != d3.Signature {
		t.Fatalf("latest after a month %+v, %v", latest, err)
	}
	regions, err := e.store.Regions(ctx)
	if err != nil || len(regions) != 1 || regions[0] != region {
		t.Fatalf("regions %v, %v", regions, err)
	}
	// The public key from KMS verifies them all, locally.
	keys, err := digests.Keys(ctx, e.kms, e.keyARN)
	if err != nil {
		t.Fatal(err)
	}
	c := digest.Checker{Source: e.store, Keys: keys}
	r, err := c.Check(ctx, region)
	if err != nil || r.Problem != "" || r.Digests != 3 || r.SignedSeq != 6 {
		t.Fatalf("check: %v %+v", err, r)
	}
	// KMS itself agrees with the local check.
	out, err := e.kms.Verify(ctx, &kms.VerifyInput{KeyId: aws.String(e.keyARN), Message: d2.SigningInput(),
		Signature: mustBase64(t, d2.Signature), SigningAlgorithm: kmstypes.SigningAlgorithmSpecEcdsaSha256})
	if err != nil || !out.SignatureValid {
		t.Fatalf("kms verify: %v", err)
	}
	// A digest is never overwritten.
	if err := e.store.Put(ctx, d2); err == nil {
		t.Error("Put replaced an existing digest")
	}
	// Object Lock in compliance mode: the digest's version cannot be
	// deleted.
	head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(digests.Key(d1))})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != s3types.ObjectLockModeCompliance {
		t.Errorf("lock mode %q, want COMPLIANCE", head.ObjectLockMode)
	}
	_, err = e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(digests.Key(d1)), VersionId: head.VersionId})
	if err == nil {
		t.Error("a locked digest version was deleted")
	}
}

func TestKMSKeysRefuseAnotherKeySpec(t *testing.T) {
	e := newEnv(t)
	ctx := mototest.Context(t)
	rsa, err := e.kms.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecRsa2048, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := digests.Keys(ctx, e.kms, aws.ToString(rsa.KeyMetadata.Arn)); err == nil || !strings.Contains(err.Error(), "ECC_NIST_P256") {
		t.Fatalf("RSA key: %v", err)
	}
}

func TestWriterRefusesATruncatedChainOnAWS(t *testing.T) {
	e := newEnv(t)
	e.append(t, 3)
	e.write(t)
	// Another store whose chain is shorter than the one signed: as if the
	// newest entries had been deleted.
	short := sqlitetest.Open(t)
	e.w.Chain = short
	_, err := e.w.Write(mototest.Context(t), region, true)
	if !errors.Is(err, digest.ErrRefused) {
		t.Fatalf("Write over a truncated chain: %v", err)
	}
}

func mustBase64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
