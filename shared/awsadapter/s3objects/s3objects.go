// Package s3objects is the S3 adapter of the watched buckets: object
// metadata for the tagger, deletions for the retention function, copies
// between regions for the router.
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
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, optFns ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// DefaultMaxCopySize bounds the objects the router copies: a copy is read
// into memory, checksummed, then written to the home region.
const DefaultMaxCopySize = 256 << 20

// Objects reads, writes and deletes the watched buckets' objects. API is
// the client of the function's region; Regions, when set, holds a client
// per region for the calls in other regions (the router's copies to a home
// region: a bucket is reached through its own region's endpoint).
// Its errors name the bucket, never the object key: keys often embed a
// subject (users/u-1001/...), and errors reach logs, the ledger and dead
// letters, so an SDK error that quotes the request URL has the key taken
// out.
type Objects struct {
	API     S3API
	Regions map[string]S3API
	// MaxCopySize bounds the objects GetObject reads (default
	// DefaultMaxCopySize).
	MaxCopySize int64
}

func (o *Objects) api(region string) S3API {
	if c, ok := o.Regions[region]; ok {
		return c
	}
	return o.API
}

// HeadObject returns an object's user metadata and last-modified time;
// record.ErrNotFound when it does not exist.
func (o *Objects) HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error) {
	out, err := o.api(region).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, scrub(err, key))
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return record.Object{Region: region, Bucket: bucket, Key: key, Metadata: meta, LastModified: aws.ToTime(out.LastModified)}, nil
}

// ListObjects returns up to limit keys of bucket's current objects under
// prefix, from the continuation token (the first page without one), and
// the token of the next page ("" after the last): one ListObjectsV2 page, a
// backfill's page. ListObjectsV2 lists the current version of each key
// only (no delete markers, no older versions), which is what HeadObject,
// and so the tagger, reads.
func (o *Objects) ListObjects(ctx context.Context, region, bucket, prefix, token string, limit int) ([]string, string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(int32(limit))}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	out, err := o.api(region).ListObjectsV2(ctx, in)
	var nb *s3types.NoSuchBucket
	if errors.As(err, &nb) {
		return nil, "", fmt.Errorf("list objects in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("list objects in s3://%s: %w", bucket, scrub(scrub(err, prefix), token))
	}
	keys := make([]string, 0, len(out.Contents))
	for _, c := range out.Contents {
		keys = append(keys, aws.ToString(c.Key))
	}
	next := ""
	if aws.ToBool(out.IsTruncated) {
		next = aws.ToString(out.NextContinuationToken)
	}
	return keys, next, nil
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
	api := o.api(region)
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)}
	for {
		page, err := api.ListObjectVersions(ctx, in)
		if err != nil {
			return deleted, fmt.Errorf("list object versions in s3://%s: %w", bucket, scrub(err, key))
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
			out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket),
				Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}, ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256})
			if err != nil {
				return deleted, fmt.Errorf("delete object versions in s3://%s: %w", bucket, scrub(err, key))
			}
			deleted += len(ids) - len(out.Errors)
			if len(out.Errors) > 0 {
				e := out.Errors[0]
				if aws.ToString(e.Code) == "AccessDenied" {
					if lerr := o.locked(ctx, api, bucket, key, out.Errors, deleted); lerr != nil {
						return deleted, lerr
					}
				}
				return deleted, fmt.Errorf("delete object versions in s3://%s: %d of %d refused: %s %s", bucket, len(out.Errors), len(ids),
					aws.ToString(e.Code), scrubString(aws.ToString(e.Message), key))
			}
		}
		if !aws.ToBool(page.IsTruncated) {
			return deleted, nil
		}
		in.KeyMarker, in.VersionIdMarker = page.NextKeyMarker, page.NextVersionIdMarker
	}
}

// ErrLocked marks object versions S3 refuses to delete, as under S3 Object
// Lock until their retain-until date: record.ErrLocked.
var ErrLocked = record.ErrLocked
