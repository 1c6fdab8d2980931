package tagger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/trigger"
)

// Actor names the tagger in ledger entries.
const Actor = "tagger"

// Tables writes residency tags onto the records of one stream batch. The
// per-write errors wrap record.ErrNotFound when a record is gone (never
// resurrected); the second result fails the whole batch.
type Tables interface {
	UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error)
}

// Catalog keeps the catalog entries of tagged records.
type Catalog interface {
	PutEntries(ctx context.Context, entries []catalog.Entry) error
	// RemoveDeleted removes the entries of records deleted by at, except
	// those due by then, which the retention sweep removes with a receipt.
	RemoveDeleted(ctx context.Context, entries []catalog.Entry, at time.Time) error
	// DeleteEntries removes entries whatever their due date (records that
	// DynamoDB's TTL deleted, with a receipt of their own).
	DeleteEntries(ctx context.Context, entries []catalog.Entry) error
	// ErasedAmong says which subjects are on region's erased list.
	ErasedAmong(ctx context.Context, region string, subjectRefs []string) (map[string]catalog.Erased, error)
}

// Contracts tells when a contract ended (zero time: not ended).
type Contracts interface {
	ContractEnd(ctx context.Context, contract string) (time.Time, error)
}

// Objects reads an S3 object's metadata.
type Objects interface {
	HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error)
}

// Publisher publishes events on a region's bus.
type Publisher interface {
	Publish(ctx context.Context, region string, evs ...events.Out) error
}

// LedgerQueue sends ledger entry drafts to the ledger function.
type LedgerQueue interface {
	Send(ctx context.Context, entries ...ledger.Entry) error
}

// Refs makes the keyed references that stand for subjects and record keys.
type Refs interface {
	Subject(id string) string
	Record(source string, key record.Key) string
	// Seal encrypts a record key for the router (Residency Violation's
	// record_sealed).
	Seal(b []byte) string
}

// FailureSink is told of every record that failed, with the reason. On AWS
// the reason is in the logs and the batch goes to the on-failure destination;
// locally the runtime keeps both together.
type FailureSink interface {
	Failed(ctx context.Context, function, region, item string, err error)
}

// Handler is the tagger of one region.
type Handler struct {
	Region    string
	Policy    *policy.Policy
	Refs      Refs
	Tables    Tables
	Catalog   Catalog
	Contracts Contracts
	Objects   Objects
	Bus       Publisher
	Ledger    LedgerQueue
	Now       func() time.Time
	Log       *slog.Logger
	Failures  FailureSink // optional
	// DeadLetters, when set, keeps what failed permanently (errors.Is(err,
	// record.ErrPermanent): an invalid record or event), which is then
	// acknowledged instead of failed for a retry that cannot mend it.
	// Without it, such a failure fails like any other, so none is lost.
	DeadLetters FailureSink
	// Scanner reads pages of the watched tables for a backfill, and Cursors
	// seals their cursors (optional: without them, backfill pages fail).
	Scanner TableScanner
	Cursors Sealer
	// Exports opens table exports' data files, and S3 Inventory reports,
	// for a backfill from an export or an inventory (optional: without it,
	// such pages fail).
	Exports ExportFiles
	// Lister lists the watched buckets' objects for a backfill from
	// ListObjectsV2 pages (optional: without it, such pages fail).
	Lister ObjectLister
	// Metrics, when set, receives the tagger's metrics (EMF lines).
	Metrics *metrics.Emitter
	// Coverage records completed backfills (optional: without it,
	// backfill_completed fails).
	Coverage CoverageRecorder
}

// deadLetter keeps item's permanent failure err in h.DeadLetters and
// reports whether it did (then item is acknowledged).
func (h *Handler) deadLetter(ctx context.Context, item string, err error) bool {
	if h.DeadLetters == nil || !errors.Is(err, record.ErrPermanent) {
		return false
	}
	h.DeadLetters.Failed(ctx, Actor, h.Region, item, err)
	return true
}

// ErrInvalid marks a record the tagger cannot tag; retrying will not help.
var ErrInvalid = record.Permanent("cannot tag record")

