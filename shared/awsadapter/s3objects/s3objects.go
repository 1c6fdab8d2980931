// Package s3objects is the S3 adapter of the watched buckets: object
// metadata for the tagger, deletions for the retention function.
package s3objects

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/shared/record"
)

// S3API is the part of the S3 client Objects uses.
type S3API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Objects reads and deletes the watched buckets' objects in one region.
// Its errors name the bucket, never the object key: keys often embed a
// subject (users/u-1001/...), and errors reach logs.
type Objects struct {
	API S3API
}

// HeadObject returns an object's user metadata and last-modified time;
// record.ErrNotFound when it does not exist.
func (o *Objects) HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error) {
	out, err := o.API.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return record.Object{Region: region, Bucket: bucket, Key: key, Metadata: meta, LastModified: aws.ToTime(out.LastModified)}, nil
}

// DeleteObject deletes an object (S3 deletes are idempotent: a missing
// object is not an error).
func (o *Objects) DeleteObject(ctx context.Context, region, bucket, key string) error {
	if _, err := o.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete object in s3://%s: %w", bucket, err)
	}
	return nil
}
