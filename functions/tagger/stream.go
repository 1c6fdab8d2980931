package tagger

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// HandleStream tags the records of a DynamoDB stream batch. A record that
// cannot be tagged fails alone: its sequence number is reported in
// BatchItemFailures and the reason logged.
func (h *Handler) HandleStream(ctx context.Context, ev lambdaevents.DynamoDBEvent) (lambdaevents.DynamoDBEventResponse, error) {
	recs := make([]ddbjson.StreamRecord, len(ev.Records))
	for i := range ev.Records {
		recs[i] = ddbjson.FromEvent(&ev.Records[i])
	}
	return h.handleStream(ctx, recs)
}

// HandleStreamRecords tags the records of a stream batch as
// ddbjson.DecodeStream decoded its payload, as Invoke does once it has:
// the local stack decodes a replayed batch on another goroutine.
func (h *Handler) HandleStreamRecords(ctx context.Context, recs []ddbjson.StreamRecord) (lambdaevents.DynamoDBEventResponse, error) {
	return h.handleStream(ctx, recs)
}

func (h *Handler) handleStream(ctx context.Context, recs []ddbjson.StreamRecord) (lambdaevents.DynamoDBEventResponse, error) {
	var resp lambdaevents.DynamoDBEventResponse
	b := batch{writes: make([]write, 0, len(recs))}
	var done []string
	fail := func(rec *ddbjson.StreamRecord, err error) {
		seq := rec.SequenceNumber
		if h.deadLetter(ctx, "stream record "+seq, err) {
			return
		}
		h.Log.ErrorContext(ctx, "record failed", "function", Actor, "event_id", rec.EventID, "sequence_number", seq,
			"table", tableOf(rec.EventSourceARN), "error", err.Error())
		resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		if h.Failures != nil {
			h.Failures.Failed(ctx, Actor, h.Region, "stream record "+seq, err)
		}
	}
	var ok []*ddbjson.StreamRecord
	var owners []*ddbjson.StreamRecord // of each of b.writes
	for i := range recs {
		rec := &recs[i]
		n := len(b.writes)
		if err := h.streamRecord(ctx, rec, &b); err != nil {
			if ctx.Err() != nil {
				return resp, ctx.Err()
			}
			fail(rec, err)
			continue
		}
		if len(b.writes) > n {
			owners = append(owners, rec)
		}
		ok = append(ok, rec)
	}
	failed := map[string]error{}
	for i, err := range h.tagWrites(ctx, &b) {
		if err != nil {
			if ctx.Err() != nil {
				return resp, ctx.Err()
			}
			failed[owners[i].SequenceNumber] = err
		}
	}
	maps.Copy(failed, h.writeTags(ctx, &b))
	for _, rec := range ok {
		if err := failed[rec.SequenceNumber]; err != nil {
			fail(rec, err)
			continue
		}
		done = append(done, rec.SequenceNumber)
	}
	if err := h.flush(ctx, &b); err != nil {
		// Nothing of this batch is known to be durable: fail it all, the
		// retry is idempotent.
		h.Log.ErrorContext(ctx, "batch failed", "function", Actor, "error", err.Error())
		for _, seq := range done {
			resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.DynamoDBBatchItemFailure{ItemIdentifier: seq})
		}
	}
	h.Log.InfoContext(ctx, "stream batch", "function", Actor, "region", h.Region, "records", len(recs),
		"tagged", b.tagged, "unchanged", b.echoes, "gone", b.gone, "failed", len(resp.BatchItemFailures))
	source := ""
	if len(recs) > 0 {
		source = tableOf(recs[0].EventSourceARN) // a batch is one table's stream
	}
	violations := 0
	for _, e := range b.ledger {
		if e.Kind == ledger.KindViolation {
			violations++
		}
	}
	h.metric(ctx, source, metrics.Counted(MetricRecordsTagged, b.tagged), metrics.Counted(MetricViolations, violations),
		metrics.Counted(MetricRecordsFailed, len(resp.BatchItemFailures)))
	return resp, nil
}