// Invoke serves every trigger of the tagger: it detects the payload's kind
// and returns the handler's response (batch item failures for streams).
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	kind, err := trigger.Detect(payload)
	if err != nil {
		return nil, fmt.Errorf("tagger: %w", err)
	}
	switch kind {
	case trigger.Backfill:
		return h.backfillPage(ctx, payload)
	case trigger.BackfillCompleted:
		return h.backfillCompleted(ctx, payload)
	case trigger.DynamoDBStream:
		// One pass over the batch, without reflection: this decode is most
		// of the tagger's CPU time. A record with malformed attribute
		// values fails alone.
		recs, err := ddbjson.DecodeStream(payload)
		if err != nil {
			return nil, fmt.Errorf("tagger: decode stream event: %w", err)
		}
		return h.handleStream(ctx, recs)
	case trigger.S3:
		var ev lambdaevents.S3Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("tagger: decode S3 event: %w", err)
		}
		if err := h.HandleS3(ctx, ev); err != nil && !h.deadLetter(ctx, "S3 event", err) {
			return nil, fmt.Errorf("tagger: %w", err)
		}
		return nil, nil
	case trigger.EventBridge:
		var ev lambdaevents.EventBridgeEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("tagger: decode EventBridge event: %w", err)
		}
		if err := h.HandleEvent(ctx, ev); err != nil && !h.deadLetter(ctx, ev.DetailType+" "+ev.ID, err) {
			return nil, err
		}
		return nil, nil
	}
	return nil, fmt.Errorf("tagger: %w: %s events go to another function", trigger.ErrUnknown, kind)
}

// write is what the tagger knows of one written record.
type write struct {
	region, source, sourceKind string
	key                        record.Key
	subjectID, country         string
	category                   string
	created, lastActivity      time.Time
	contract                   string
	existing                   *record.Tag
	ttlAttr                    string // the table's TTL attribute, if the policy names one
	ttl                        string // its value on the record, in decimal ("" if none)
	seq                        string // the stream record's sequence number
	// writtenAt is when the write happened, as its trigger says (the
	// stream record's ApproximateCreationDateTime, the S3 eventTime, the
	// Data Written event's time); zero for a backfilled record. The
	// router measures the violation's exposure from it.
	writtenAt  time.Time
	inserted   bool   // the stream record is an INSERT
	subjectRef string // the keyed reference of subjectID
	recordRef  string // the keyed reference of key ("" until known: see Handler.recordRef)
	// erased is the erasure of the subject, when it is on the region's
	// erased list: the record is written again after it (a restore, a
	// replayed import), and is erased again under the same request.
	erased *catalog.Erased
}

