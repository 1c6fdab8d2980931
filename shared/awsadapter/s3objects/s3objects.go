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
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
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

// DeleteObject deletes an object down to its last version: every version
// and delete marker of the key (ListObjectVersions, then DeleteObjects with
// their VersionId), so that on a versioned bucket nothing of it remains (a
// plain DeleteObject would only add a delete marker). An unversioned bucket
// lists the object once, as version "null". It returns how many versions
// and delete markers it deleted; a missing object is not an error (0). A
// version S3 refuses to delete (S3 Object Lock: AccessDenied) is an error
// that wraps [ErrLocked]; the versions deleted stay deleted.
func (o *Objects) DeleteObject(ctx context.Context, region, bucket, key string) (int, error) {
	deleted := 0
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)}
	for {
		page, err := o.API.ListObjectVersions(ctx, in)
		if err != nil {
			return deleted, fmt.Errorf("list object versions in s3://%s: %w", bucket, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range page.Versions {
			if aws.ToString(v.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
			}
		}
		for _, m := range page.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
			}
		}
		if len(ids) > 0 {
			out, err := o.API.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
				Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}, ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
			if err != nil {
				return deleted, fmt.Errorf("delete object versions in s3://%s: %w", bucket, err)
			}
			deleted += len(ids) - len(out.Errors)
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				err := fmt.Errorf("delete object versions in s3://%s: %d of %d refused: %s %s", bucket, len(out.Errors), len(ids),
					aws.ToString(e.Code), aws.ToString(e.Message))
				if aws.ToString(e.Code) == "AccessDenied" {
					err = fmt.Errorf("%w (%w)", err, ErrLocked)
				}
				return deleted, err
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			return deleted, nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

// ErrLocked marks object versions S3 refuses to delete, as under S3 Object
// Lock until their retain-until date.
var ErrLocked = errors.New("object version locked")
