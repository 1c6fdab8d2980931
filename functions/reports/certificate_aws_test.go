package reports_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/awsadapter/digests"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/mototest"
)

// On AWS the certificate is an object in the digest bucket, locked in
// compliance mode by the bucket's default retention as the digests are,
// written once; its bytes check with the KMS key's public half alone.
func TestCertificateInTheDigestBucketOnAWS(t *testing.T) {
	ctx := mototest.Context(t)
	cfg := mototest.Config(t, "eu-central-1")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	kmsc := kms.NewFromConfig(cfg)
	bucket := fmt.Sprintf("digests-%d", time.Now().UnixNano())
	mototest.LockedBucket(t, ctx, s3c, bucket, "eu-central-1", &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeCompliance, Years: aws.Int32(7)})
	key, err := kmsc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	keyARN := aws.ToString(key.KeyMetadata.Arn)
	st, refs := erasureLedger(t)
	now := certAt.Add(time.Hour)
	store := &digests.Store{API: s3c, Bucket: bucket, Now: func() time.Time { return now }}
	w := &digest.Writer{Signer: &digests.Signer{API: kmsc, Key: keyARN}, Store: store, Chain: st, Now: func() time.Time { return now }}
	for _, r := range []string{"eu-central-1", "eu-west-1"} {
		if _, err := w.Write(ctx, r, true); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := digests.Keys(ctx, kmsc, keyARN)
	if err != nil {
		t.Fatal(err)
	}
	h := &reports.Handler{Ledger: st, Refs: refs, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Digests: &digest.Checker{Source: store, Keys: keys}, Certificates: store}

	// A request not complete: no certificate, and no object.
	if resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-open"}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("expect 409 for dsr-open, got %d %s", resp.StatusCode, resp.Body)
	}
	_, err = s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests.CertificateKey("dsr-open"))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotFound" {
		t.Fatalf("expect no object for dsr-open, got %v", err)
	}

	resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-done"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("expect 201, got %d %s", resp.StatusCode, resp.Body)
	}
	objKey := digests.CertificateKey("dsr-done")
	if objKey != "certificates/dsr-done.json" {
		t.Fatalf("expect certificates/dsr-done.json, got %s", objKey)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey)})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != resp.Body {
		t.Fatal("expect the object to hold the certificate answered")
	}
	c, err := digest.ParseCertificate(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := digest.CheckCertificate(c, keys); err != nil || len(c.Receipts) != 3 {
		t.Fatalf("expect the stored certificate to check with the KMS public key (3 receipts), got %v, %d", err, len(c.Receipts))
	}
	if err := digest.CheckCertificate(c, digest.Keys{}); err == nil {
		t.Fatal("expect the certificate not to check without the key")
	}
	// Locked as the digests are: compliance mode, seven years from the
	// write. (HeadObject's lock headers, not GetObjectRetention: moto 5.2
	// has no GET ?retention and answers it with the object itself.)
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey)})
	if err != nil {
		t.Fatal(err)
	}
	until := aws.ToTime(head.ObjectLockRetainUntilDate)
	if head.ObjectLockMode != s3types.ObjectLockModeCompliance || until.Before(time.Now().AddDate(7, 0, -3)) || until.After(time.Now().AddDate(7, 0, 3)) {
		t.Fatalf("expect COMPLIANCE until about 7 years from now, got %q until %v", head.ObjectLockMode, until)
	}
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(objKey), VersionId: head.VersionId}); err == nil {
		t.Fatal("expect the locked certificate version not to be deleted")
	}
	// Written once: a second call, later, answers the stored certificate
	// and writes no second version.
	now = now.Add(time.Hour)
	if again := call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-done"}); again.StatusCode != http.StatusOK || again.Body != resp.Body {
		t.Fatalf("expect 200 with the first certificate, got %d %s", again.StatusCode, again.Body)
	}
	versions, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(digests.CertificatePrefix)})
	if err != nil {
		t.Fatal(err)
	}
	if len(versions.Versions) != 1 {
		t.Fatalf("expect one certificate version, got %d", len(versions.Versions))
	}
}
