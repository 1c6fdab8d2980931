package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// Objects reads, writes and deletes S3 objects in any region of the
// deployment. Errors wrap record.ErrNotFound and record.ErrConditionFailed
// and name buckets, never object keys.
type Objects interface {
	// GetObject reads an object whole, with its metadata and tags.
	GetObject(ctx context.Context, region, bucket, key string) (record.ObjectContent, error)
	// PutObject writes an object checksummed with SHA-256; with ifAbsent
	// it never overwrites one already under the key (ErrConditionFailed).
	PutObject(ctx context.Context, region, bucket, key string, c record.ObjectContent, ifAbsent bool) error
	// ObjectChecksum returns the SHA-256 checksum stored with an object.
	ObjectChecksum(ctx context.Context, region, bucket, key string) (string, error)
	// DeleteObject deletes every version and delete marker of an object
	// and says how many went.
	DeleteObject(ctx context.Context, region, bucket, key string) (int, error)
}

// DefaultQuarantineBuckets is the prefix of the quarantine buckets: a
// region's is the prefix followed by the region (the stack names them
// residency-quarantine-ACCOUNT-REGION, as bucket names are global).
const DefaultQuarantineBuckets = "residency-quarantine-"

// Metadata the router adds to the copy of a misplaced object.
const (
	MetaOriginRegion = "residency-origin-region" // the region the object was found in
	MetaSourceBucket = "residency-source-bucket" // the bucket it was found in
	MetaStatus       = "residency-status"        // relocated | quarantined
	// MetaCreatedAt keeps when the misplaced object was written (RFC
	// 3339): the copy's own write time is later, and the tagger at home
	// dates an object without a created_at attribute by it, so that a
	// relocation does not restart its retention.
	MetaCreatedAt = "residency-created-at"
)

// quarantineBucket is the quarantine bucket of region.
func (h *Handler) quarantineBucket(region string) string {
	prefix := h.QuarantineBuckets
	if prefix == "" {
		prefix = DefaultQuarantineBuckets
	}
	return prefix + region
}

// objectTarget is where a misplaced object goes.
type objectTarget struct {
	region, bucket, key string
	status              string // record.StatusRelocated or record.StatusQuarantined
}

// objectTarget returns where an object of src found in bucket goes when its
// home is home: the home region's bucket of the source, or the home
// region's quarantine bucket when the action says so or the source has no
// bucket there (under <bucket>/<key>, so that the origin stays readable).
func (h *Handler) objectTarget(src *policy.Source, action policy.Action, home, bucket, key string) objectTarget {
	if b, ok := src.BucketIn(home); ok && action == policy.ActionRelocate {
		return objectTarget{region: home, bucket: b, key: key, status: record.StatusRelocated}
	}
	return objectTarget{region: home, bucket: h.quarantineBucket(home), key: bucket + "/" + key, status: record.StatusQuarantined}
}