func (h *Handler) fromItem(src *policy.Source, region, table string, key record.Key, item record.Item) (write, error) {
	w := write{region: region, source: table, sourceKind: catalog.SourceTable, key: key}
	if w.subjectID = item.String(src.SubjectID); w.subjectID == "" {
		return w, fmt.Errorf("%w: subject id attribute %q missing or empty", ErrInvalid, src.SubjectID)
	}
	w.country = item.String(src.SubjectCountry)
	w.category = src.Category
	if src.CategoryAttr != "" {
		if w.category = item.String(src.CategoryAttr); w.category == "" {
			return w, fmt.Errorf("%w: category attribute %q missing or empty", ErrInvalid, src.CategoryAttr)
		}
	}
	var err error
	if w.created, err = item.Time(src.CreatedAt); err != nil {
		return w, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if w.lastActivity, err = item.Time(src.LastActivity); err != nil {
		return w, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	w.contract = item.String(src.Contract)
	if t, ok := record.TagOf(item); ok {
		w.existing = &t
	}
	if src.TTLAttribute != "" {
		w.ttlAttr, w.ttl = src.TTLAttribute, item.String(src.TTLAttribute)
	}
	return w, nil
}

// carries reports whether w's record already carries tag (its TaggedAt
// aside): then only a stale TTL backstop is written, if anything.
func (w *write) carries(tag record.Tag) bool { return w.existing != nil && w.existing.SameAs(tag) }

// ttlWrite is the TTL part of a tag write: the TTL backstop behind tag's
// retain-until, when the source has a TTL attribute.
func ttlWrite(w write, tag record.Tag) (attr string, ttl int64) {
	if w.ttlAttr == "" {
		return "", 0
	}
	return w.ttlAttr, policy.TTL(tag.RetainUntil)
}

// HandleEvent tags the record a `Data Written` event reports.
func (h *Handler) HandleEvent(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
	if ev.DetailType != events.DataWritten {
		return fmt.Errorf("tagger: %w: detail-type %q is not %q", events.ErrInvalid, ev.DetailType, events.DataWritten)
	}
	d, err := events.Decode[events.DataWrittenDetail](ev.Detail)
	if err != nil {
		return fmt.Errorf("tagger: %s %s: %w", ev.DetailType, ev.ID, err)
	}
	w := write{
		region: d.Region, source: d.Source, sourceKind: catalog.SourceEvent, key: d.Record,
		subjectID: d.SubjectID, country: d.SubjectCountry, category: d.Category,
		created: d.CreatedAt.Time, lastActivity: d.LastActivity.Time, contract: d.Contract, writtenAt: ev.Time.UTC(),
	}
	if _, ok := jurisdiction.RegionCountry(w.region); !ok {
		return fmt.Errorf("tagger: %s %s: %w: region %q is not an AWS region", ev.DetailType, ev.ID, ErrInvalid, w.region)
	}
	var b batch
	if err := h.tag(ctx, w, &b); err != nil {
		return fmt.Errorf("tagger: %s %s: %w", ev.DetailType, ev.ID, err)
	}
	return h.flush(ctx, &b)
}

// decide computes the residency tag of a record, without side effects.
func (h *Handler) decide(ctx context.Context, w write) (record.Tag, policy.ResidencyDecision, error) {
	dec, err := h.Policy.Residency(w.country, w.region, w.category)
	if err != nil {
		return record.Tag{}, dec, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var contractEnd time.Time
	if cat, _ := h.Policy.Category(w.category); cat.From == policy.FromContractEnd && w.contract != "" {
		if contractEnd, err = h.Contracts.ContractEnd(ctx, w.contract); err != nil {
			return record.Tag{}, dec, fmt.Errorf("contract end: %w", err)
		}
	}
	tag := record.Tag{
		OriginRegion:  w.region,
		Jurisdiction:  dec.Jurisdiction,
		HomeRegion:    dec.HomeRegion,
		Status:        record.StatusCompliant,
		PolicyVersion: h.Policy.Version,
	}
	if until, ok := h.Policy.RetainUntil(w.category, w.created, w.lastActivity, contractEnd); ok {
		tag.RetainUntil = record.FormatTime(until)
	}
	if w.erased != nil {
		// Due now, for the sweep to erase it; a record already due keeps
		// its date, so that the tag of our own write echoes unchanged.
		tag.RetainUntil = record.FormatTime(h.Now())
		if w.existing != nil && w.existing.RetainUntil != "" && w.existing.RetainUntil <= tag.RetainUntil {
			tag.RetainUntil = w.existing.RetainUntil
		}
	}
	switch {
	case !dec.Allowed:
		tag.Status = record.StatusViolation
	case w.existing != nil && (w.existing.Status == record.StatusRelocated || w.existing.Status == record.StatusQuarantined) &&
		w.existing.HomeRegion == dec.HomeRegion:
		// A record the router moved keeps its history.
		tag.Status, tag.OriginRegion = w.existing.Status, w.existing.OriginRegion
	}
	return tag, dec, nil
}

// tagWrites tags the batch's decoded writes, after one look at each
// region's erased list for their subjects; it returns each write's error.
func (h *Handler) tagWrites(ctx context.Context, b *batch) []error {
	errs := make([]error, len(b.writes))
	group.Parallel(len(b.writes), group.Grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if w := &b.writes[i]; w.subjectRef == "" {
				w.subjectRef = h.Refs.Subject(w.subjectID)
			}
		}
	})
	refs := map[string][]string{} // region -> subject references
	for _, w := range b.writes {
		refs[w.region] = append(refs[w.region], w.subjectRef)
	}
	erased := map[string]map[string]catalog.Erased{}
	for region, rs := range refs {
		m, err := h.Catalog.ErasedAmong(ctx, region, rs)
		if err != nil {
			err = fmt.Errorf("read the erased list: %w", err)
			for i, w := range b.writes {
				if w.region == region {
					errs[i] = err
				}
			}
			continue
		}
		erased[region] = m
	}
	for i := range b.writes {
		if w := &b.writes[i]; errs[i] == nil {
			if e, ok := erased[w.region][w.subjectRef]; ok {
				w.erased = &e
			}
		}
	}
	// Deciding is pure but for a contract's end, which is read from the
	// store: the writes that need none are decided on every core at once.
	decided := make([]decision, len(b.writes))
	group.Parallel(len(b.writes), group.Grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if errs[i] == nil && !h.needsContractEnd(b.writes[i]) {
				d := &decided[i]
				d.tag, d.dec, d.err = h.decide(ctx, b.writes[i])
				d.done = true
			}
		}
	})
	// Room for the writes whose tag is not current (an echo needs none).
	writes := 0
	for i, w := range b.writes {
		if d := decided[i]; errs[i] == nil && (!d.done || (d.err == nil && !w.carries(d.tag))) {
			writes++
		}
	}
	b.pending = slices.Grow(b.pending, writes)
	for i, w := range b.writes {
		if errs[i] != nil {
			continue
		}
		d := decided[i]
		if !d.done {
			d.tag, d.dec, d.err = h.decide(ctx, w)
		}
		if d.err != nil {
			errs[i] = d.err
			continue
		}
		h.tagDecided(w, d.tag, d.dec, b)
	}
	b.writes = nil
	return errs
}

