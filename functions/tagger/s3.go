package tagger

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// HandleS3 tags the objects of an S3 event. S3 invokes asynchronously, so a
// failure is returned as an error (Lambda retries, then the on-failure
// destination keeps the event with the reason); objects already tagged are
// not tagged again on the retry.
func (h *Handler) HandleS3(ctx context.Context, ev lambdaevents.S3Event) error {
	var b batch
	var errs []error
	var owners []int // the record of each of b.writes
	objectFailed := func(i int, err error) {
		rec := &ev.Records[i]
		h.Log.ErrorContext(ctx, "object failed", "function", Actor, "bucket", rec.S3.Bucket.Name, "sequencer", rec.S3.Object.Sequencer, "error", err.Error())
		errs = append(errs, fmt.Errorf("record %d: %w", i, err))
	}
	for i := range ev.Records {
		n := len(b.writes)
		if err := h.s3Record(ctx, &ev.Records[i], &b); err != nil {
			objectFailed(i, err)
			continue
		}
		if len(b.writes) > n {
			owners = append(owners, i)
		}
	}
	for j, err := range h.tagWrites(ctx, &b) {
		if err != nil {
			objectFailed(owners[j], err)
		}
	}
	if err := h.flush(ctx, &b); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (h *Handler) s3Record(ctx context.Context, rec *lambdaevents.S3EventRecord, b *batch) error {
	if !strings.HasPrefix(rec.EventName, "ObjectCreated:") {
		return nil // deletions are handled by the catalog's own REMOVE path
	}
	bucket := rec.S3.Bucket.Name
	objKey, err := url.QueryUnescape(rec.S3.Object.Key) // S3 event keys are form-encoded
	if err != nil {
		return fmt.Errorf("%w: object key is not form-encoded (an invalid %%-escape)", ErrInvalid) // the escape error would quote part of the key
	}
	region := rec.AWSRegion
	if region == "" {
		region = h.Region
	}
	w, err := h.objectWrite(ctx, region, bucket, objKey, rec.EventTime.UTC())
	if err != nil {
		return err
	}
	// The misplaced write's time, for the exposure of its relocation; a
	// backfilled object has none.
	w.writtenAt = rec.EventTime.UTC()
	b.writes = append(b.writes, w)
	return nil
}

// objectWrite reads what the tagger knows of an object of a watched bucket
// (its current version: HeadObject names no version) from its user
// metadata; eventTime is its creation time when neither the metadata nor
// S3 tells one.
func (h *Handler) objectWrite(ctx context.Context, region, bucket, objKey string, eventTime time.Time) (write, error) {
	src, ok := h.Policy.SourceForObject(bucket, objKey)
	if !ok {
		return write{}, fmt.Errorf("%w: bucket %q and key prefix are not a source of policy %s", ErrInvalid, bucket, h.Policy.Version)
	}
	obj, err := h.Objects.HeadObject(ctx, region, bucket, objKey)
	if err != nil {
		return write{}, fmt.Errorf("read object metadata: %w", err)
	}
	item := make(record.Item, len(obj.Metadata))
	for k, v := range obj.Metadata {
		item[strings.ToLower(k)] = v
	}
	lower := *src
	for _, f := range []*string{&lower.SubjectID, &lower.SubjectCountry, &lower.CategoryAttr, &lower.CreatedAt, &lower.LastActivity, &lower.Contract} {
		*f = strings.ToLower(*f) // S3 returns user metadata keys in lower case
	}
	w, err := h.fromItem(&lower, region, bucket, record.Key{"key": objKey}, item)
	if err != nil {
		return write{}, err
	}
	w.sourceKind = catalog.SourceBucket
	w.existing = nil // the tag of an object lives in the catalog
	if w.created.IsZero() {
		// A copy the router relocated keeps the write time of the
		// misplaced object (router.MetaCreatedAt), so that its retention
		// runs from the first write, not from the copy.
		if t, err := time.Parse(time.RFC3339, item.String("residency-created-at")); err == nil {
			w.created = t.UTC()
		}
	}
	if w.created.IsZero() {
		w.created = obj.LastModified
	}
	if w.created.IsZero() {
		w.created = eventTime
	}
	return w, nil
}
