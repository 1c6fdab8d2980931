package s3objects

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/shared/record"
)

// GetObjectAPI is the part of the S3 client Reader uses.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ GetObjectAPI = (*s3.Client)(nil)

// Reader reads whole objects of the stack's own buckets, such as the data
// files of a DynamoDB table export that a backfill reads. Its errors name
// the bucket, never the key.
type Reader struct {
	API GetObjectAPI
}

// Open returns the object's body, which the caller closes; an error
// wrapping record.ErrNotFound when there is no such object.
func (r *Reader) Open(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	out, err := r.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nk *s3types.NoSuchKey
	if errors.As(err, &nk) {
		return nil, fmt.Errorf("get object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get object in s3://%s: %w", bucket, err)
	}
	return out.Body, nil
}
