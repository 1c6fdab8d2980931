package s3objects_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

// regionalBucket makes a bucket in region r and returns that region's client.
func regionalBucket(t *testing.T, r, name string, lock bool) *s3.Client {
	t.Helper()
	c := s3.NewFromConfig(mototest.Config(t, r), func(o *s3.Options) { o.UsePathStyle = true })
	in := &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(lock)}
	if r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	if _, err := c.CreateBucket(mototest.Context(t), in); err != nil {
		t.Fatal(err)
	}
	return c
}

// An object copied from us-east-1 to eu-central-1 through each region's
// client keeps its bytes, metadata, tags and content type, and S3 stores
// its SHA-256 checksum; a second copy never overwrites.
func TestCopyAcrossRegions(t *testing.T) {
	ctx := mototest.Context(t)
	us := regionalBucket(t, "us-east-1", "acme-copy-us", false)
	eu := regionalBucket(t, "eu-central-1", "acme-copy-eu", false)
	objs := &s3objects.Objects{API: us, Regions: map[string]s3objects.S3API{"us-east-1": us, "eu-central-1": eu}}
	key := "users/u-1001/export 2026-11.json"
	body := `{"rows":[{"user":"u-1001"}]}`
	if _, err := us.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-copy-us"), Key: aws.String(key), Body: strings.NewReader(body),
		Metadata: map[string]string{"Subject-Id": "u-1001", "subject-country": "FR"}, ContentType: aws.String("application/json"),
		Tagging: aws.String("team=growth&kind=export")}); err != nil {
		t.Fatal(err)
	}

	got, err := objs.GetObject(ctx, "us-east-1", "acme-copy-us", key)
	if err != nil {
		t.Fatalf("expect the object, got %v", err)
	}
	want := record.ObjectContent{Body: []byte(body), Metadata: map[string]string{"subject-id": "u-1001", "subject-country": "FR"},
		Tags: map[string]string{"team": "growth", "kind": "export"}, ContentType: "application/json"}
	if got.LastModified.IsZero() {
		t.Error("expect the object's last-modified time")
	}
	got.LastModified = time.Time{}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("object read (-want +got):\n%s", d)
	}
	if err := objs.PutObject(ctx, "eu-central-1", "acme-copy-eu", key, got, true); err != nil {
		t.Fatalf("expect the copy written, got %v", err)
	}
	sum, err := objs.ObjectChecksum(ctx, "eu-central-1", "acme-copy-eu", key)
	if err != nil || sum != record.Checksum([]byte(body)) {
		t.Fatalf("expect the copy's stored SHA-256 %s, got %q (%v)", record.Checksum([]byte(body)), sum, err)
	}
	copied, err := objs.GetObject(ctx, "eu-central-1", "acme-copy-eu", key)
	if err != nil {
		t.Fatal(err)
	}
	copied.LastModified = time.Time{}
	if d := cmp.Diff(want, copied); d != "" {
		t.Fatalf("the copy (-want +got):\n%s", d)
	}

	// Never overwrite: the second copy is refused, and says so.
	other := want
	other.Body = []byte("another")
	if err := objs.PutObject(ctx, "eu-central-1", "acme-copy-eu", key, other, true); !errors.Is(err, record.ErrConditionFailed) {
		t.Fatalf("expect record.ErrConditionFailed, got %v", err)
	}
	if _, err := objs.GetObject(ctx, "eu-central-1", "acme-copy-eu", "users/none.json"); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect record.ErrNotFound for a missing object, got %v", err)
	}
	if _, err := objs.ObjectChecksum(ctx, "eu-central-1", "acme-copy-eu", "users/none.json"); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect record.ErrNotFound for a missing object, got %v", err)
	}

	// A write to a bucket that does not exist names the bucket, not the key.
	err = objs.PutObject(ctx, "eu-central-1", "acme-copy-missing", key, got, true)
	if err == nil || !strings.Contains(err.Error(), "s3://acme-copy-missing") || strings.Contains(err.Error(), "u-1001") {
		t.Fatalf("expect an error naming the bucket and not the key, got %v", err)
	}

	// An object over the copy limit is refused.
	small := &s3objects.Objects{API: us, MaxCopySize: 4}
	if _, err := small.GetObject(ctx, "us-east-1", "acme-copy-us", key); err == nil || !strings.Contains(err.Error(), "over the 4 bytes") {
		t.Fatalf("expect the size limit, got %v", err)
	}
}