// decision is what decide made of a write.
type decision struct {
	tag  record.Tag
	dec  policy.ResidencyDecision
	err  error
	done bool
}

// needsContractEnd says whether deciding w reads its contract's end.
func (h *Handler) needsContractEnd(w write) bool {
	if w.contract == "" {
		return false
	}
	cat, _ := h.Policy.Category(w.category)
	return cat.From == policy.FromContractEnd
}

func (h *Handler) tag(ctx context.Context, w write, b *batch) error {
	tag, dec, err := h.decide(ctx, w)
	if err != nil {
		return err
	}
	h.tagDecided(w, tag, dec, b)
	return nil
}

// tagDecided adds to b what w's decided tag calls for: nothing (an echo),
// its write, or (for a record not in a table) what the tag causes.
func (h *Handler) tagDecided(w write, tag record.Tag, dec policy.ResidencyDecision, b *batch) {
	sameTTL := true
	if attr, ttl := ttlWrite(w, tag); attr != "" {
		sameTTL = w.ttl == strconv.FormatInt(ttl, 10) || (ttl == 0 && w.ttl == "")
	}
	current := w.carries(tag)
	if current && !sameTTL && w.sourceKind == catalog.SourceTable {
		// The same decision, but the TTL backstop is missing or stale (the
		// platform rewrote the item): write it back, announce nothing.
		tag.TaggedAt = w.existing.TaggedAt
		b.pending = append(b.pending, pendingTag{w: w, tag: tag, ttlOnly: true})
		return
	}
	if current && sameTTL {
		b.echoes++
		if w.inserted {
			// A record new to this table that arrived with its tag: the
			// router's copy of a relocated record. It needs no write, but
			// this region's catalog must hold it (the misplaced copy's
			// entry goes with its REMOVE), or retention and erasure would
			// never find it.
			taggedAt, _ := time.Parse(time.RFC3339, w.existing.TaggedAt)
			b.entries = append(b.entries, h.entry(w, *w.existing, w.subjectRef, taggedAt))
		} else if b.checkEchoes {
			taggedAt, _ := time.Parse(time.RFC3339, w.existing.TaggedAt)
			b.echoed = append(b.echoed, pendingTag{w: w, tag: *w.existing, dec: dec, now: taggedAt})
		}
		return // our own echo, or a change that does not affect residency
	}
	now := h.Now().UTC()
	tag.TaggedAt = b.formatNow(now)
	p := pendingTag{w: w, tag: tag, dec: dec, now: now}
	if w.sourceKind == catalog.SourceTable {
		b.pending = append(b.pending, p) // written with the rest of the batch
		return
	}
	h.emit(p, b)
}

// entry is the catalog entry of a tagged record.
func (h *Handler) entry(w write, tag record.Tag, subjectRef string, taggedAt time.Time) catalog.Entry {
	until, _ := time.Parse(time.RFC3339, tag.RetainUntil)
	return catalog.Entry{
		Region: w.region, Source: w.source, SourceKind: w.sourceKind, Key: w.key, SubjectRef: subjectRef,
		Category: w.category, Contract: w.contract, OriginRegion: tag.OriginRegion, HomeRegion: tag.HomeRegion,
		Jurisdiction: tag.Jurisdiction, Status: tag.Status, PolicyVersion: tag.PolicyVersion, TaggedAt: taggedAt, RetainUntil: until,
		Erasure: erasureOf(w), Reapplied: w.erased != nil,
	}
}

