package s3objects

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/record"
)

// GetObject reads an object whole, with its user metadata, tags and content
// type, for a copy; record.ErrNotFound when it does not exist. An object
// over MaxCopySize is an error, as is a read whose bytes do not match the
// SHA-256 checksum S3 stored with the object.
func (o *Objects) GetObject(ctx context.Context, region, bucket, key string) (record.ObjectContent, error) {
	api := o.api(region)
	limit := o.MaxCopySize
	if limit <= 0 {
		limit = DefaultMaxCopySize
	}
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
	var nk *s3types.NoSuchKey
	if errors.As(err, &nk) {
		return record.ObjectContent{}, fmt.Errorf("get object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return record.ObjectContent{}, fmt.Errorf("get object in s3://%s: %w", bucket, scrub(err, key))
	}
	defer out.Body.Close()
	if n := aws.ToInt64(out.ContentLength); n > limit {
		return record.ObjectContent{}, fmt.Errorf("get object in s3://%s: %d bytes, over the %d bytes a copy may hold", bucket, n, limit)
	}
	body, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return record.ObjectContent{}, fmt.Errorf("read object in s3://%s: %w", bucket, scrub(err, key))
	}
	if int64(len(body)) > limit {
		return record.ObjectContent{}, fmt.Errorf("read object in s3://%s: over the %d bytes a copy may hold", bucket, limit)
	}
	c := record.ObjectContent{Body: body, Metadata: map[string]string{}, ContentType: aws.ToString(out.ContentType), LastModified: aws.ToTime(out.LastModified)}
	// A full-object SHA-256 checksum (a multipart upload's composite one
	// ends in -N and is not the digest of the bytes).
	if want := aws.ToString(out.ChecksumSHA256); want != "" && !strings.Contains(want, "-") && want != c.Checksum() {
		return record.ObjectContent{}, fmt.Errorf("read object in s3://%s: the bytes read do not match the object's SHA-256 checksum", bucket)
	}
	for k, v := range out.Metadata {
		c.Metadata[strings.ToLower(k)] = v
	}
	tags, err := api.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return record.ObjectContent{}, fmt.Errorf("get object tags in s3://%s: %w", bucket, scrub(err, key))
	}
	if len(tags.TagSet) > 0 {
		c.Tags = make(map[string]string, len(tags.TagSet))
		for _, t := range tags.TagSet {
			c.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return c, nil
}

// PutObject writes an object with its metadata, tags and content type,
// checksummed with SHA-256 (S3 checks the bytes it receives against it).
// With ifAbsent it never overwrites: an object already under the key is an
// error wrapping record.ErrConditionFailed (If-None-Match: *); a write S3
// finds in conflict with a concurrent one of the key is sent again.
func (o *Objects) PutObject(ctx context.Context, region, bucket, key string, c record.ObjectContent, ifAbsent bool) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(c.Body),
		ContentLength: aws.Int64(int64(len(c.Body))), Metadata: c.Metadata,
		ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256, ChecksumSHA256: aws.String(c.Checksum())}
	if c.ContentType != "" {
		in.ContentType = aws.String(c.ContentType)
	}
	if len(c.Tags) > 0 {
		in.Tagging = aws.String(tagging(c.Tags))
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	// A 409 (a concurrent conditional write of the key in flight) decides
	// nothing: the write is sent again (awsadapter.RetryConflicts), so
	// that ErrConditionFailed always means an object is under the key.
	err := awsadapter.RetryConflicts(ctx, func() error {
		in.Body = bytes.NewReader(c.Body)
		_, err := o.api(region).PutObject(ctx, in)
		return err
	})
	if awsadapter.PreconditionFailed(err) {
		return fmt.Errorf("put object in s3://%s: %w", bucket, record.ErrConditionFailed)
	}
	if err != nil {
		return fmt.Errorf("put object in s3://%s: %w", bucket, scrub(err, key))
	}
	return nil
}

// ObjectChecksum returns the SHA-256 checksum S3 stored with an object
// (base64; "" if it was written without one); record.ErrNotFound when it
// does not exist.
func (o *Objects) ObjectChecksum(ctx context.Context, region, bucket, key string) (string, error) {
	out, err := o.api(region).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return "", fmt.Errorf("head object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("head object in s3://%s: %w", bucket, scrub(err, key))
	}
	return aws.ToString(out.ChecksumSHA256), nil
}

// tagging encodes tags as the x-amz-tagging header wants them: a URL query.
func tagging(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v := url.Values{}
	for _, k := range keys {
		v.Set(k, tags[k])
	}
	return v.Encode()
}

// locked explains the versions S3 refused to delete when S3 Object Lock
// refused them: their retention and legal hold, read with HeadObject of
// each refused version. It returns nil when none of them is locked (the
// refusal is then another AccessDenied).
func (o *Objects) locked(ctx context.Context, api S3API, bucket, key string, refused []s3types.Error, deleted int) error {
	le := &record.LockedError{Bucket: bucket, Refused: len(refused), Deleted: deleted}
	found := false
	for _, e := range refused {
		out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: e.VersionId})
		if err != nil {
			continue
		}
		if out.ObjectLockLegalHoldStatus == s3types.ObjectLockLegalHoldStatusOn {
			le.LegalHold, found = true, true
		}
		if until := aws.ToTime(out.ObjectLockRetainUntilDate); !until.IsZero() {
			found = true
			if until.After(le.Until) {
				le.Until, le.Mode = until.UTC(), string(out.ObjectLockMode)
			}
		}
	}
	if !found {
		return nil
	}
	return le
}

// scrub takes an object key out of an error's text, as the SDK quotes the
// request URL in some errors (a failed connection: Put "https://.../KEY").
// errors.Is and errors.As still see what err wraps.
func scrub(err error, key string) error {
	if err == nil || key == "" {
		return err
	}
	msg := err.Error()
	if clean := scrubString(msg, key); clean != msg {
		return &scrubbed{msg: clean, err: err}
	}
	return err
}

func scrubString(s, key string) string {
	if key == "" {
		return s
	}
	for _, form := range []string{key, url.PathEscape(key), url.QueryEscape(key), strings.ReplaceAll(url.PathEscape(key), "%2F", "/")} {
		s = strings.ReplaceAll(s, form, "<key>")
	}
	return s
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