// A version under S3 Object Lock is not deleted: DeleteObject says until
// when it is held (COMPLIANCE retention, or a legal hold), and deletes the
// versions that are not locked.
func TestDeleteObjectUnderObjectLock(t *testing.T) {
	ctx := mototest.Context(t)
	c := regionalBucket(t, region, "acme-exports-locked", true)
	objs := &s3objects.Objects{API: c}
	until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	put := func(key string, lock func(*s3.PutObjectInput)) {
		in := &s3.PutObjectInput{Bucket: aws.String("acme-exports-locked"), Key: aws.String(key), Body: strings.NewReader("{}"),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256} // moto: Object Lock needs it
		if lock != nil {
			lock(in)
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	put("users/u-1.json", nil)
	put("users/u-1.json", func(in *s3.PutObjectInput) {
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = s3types.ObjectLockModeCompliance, aws.Time(until)
	})
	put("users/u-2.json", func(in *s3.PutObjectInput) { in.ObjectLockLegalHoldStatus = s3types.ObjectLockLegalHoldStatusOn })

	n, err := objs.DeleteObject(ctx, region, "acme-exports-locked", "users/u-1.json")
	var le *record.LockedError
	if !errors.As(err, &le) || !errors.Is(err, record.ErrLocked) || !errors.Is(err, s3objects.ErrLocked) {
		t.Fatalf("expect a *record.LockedError, got %v", err)
	}
	if n != 1 || le.Refused != 1 || le.Deleted != 1 || !le.Until.Equal(until) || le.Mode != "COMPLIANCE" || le.LegalHold {
		t.Fatalf("expect the unlocked version deleted and the locked one held until %s, got %d deleted, %+v", until, n, le)
	}
	if strings.Contains(err.Error(), "u-1") {
		t.Fatalf("expect no key in the error, got %v", err)
	}
	_, err = objs.DeleteObject(ctx, region, "acme-exports-locked", "users/u-2.json")
	if !errors.As(err, &le) || !le.LegalHold || !le.Until.IsZero() {
		t.Fatalf("expect a legal hold without a date, got %v", err)
	}
}

// conflictOnce is an S3 client whose first PutObject finds another
// conditional write of the key in flight (409 ConditionalRequestConflict,
// nothing written); the rest go to S3.
type conflictOnce struct {
	*s3.Client
	puts int
}

func (c *conflictOnce) PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if c.puts++; c.puts == 1 {
		io.Copy(io.Discard, in.Body) // the attempt reads its body
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
			Err: &smithy.GenericAPIError{Code: "ConditionalRequestConflict", Message: "A conflicting conditional operation is currently in progress"}}
	}
	return c.Client.PutObject(ctx, in, opts...)
}

// A copy S3 answers 409 (a concurrent conditional write in flight) is sent
// again, whole: ErrConditionFailed is only for an object already there.
func TestPutObjectSendsAConflictAgain(t *testing.T) {
	ctx := mototest.Context(t)
	c := &conflictOnce{Client: regionalBucket(t, "eu-central-1", "home-conflict", false)}
	o := &s3objects.Objects{API: c}
	content := record.ObjectContent{Body: []byte("the misplaced object's bytes"), ContentType: "text/plain"}
	if err := o.PutObject(ctx, "eu-central-1", "home-conflict", "a/b.txt", content, true); err != nil {
		t.Fatalf("expect the write sent again after the conflict, got %v", err)
	}
	out, err := c.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("home-conflict"), Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	if c.puts != 2 || string(got) != string(content.Body) {
		t.Fatalf("expect 2 writes and the whole body stored, got %d and %q", c.puts, got)
	}
	if err := o.PutObject(ctx, "eu-central-1", "home-conflict", "a/b.txt", content, true); !errors.Is(err, record.ErrConditionFailed) {
		t.Fatalf("expect ErrConditionFailed over an object, got %v", err)
	}
}