// objectViolation remediates a misplaced S3 object: it copies the object
// with its metadata and tags to its home region (the source's bucket there,
// or the quarantine bucket), verifies the copy by its SHA-256 checksum,
// deletes every version of the misplaced object, and writes a relocation
// entry. If a step fails the misplaced object stays, and a relocation entry
// decided "failed" says why (its violation stays open in the report); the
// error is returned for a retry. A redelivery after a success finds the
// object gone and its copy at home, and changes nothing.
func (h *Handler) objectViolation(ctx context.Context, d events.ResidencyViolationDetail, log *slog.Logger) error {
	key, _ := d.Record["key"].(string)
	if key == "" {
		return fmt.Errorf("%w: the violation of an object of bucket %s has no record.key", ErrInvalid, d.Source)
	}
	src, ok := h.Policy.SourceForObject(d.Source, key)
	if !ok {
		return fmt.Errorf("%w: bucket %q and key prefix are not a source of policy %s", ErrInvalid, d.Source, h.Policy.Version)
	}
	action := policy.Action(d.Action)
	if action != policy.ActionRelocate && action != policy.ActionQuarantine {
		return fmt.Errorf("%w: action %q", ErrInvalid, d.Action)
	}
	if h.Objects == nil {
		return fmt.Errorf("%w: the router has no S3 access to move objects", ErrInvalid)
	}
	obj, err := h.Objects.GetObject(ctx, d.Region, d.Source, key)
	if errors.Is(err, record.ErrNotFound) {
		t := h.objectTarget(src, action, d.HomeRegion, d.Source, key)
		if _, err := h.Objects.ObjectChecksum(ctx, t.region, t.bucket, t.key); err == nil {
			log.InfoContext(ctx, "already relocated", "to_region", t.region, "to_bucket", t.bucket)
			return nil
		}
		log.InfoContext(ctx, "object gone before relocation")
		return nil
	}
	if err != nil {
		return fmt.Errorf("read misplaced object: %w", err)
	}
	lower := *src
	for _, f := range []*string{&lower.SubjectID, &lower.SubjectCountry, &lower.CategoryAttr} {
		*f = strings.ToLower(*f) // S3 returns user metadata keys in lower case
	}
	item := make(record.Item, len(obj.Metadata))
	for k, v := range obj.Metadata {
		item[k] = v
	}
	// Decide again on the object as it is now: the event may be old.
	s, dec, err := h.redecide(&lower, item, d.Region)
	if err != nil {
		return err
	}
	if dec.Allowed {
		log.InfoContext(ctx, "object no longer in violation")
		return nil
	}
	t := h.objectTarget(src, action, dec.HomeRegion, d.Source, key)
	versions, err := h.moveObject(ctx, d, key, obj, t)
	subjectRef := h.Refs.Subject(s.id)
	fromCountry, _ := jurisdiction.RegionCountry(d.Region)
	toCountry, _ := jurisdiction.RegionCountry(t.region)
	recRef := h.Refs.Record(d.Source, d.Record)
	entry := ledger.Entry{
		Time: h.Now().UTC(), Kind: ledger.KindRelocation, Region: d.Region, Source: d.Source, Record: recRef,
		SubjectRef: subjectRef, Category: s.category, FromRegion: d.Region, FromCountry: fromCountry, ToRegion: t.region,
		ToCountry: toCountry, PolicyVersion: h.Policy.Version, Actor: Actor,
	}
	if err != nil {
		// The misplaced object stays; the ledger keeps why, once per
		// violation (a retry of the same event sends the same id).
		entry.ID = ledger.ID(ledger.KindRelocation, ledger.DecisionFailed, d.Region, d.Source, recRef, t.bucket, d.DetectedAt.Format(time.RFC3339Nano))
		entry.Decision = ledger.DecisionFailed
		entry.Reference = fmt.Sprintf("%s to s3://%s in %s failed; the misplaced object is kept: %v", t.status, t.bucket, t.region, err)
		if lerr := h.Ledger.Send(ctx, entry); lerr != nil {
			return errors.Join(err, fmt.Errorf("send ledger entry: %w", lerr))
		}
		h.relocationMetrics(ctx, &entry)
		return err
	}
	entry.ID = ledger.ID(ledger.KindRelocation, d.Region, d.Source, recRef, t.region, t.bucket)
	entry.Decision = t.status
	entry.ExposedMS = exposure(d, entry.Time) // entry.Time is after the deletion
	noun := "versions"
	if versions == 1 {
		noun = "version"
	}
	entry.Reference = fmt.Sprintf("%s; to s3://%s, SHA-256 verified; %d misplaced object %s deleted", h.Policy.RuleReference(dec), t.bucket, versions, noun)
	if err := h.Ledger.Send(ctx, entry); err != nil {
		return fmt.Errorf("send ledger entry: %w", err)
	}
	h.relocationMetrics(ctx, &entry)
	log.InfoContext(ctx, "relocated", "action", string(action), "to_region", t.region, "to_bucket", t.bucket, "versions_deleted", versions)
	return h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.RecordRelocated, Detail: &events.RecordRelocatedDetail{
		Source: d.Source, RecordRef: recRef, FromRegion: d.Region, ToRegion: t.region, SubjectRef: subjectRef, Action: string(action), At: events.At(entry.Time),
	}})
}

// moveObject copies obj to t (or finds the copy a previous attempt made),
// verifies it by its SHA-256 checksum, then deletes every version of the
// misplaced object. It returns how many versions it deleted.
func (h *Handler) moveObject(ctx context.Context, d events.ResidencyViolationDetail, key string, obj record.ObjectContent, t objectTarget) (int, error) {
	sum := obj.Checksum()
	moved := obj
	moved.Metadata = maps.Clone(obj.Metadata)
	if moved.Metadata == nil {
		moved.Metadata = map[string]string{}
	}
	moved.Metadata[MetaOriginRegion], moved.Metadata[MetaSourceBucket], moved.Metadata[MetaStatus] = d.Region, d.Source, t.status
	if _, ok := moved.Metadata[MetaCreatedAt]; !ok && !obj.LastModified.IsZero() {
		moved.Metadata[MetaCreatedAt] = record.FormatTime(obj.LastModified)
	}
	// Copy: never overwrite another object at home.
	err := h.Objects.PutObject(ctx, t.region, t.bucket, t.key, moved, true)
	if err != nil && !errors.Is(err, record.ErrConditionFailed) {
		return 0, fmt.Errorf("copy to s3://%s in %s: %w", t.bucket, t.region, err)
	}
	// Verify before deleting the only other copy (and, after a refused
	// write, that what is there is this object: a previous attempt's copy).
	got, verr := h.Objects.ObjectChecksum(ctx, t.region, t.bucket, t.key)
	if verr != nil {
		return 0, fmt.Errorf("verify the copy in s3://%s: %w", t.bucket, verr)
	}
	if got != sum {
		if err != nil {
			return 0, fmt.Errorf("%w: s3://%s in %s holds another object under the key; the misplaced object in %s is kept", ErrConflict, t.bucket, t.region, d.Region)
		}
		return 0, fmt.Errorf("%w: the copy in s3://%s does not match the misplaced object's SHA-256 checksum; the misplaced object is kept", ErrConflict, t.bucket)
	}
	n, err := h.Objects.DeleteObject(ctx, d.Region, d.Source, key)
	if err != nil {
		return n, fmt.Errorf("delete the misplaced object's versions (the copy in s3://%s is verified): %w", t.bucket, err)
	}
	return n, nil
}