func erasureOf(w write) string {
	if w.erased == nil {
		return ""
	}
	return w.erased.RequestID
}

// emit adds what a written tag causes to the batch: the catalog entry,
// `Record Tagged`, and for a violation `Residency Violation` and its ledger
// entry.
func (h *Handler) emit(p pendingTag, b *batch) {
	w, tag, dec, now := p.w, p.tag, p.dec, p.now
	b.tagged++
	subjectRef := w.subjectRef
	b.entries = append(b.entries, h.entry(w, tag, subjectRef, now))
	b.evs = append(b.evs, events.Out{DetailType: events.RecordTagged, Detail: &events.RecordTaggedDetail{
		Source: w.source, RecordRef: h.recordRef(w), Region: w.region, SubjectRef: subjectRef, Category: w.category, Tag: tag,
	}})
	if dec.Allowed {
		return
	}
	var allowed []string
	if dec.Rule >= 0 { // a violation always has its rule; guard anyway
		rule := h.Policy.Rules[dec.Rule]
		allowed = rule.Allowed
		if rule.AnyAllowed {
			allowed = []string{"ANY"}
		}
	}
	b.evs = append(b.evs, events.Out{DetailType: events.ResidencyViolation, Detail: &events.ResidencyViolationDetail{
		Source: w.source, RecordRef: h.recordRef(w), RecordSealed: h.Refs.Seal([]byte(w.key.String())),
		Region: w.region, SubjectRef: subjectRef, SubjectCountry: dec.SubjectCountry,
		Jurisdiction: dec.Jurisdiction, HomeRegion: dec.HomeRegion, Allowed: allowed, Action: string(dec.Action),
		Category: w.category, PolicyVersion: h.Policy.Version, DetectedAt: events.At(now), WrittenAt: writtenAt(w.writtenAt),
	}})
	b.ledger = append(b.ledger, h.violationEntry(p, subjectRef, string(dec.Action), h.Policy.ViolationReference(dec)))
}

// recordRef is the keyed reference of w's record key.
func (h *Handler) recordRef(w write) string {
	if w.recordRef != "" {
		return w.recordRef
	}
	return h.Refs.Record(w.source, w.key)
}

// writtenAt is a violation's written_at: t, or the zero Time (omitted) when
// the write time is not known.
func writtenAt(t time.Time) events.Time {
	if t.IsZero() || t.Unix() <= 0 {
		return events.Time{}
	}
	return events.At(t)
}

// DecisionGone is the decision of a violation entry whose record was deleted
// before the tagger could tag it: the data sat in the wrong region all the
// same, and its deletion remediated it.
const DecisionGone = "gone"

// gone logs the violation of a misplaced write whose record is already
// deleted (its REMOVE follows in the stream): nothing is left to tag,
// catalog or relocate, but the ledger keeps that the data was there.
func (h *Handler) gone(p pendingTag, b *batch) {
	if p.dec.Allowed || p.ttlOnly {
		return
	}
	b.gone++
	ref := h.Policy.ViolationReference(p.dec) + "; the record was deleted before it was tagged"
	b.ledger = append(b.ledger, h.violationEntry(p, p.w.subjectRef, DecisionGone, ref))
}

// violationEntry is the ledger entry of a misplaced write.
func (h *Handler) violationEntry(p pendingTag, subjectRef, decision, reference string) ledger.Entry {
	w, tag, dec := p.w, p.tag, p.dec
	fromCountry, _ := jurisdiction.RegionCountry(w.region)
	toCountry, _ := jurisdiction.RegionCountry(dec.HomeRegion)
	recRef := h.recordRef(w)
	return ledger.Entry{
		ID:   ledger.ID(ledger.KindViolation, w.region, w.source, recRef, tag.HomeRegion, tag.PolicyVersion),
		Time: p.now, Kind: ledger.KindViolation, Region: w.region, Source: w.source, Record: recRef,
		SubjectRef: subjectRef, Category: w.category, FromRegion: w.region, FromCountry: fromCountry,
		ToRegion: dec.HomeRegion, ToCountry: toCountry, Reference: reference, Decision: decision,
		PolicyVersion: h.Policy.Version, Actor: Actor,
	}
}

// DecisionDeletedByTTL is the decision of the deletion receipt of a record
// that DynamoDB's TTL deleted: the backstop behind the retention sweep, so
// each one is a deadline the sweep missed.
const DecisionDeletedByTTL = "deleted_by_ttl"
