package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// Actor names the router in ledger entries.
const Actor = "router"

// DefaultQuarantineTable is the table, in each home region, that receives
// quarantined records.
const DefaultQuarantineTable = "residency-quarantine"

// Tables reads and writes records in any region of the deployment. Errors
// wrap record.ErrNotFound and record.ErrConditionFailed.
type Tables interface {
	PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error
	// GetItems reads a batch of one table's items (consistent reads): nil
	// where there is none.
	GetItems(ctx context.Context, region, table string, keys []record.Key) ([]record.Item, error)
	// PutItems writes a batch, each item as PutItem does; per-item errors
	// are in the slice.
	PutItems(ctx context.Context, region, table string, puts []record.Put) ([]error, error)
	// DeleteItems deletes a batch, each with a RetainUntil only while the
	// item's tag still carries it; per-item errors are in the slice.
	DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error)
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
	// Open opens a record key the tagger sealed (Residency Violation's
	// record_sealed).
	Open(s string) ([]byte, error)
}

// Handler is the router of one region.
type Handler struct {
	Region string
	Policy *policy.Policy
	Refs   Refs
	Tables Tables
	// Objects moves misplaced S3 objects (optional: without it, an
	// object's violation fails, permanently).
	Objects         Objects
	Bus             Publisher
	Ledger          LedgerQueue
	Now             func() time.Time
	Log             *slog.Logger
	QuarantineTable string
	// QuarantineBuckets is the prefix of the quarantine buckets of the
	// home regions (default DefaultQuarantineBuckets).
	QuarantineBuckets string
	// DeadLetters, when set, keeps the events that failed permanently
	// (errors.Is(err, record.ErrPermanent): an invalid event, or one the
	// policy cannot route), which are then acknowledged instead of failed
	// for a retry that cannot mend them. Without it, such an event fails
	// like any other, so none is lost.
	DeadLetters FailureSink
	// Metrics writes the router's EMF lines (nil: none); see metrics.go.
	Metrics *metrics.Emitter
}

// FailureSink is told of an event that failed, with the reason.
type FailureSink interface {
	Failed(ctx context.Context, function, region, item string, err error)
}

// ErrInvalid marks an event the router cannot act on; retrying will not help.
var ErrInvalid = record.Permanent("cannot route")

// ErrConflict marks a relocation that found a different record under the
// same key in the home region: the router never overwrites it.
var ErrConflict = errors.New("conflicting record in the home region")

// Invoke serves the router's triggers through the JSON path: an SQS event
// from the violations queue (see HandleBatch), or one EventBridge event.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	// A batch of the violations queue, the usual payload, is read in one
	// pass; anything else, or a payload that pass refuses, as before.
	var batch struct {
		Records    []lambdaevents.SQSMessage `json:"Records"`
		DetailType string                    `json:"detail-type"`
	}
	if jsonv1.Unmarshal(payload, &batch) == nil && batch.Records != nil && batch.DetailType == "" {
		return h.HandleBatch(ctx, lambdaevents.SQSEvent{Records: batch.Records}), nil
	}
	if isSQSBatch(payload) {
		var batch lambdaevents.SQSEvent
		if err := json.Unmarshal(payload, &batch); err != nil {
			return nil, fmt.Errorf("router: decode SQS event: %w", err)
		}
		return h.HandleBatch(ctx, batch), nil
	}
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("router: decode EventBridge event: %w", err)
	}
	if ev.DetailType == "" {
		return nil, fmt.Errorf("router: %w: not an EventBridge event (no detail-type)", ErrInvalid)
	}
	err := h.HandleEvent(ctx, ev)
	if err != nil && h.DeadLetters != nil && errors.Is(err, record.ErrPermanent) {
		h.DeadLetters.Failed(ctx, Actor, h.Region, ev.DetailType+" "+ev.ID, err)
		return nil, nil
	}
	return nil, err
}

// HandleEvent routes one EventBridge event.
func (h *Handler) HandleEvent(ctx context.Context, ev lambdaevents.EventBridgeEvent) error {
	var err error
	switch ev.DetailType {
	case events.RecordIngest:
		err = h.ingest(ctx, ev.Detail)
	case events.ResidencyViolation:
		err = h.violation(ctx, ev.Detail)
	case events.TransferRequested:
		err = h.transfer(ctx, ev.Detail)
	default:
		err = fmt.Errorf("%w: detail-type %q is not one the router handles", ErrInvalid, ev.DetailType)
	}
	if err != nil {
		return h.eventFailed(ctx, ev, err)
	}
	return nil
}

// eventFailed logs an event's failure and names the event in its error.
func (h *Handler) eventFailed(ctx context.Context, ev lambdaevents.EventBridgeEvent, err error) error {
	h.Log.ErrorContext(ctx, "event failed", "function", Actor, "detail_type", ev.DetailType, "event_id", ev.ID, "error", err.Error())
	return fmt.Errorf("router: %s %s: %w", ev.DetailType, ev.ID, err)
}

