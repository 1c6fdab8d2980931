package s3objects_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

func TestReaderOpensObjectsAndSaysWhichAreMissing(t *testing.T) {
	ctx := mototest.Context(t)
	c := bucket(t, "residency-backfill-read")
	key := "exports/users/AWSDynamoDB/0001-ab/data/part.json.gz"
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("residency-backfill-read"), Key: aws.String(key),
		Body: strings.NewReader("line 1\nline 2\n")}); err != nil {
		t.Fatal(err)
	}
	r := &s3objects.Reader{API: c}

	// GIVEN an object that is there
	// WHEN it is opened
	body, err := r.Open(ctx, "residency-backfill-read", key)
	if err != nil {
		t.Fatalf("expect the object, got %v", err)
	}
	b, err := io.ReadAll(body)
	body.Close()
	// THEN its whole body is read
	if err != nil || string(b) != "line 1\nline 2\n" {
		t.Fatalf("expect the body, got %q (%v)", b, err)
	}

	// GIVEN a key that is not there
	// WHEN it is opened
	_, err = r.Open(ctx, "residency-backfill-read", "exports/users/u-1001/gone.json.gz")
	// THEN the error wraps record.ErrNotFound and names the bucket, not the key
	if !errors.Is(err, record.ErrNotFound) || !strings.Contains(err.Error(), "s3://residency-backfill-read") {
		t.Fatalf("expect not found in s3://residency-backfill-read, got %v", err)
	}
	if strings.Contains(err.Error(), "u-1001") {
		t.Errorf("expect no key in the error, got %v", err)
	}
}