func tableOf(arn string) string {
	// arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL
	_, rest, ok := strings.Cut(arn, ":table/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return name
}

func regionOf(arn string) string {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

func (h *Handler) streamRecord(ctx context.Context, rec *ddbjson.StreamRecord, b *batch) error {
	if rec.Err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, rec.Err)
	}
	table := tableOf(rec.EventSourceARN)
	if table == "" {
		return fmt.Errorf("%w: eventSourceARN %q names no table", ErrInvalid, rec.EventSourceARN)
	}
	// The region is where the write landed: the stream's own region. (The
	// stream ARN is authoritative; awsRegion is the fallback.)
	region := regionOf(rec.EventSourceARN)
	if region == "" {
		region = rec.AWSRegion
	}
	if region == "" {
		region = h.Region
	}
	src, ok := h.Policy.SourceByName(table)
	if !ok || src.Table == "" {
		return fmt.Errorf("%w: table %q is not a source of policy %s", ErrInvalid, table, h.Policy.Version)
	}
	key := rec.Keys
	var err error
	if rec.EventName == "REMOVE" {
		if len(key) == 0 {
			old, err := rec.OldImage()
			if err != nil {
				return fmt.Errorf("%w: old image: %v", ErrInvalid, err)
			}
			if key, err = record.KeyOf(old, src.Key); err != nil {
				return fmt.Errorf("%w: %v", ErrInvalid, err)
			}
		}
		if rec.ByTTL() {
			if h.ttlDeletion(rec, src, region, table, key, b) {
				return nil
			}
		}
		b.removed = append(b.removed, catalog.Entry{Region: region, Source: table, Key: key})
		return nil
	}
	if rec.EventName != "INSERT" && rec.EventName != "MODIFY" {
		return fmt.Errorf("%w: event name %q", ErrInvalid, rec.EventName)
	}
	item := rec.NewImage
	if item == nil {
		return fmt.Errorf("%w: %s record without NewImage: the stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES", ErrInvalid, rec.EventName)
	}
	if len(key) == 0 {
		if key, err = record.KeyOf(item, src.Key); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	w, err := h.fromItem(src, region, table, key, item)
	if err != nil {
		return err
	}
	if w.created.IsZero() && rec.EventName == "INSERT" {
		w.created = rec.CreatedAt.UTC()
	}
	w.seq = rec.SequenceNumber
	w.inserted = rec.EventName == "INSERT"
	w.writtenAt = rec.CreatedAt.UTC()
	b.writes = append(b.writes, w)
	return nil
}

// ttlDeletion receipts a REMOVE made by DynamoDB's TTL of a record the
// tagger had tagged (its old image carries the residency tag): a deletion
// entry dated at the REMOVE, with its Record Deleted event, and the catalog
// entry goes, so that the sweep writes no later receipt. Without an old
// image (a NEW_IMAGE stream) or a tag, it is an ordinary REMOVE.
func (h *Handler) ttlDeletion(rec *ddbjson.StreamRecord, src *policy.Source, region, table string, key record.Key, b *batch) bool {
	old, err := rec.OldImage()
	if err != nil || old == nil {
		return false
	}
	tag, ok := record.TagOf(old)
	if !ok {
		return false
	}
	w, err := h.fromItem(src, region, table, key, old)
	if err != nil {
		return false
	}
	at := rec.CreatedAt.UTC()
	if at.IsZero() || at.Unix() == 0 {
		at = h.Now().UTC()
	}
	e := catalog.Entry{Region: region, Source: table, SourceKind: catalog.SourceTable, Key: key, Category: w.category,
		SubjectRef: h.Refs.Subject(w.subjectID)}
	recRef := h.Refs.Record(table, key)
	retainUntil, _ := time.Parse(time.RFC3339, tag.RetainUntil)
	reference := h.Policy.RetentionReference(w.category, retainUntil) + "; deleted by the DynamoDB TTL backstop"
	if w.ttlAttr != "" {
		reference += " (" + w.ttlAttr + ")"
	}
	reference += " at " + at.Format(time.RFC3339) + ": the retention sweep missed its deadline"
	entry := ledger.Entry{
		// The id the sweep's receipt would have: one receipt either way.
		ID:   ledger.ID(ledger.KindDeletion, region, table, recRef, events.ReasonRetention, tag.RetainUntil),
		Time: at, Kind: ledger.KindDeletion, Region: region, Source: table, Record: recRef, SubjectRef: e.SubjectRef,
		Category: w.category, FromRegion: region, Reference: reference, Decision: DecisionDeletedByTTL,
		PolicyVersion: h.Policy.Version, Actor: Actor,
	}
	b.ttl = append(b.ttl, e)
	b.ledger = append(b.ledger, entry)
	b.evs = append(b.evs, events.Out{DetailType: events.RecordDeleted, Detail: &events.RecordDeletedDetail{
		Source: table, RecordRef: recRef, Region: region, SubjectRef: e.SubjectRef, Category: w.category,
		Reason: events.ReasonRetention, Receipt: entry.ID, DeletedAt: events.At(at),
	}})
	return true
}