type subject struct {
	id, country, category string
}

func (h *Handler) subjectOf(src *policy.Source, item record.Item) (subject, error) {
	s := subject{id: item.String(src.SubjectID), country: item.String(src.SubjectCountry), category: src.Category}
	if s.id == "" {
		return s, fmt.Errorf("%w: subject id attribute %q missing or empty", ErrInvalid, src.SubjectID)
	}
	if src.CategoryAttr != "" {
		if s.category = item.String(src.CategoryAttr); s.category == "" {
			return s, fmt.Errorf("%w: category attribute %q missing or empty", ErrInvalid, src.CategoryAttr)
		}
	}
	return s, nil
}

// redecide decides the residency of a misplaced record or object of src as
// it is now in region.
func (h *Handler) redecide(src *policy.Source, item record.Item, region string) (subject, policy.ResidencyDecision, error) {
	s, err := h.subjectOf(src, item)
	if err != nil {
		return s, policy.ResidencyDecision{}, err
	}
	dec, err := h.Policy.Residency(s.country, region, s.category)
	if err != nil {
		return s, dec, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return s, dec, nil
}

func (h *Handler) tableSource(name string) (*policy.Source, error) {
	src, ok := h.Policy.SourceByName(name)
	if !ok || src.Table == "" {
		return nil, fmt.Errorf("%w: %q is not a table source of policy %s", ErrInvalid, name, h.Policy.Version)
	}
	return src, nil
}

func (h *Handler) ingest(ctx context.Context, raw json.RawMessage) error {
	d, err := events.Decode[events.RecordIngestDetail](raw)
	if err != nil {
		return err
	}
	src, err := h.tableSource(d.Source)
	if err != nil {
		return err
	}
	key, err := record.KeyOf(d.Item, src.Key)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	s, err := h.subjectOf(src, d.Item)
	if err != nil {
		return err
	}
	dec, err := h.Policy.Residency(s.country, h.Region, s.category)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	home := dec.HomeRegion
	if err := h.Tables.PutItem(ctx, home, src.Table, key, d.Item, false); err != nil {
		return fmt.Errorf("write to home region %s: %w", home, err)
	}
	h.Log.InfoContext(ctx, "ingested", "function", Actor, "source", src.Table, "record", h.Refs.Record(src.Table, key), "home_region", home)
	if home == h.Region {
		return nil
	}
	now := h.Now().UTC()
	fromCountry, _ := jurisdiction.RegionCountry(h.Region)
	toCountry, _ := jurisdiction.RegionCountry(home)
	recRef := h.Refs.Record(src.Table, key)
	return h.Ledger.Send(ctx, ledger.Entry{
		ID:   ledger.ID(ledger.KindRelocation, "ingest", h.Region, src.Table, recRef, home),
		Time: now, Kind: ledger.KindRelocation, Region: h.Region, Source: src.Table, Record: recRef,
		SubjectRef: h.Refs.Subject(s.id), Category: s.category, FromRegion: h.Region, FromCountry: fromCountry,
		ToRegion: home, ToCountry: toCountry, Reference: h.Policy.RuleReference(dec),
		Decision: "routed", PolicyVersion: h.Policy.Version, Actor: Actor,
	})
}

// sameData reports whether two items hold the same record, ignoring the
// residency tag and quarantine bookkeeping. Values alike in type and value
// are equal at once; otherwise the items are compared as JSON (a number read
// back as another Go type is the same number).
func sameData(a, b record.Item) bool {
	ignored := func(k string) bool { return k == record.TagAttribute || k == quarantineSourceAttr }
	fast := true
	n := 0
	for k, v := range a {
		if ignored(k) {
			continue
		}
		n++
		w, ok := b[k]
		if !ok {
			return false
		}
		if fast && !reflect.DeepEqual(v, w) {
			fast = false
		}
	}
	for k := range b {
		if !ignored(k) {
			n--
		}
	}
	if n != 0 {
		return false
	}
	if fast {
		return true
	}
	strip := func(it record.Item) string {
		c := maps.Clone(it)
		delete(c, record.TagAttribute)
		delete(c, quarantineSourceAttr)
		bs, _ := json.Marshal(c) // map keys marshal sorted
		return string(bs)
	}
	return strip(a) == strip(b)
}

const quarantineSourceAttr = "residency_source_table"

func (h *Handler) violation(ctx context.Context, raw json.RawMessage) error {
	r, err := h.classify(ctx, raw)
	if err != nil || r == nil {
		return err
	}
	h.relocate(ctx, []*relocation{r})
	return r.err
}

// classify decodes a violation and handles what is not a table record's
// relocation: an object's (moved at once) or one for the platform to act on
// (logged). What is left it returns, for relocate; nil when nothing is.
func (h *Handler) classify(ctx context.Context, raw json.RawMessage) (*relocation, error) {
	d, err := events.Decode[events.ResidencyViolationDetail](raw)
	if err != nil {
		return nil, err
	}
	// From here on the key is in the clear, in this process only.
	if d.Record, err = d.Key(h.Refs.Open); err != nil {
		return nil, err
	}
	log := h.Log.With("function", Actor, "source", d.Source, "record", h.Refs.Record(d.Source, d.Record), "region", d.Region)
	src, ok := h.Policy.SourceByName(d.Source)
	if ok && src.IsBucket() && d.Action != string(policy.ActionAlert) {
		return nil, h.objectViolation(ctx, d, log)
	}
	if !ok || src.Table == "" || d.Action == string(policy.ActionAlert) {
		// Nothing Residency can move: the violation is in the ledger and on
		// the bus for the platform to act on.
		log.WarnContext(ctx, "violation needs the platform's action", "action", d.Action, "home_region", d.HomeRegion)
		return nil, nil
	}
	r := &relocation{d: d, src: src, action: policy.Action(d.Action), target: d.HomeRegion, targetTable: src.Table,
		status: record.StatusRelocated, log: log}
	switch r.action {
	case policy.ActionRelocate:
	case policy.ActionQuarantine:
		r.targetTable, r.status = h.quarantineTable(), record.StatusQuarantined
	default:
		return nil, fmt.Errorf("%w: action %q", ErrInvalid, d.Action)
	}
	return r, nil
}

// exposure is the exposed_ms of the relocation or quarantine of d's record,
// whose misplaced copy was gone at gone: the time since the write, or nil
// when the violation does not say when that was (a backfilled record).
func exposure(d events.ResidencyViolationDetail, gone time.Time) *int64 {
	if d.WrittenAt.IsZero() {
		return nil
	}
	return ledger.Exposure(gone.Sub(d.WrittenAt.Time))
}

func (h *Handler) quarantineTable() string {
	if h.QuarantineTable != "" {
		return h.QuarantineTable
	}
	return DefaultQuarantineTable
}

func (h *Handler) transfer(ctx context.Context, raw json.RawMessage) error {
	d, err := events.Decode[events.TransferRequestedDetail](raw)
	if err != nil {
		return err
	}
	fromCountry, ok := jurisdiction.RegionCountry(h.Region)
	if !ok {
		return fmt.Errorf("%w: router region %q has no known country", ErrInvalid, h.Region)
	}
	now := h.Now().UTC()
	dec, err := h.Policy.Transfer(policy.TransferRequest{
		FromCountry: fromCountry, Exporter: d.Exporter, ToCountry: d.ToCountry, Importer: d.Importer, Category: d.Category, Derogation: d.Derogation,
	}, now)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	kind, reference := ledger.KindTransfer, dec.Reference
	if dec.Decision != policy.DecisionAllowed {
		// A denial rests on no mechanism: the ledger keeps why.
		kind, reference = ledger.KindDenial, dec.Reason
	}
	subjectRef := h.Refs.Subject(d.SubjectID)
	recRef := h.Refs.Record(d.Source, d.Record)
	entry := ledger.Entry{
		ID:   ledger.ID(kind, "transfer", h.Region, d.TransferID),
		Time: now, Kind: kind, Region: h.Region, Source: d.Source, Record: recRef, SubjectRef: subjectRef,
		Category: d.Category, FromRegion: h.Region, FromCountry: fromCountry, ToRegion: d.ToRegion, ToCountry: d.ToCountry,
		Importer: d.Importer, Mechanism: dec.Mechanism, Reference: reference, Decision: dec.Decision,
		PolicyVersion: h.Policy.Version, Actor: Actor,
	}
	if err := h.Ledger.Send(ctx, entry); err != nil {
		return fmt.Errorf("send ledger entry: %w", err)
	}
	h.transferMetrics(ctx, &entry)
	h.Log.InfoContext(ctx, "transfer decided", "function", Actor, "transfer_id", d.TransferID, "exporter", dec.Exporter, "regime", dec.Regime, "to_country", d.ToCountry,
		"decision", dec.Decision, "mechanism", dec.Mechanism, "subject", subjectRef)
	return h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.TransferDecided, Detail: &events.TransferDecidedDetail{
		TransferID: d.TransferID, Source: d.Source, RecordRef: recRef, SubjectRef: subjectRef, Category: d.Category,
		FromCountry: fromCountry, FromRegion: h.Region, ToCountry: d.ToCountry, ToRegion: d.ToRegion, Importer: d.Importer,
		Exporter: dec.Exporter, Regime: dec.Regime, Restricted: dec.Restricted, Decision: dec.Decision, Mechanism: dec.Mechanism, Reference: dec.Reference, Reason: dec.Reason,
		LedgerID: entry.ID,
	}})
}
