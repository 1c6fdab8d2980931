package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/trigger"
)

// Actor names the retention function in ledger entries.
const Actor = "retention"

// Catalog is what the sweep and erasure read and maintain.
type Catalog interface {
	DueEntries(ctx context.Context, region string, now time.Time, after catalog.Cursor, limit int) ([]catalog.Entry, catalog.Cursor, error)
	EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error)
	EntriesByContract(ctx context.Context, region, contract string) ([]catalog.Entry, error)
	PutEntries(ctx context.Context, entries []catalog.Entry) error
	DeleteEntry(ctx context.Context, region, source string, key record.Key) error
}

// Holds keeps legal holds.
type Holds interface {
	SetHold(ctx context.Context, h catalog.Hold) error
	ReleaseHold(ctx context.Context, id string) (bool, error)
	HoldOn(ctx context.Context, subjectRef, source string, key record.Key) (string, error)
}

// Contracts records contract ends.
type Contracts interface {
	EndContract(ctx context.Context, contract string, endedAt time.Time) error
}

// Tables deletes records (conditionally on their retain-until) and rewrites
// tags. Errors wrap record.ErrNotFound and record.ErrConditionFailed.
type Tables interface {
	DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error
	UpdateTag(ctx context.Context, region, table string, key record.Key, tag record.Tag) error
}

// Objects deletes S3 objects.
type Objects interface {
	DeleteObject(ctx context.Context, region, bucket, key string) error
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
}

// Handler is the retention function of one region.
type Handler struct {
	Region    string
	Policy    *policy.Policy
	Refs      Refs
	Catalog   Catalog
	Holds     Holds
	Contracts Contracts
	Tables    Tables
	Objects   Objects
	Bus       Publisher
	Ledger    LedgerQueue
	Now       func() time.Time
	Log       *slog.Logger
	// BatchSize is how many due entries a sweep reads at a time (default 500).
	BatchSize int
	// Margin is how long before the invocation's deadline a sweep stops
	// (default 10s).
	Margin time.Duration
}

// ErrInvalid marks an event the retention function cannot act on.
var ErrInvalid = errors.New("cannot process retention event")

// SweepResult is what one sweep did.
type SweepResult struct {
	Region  string `json:"region"`
	Due     int    `json:"due"`
	Deleted int    `json:"deleted"`
	Held    int    `json:"held"`
	Emitted int    `json:"emitted"`
	Changed int    `json:"changed"`
	// ItemsRead counts catalog entries read; ideally Due.
	ItemsRead int `json:"items_read"`
	// Complete is false when the sweep stopped at the deadline; the next
	// sweep continues.
	Complete bool `json:"complete"`
}

// Invoke serves every trigger of the retention function: the schedule and
// the EventBridge events it consumes.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	kind, err := trigger.Detect(payload)
	if err != nil {
		return nil, fmt.Errorf("retention: %w", err)
	}
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("retention: decode event: %w", err)
	}
	switch kind {
	case trigger.Schedule:
		now := h.Now()
		return h.Sweep(ctx, now)
	case trigger.EventBridge:
		return h.HandleEvent(ctx, ev)
	}
	return nil, fmt.Errorf("retention: %w: %s events go to another function", trigger.ErrUnknown, kind)
}

// HandleEvent processes a hold, contract end or erasure event.
func (h *Handler) HandleEvent(ctx context.Context, ev lambdaevents.EventBridgeEvent) (any, error) {
	var (
		out any
		err error
	)
	switch ev.DetailType {
	case events.LegalHoldSet:
		err = h.holdSet(ctx, ev.Detail)
	case events.LegalHoldReleased:
		err = h.holdReleased(ctx, ev.Detail)
	case events.ContractEnded:
		err = h.contractEnded(ctx, ev.Detail)
	case events.ErasureRequested:
		out, err = h.erase(ctx, ev.Detail)
	default:
		err = fmt.Errorf("%w: detail-type %q is not one the retention function handles", ErrInvalid, ev.DetailType)
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "event failed", "function", Actor, "detail_type", ev.DetailType, "event_id", ev.ID, "error", err.Error())
		return nil, fmt.Errorf("retention: %s %s: %w", ev.DetailType, ev.ID, err)
	}
	return out, nil
}

// Sweep deletes region's due, unheld records. It stops early, with Complete
// false, when ctx's deadline is within Margin.
func (h *Handler) Sweep(ctx context.Context, now time.Time) (SweepResult, error) {
	res := SweepResult{Region: h.Region}
	size := h.BatchSize
	if size <= 0 {
		size = 500
	}
	margin := h.Margin
	if margin <= 0 {
		margin = 10 * time.Second
	}
	var cursor catalog.Cursor
	for {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < margin {
			h.Log.WarnContext(ctx, "sweep stopped at the deadline; the next sweep continues", "function", Actor, "region", h.Region, "deleted", res.Deleted)
			return res, nil
		}
		due, next, err := h.Catalog.DueEntries(ctx, h.Region, now, cursor, size)
		if err != nil {
			return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
		}
		res.ItemsRead += len(due)
		cursor = next
		for _, e := range due {
			res.Due++
			hold, err := h.Holds.HoldOn(ctx, e.SubjectRef, e.Source, e.Key)
			if err != nil {
				return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
			}
			if hold != "" {
				res.Held++
				continue
			}
			if err := h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.RetentionExpired, Detail: &events.RetentionExpiredDetail{
				Source: e.Source, Record: e.Key, Region: e.Region, SubjectRef: e.SubjectRef, Category: e.Category, RetainUntil: events.At(e.RetainUntil),
			}}); err != nil {
				return res, fmt.Errorf("retention: sweep %s: emit: %w", h.Region, err)
			}
			res.Emitted++
			reference := fmt.Sprintf("retention of %s", e.Category)
			if cat, ok := h.Policy.Category(e.Category); ok {
				reference = fmt.Sprintf("retention of %s: %s from %s, due %s", e.Category, cat.Retention, cat.From, record.FormatTime(e.RetainUntil))
			}
			_, deleted, err := h.delete(ctx, e, events.ReasonRetention, "", reference, now)
			if err != nil {
				return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
			}
			if deleted {
				res.Deleted++
			} else {
				res.Changed++
			}
		}
		if len(due) < size {
			res.Complete = true
			h.Log.InfoContext(ctx, "sweep", "function", Actor, "region", h.Region, "due", res.Due, "deleted", res.Deleted, "held", res.Held, "changed", res.Changed)
			return res, nil
		}
	}
}

// delete removes one record with its receipt and returns the receipt's
// ledger id. It reports false when the record changed since it was found due
// (the tagger re-evaluates it).
func (h *Handler) delete(ctx context.Context, e catalog.Entry, reason, requestID, reference string, now time.Time) (string, bool, error) {
	decision := "deleted"
	switch e.SourceKind {
	case catalog.SourceTable:
		cond := ""
		if reason == events.ReasonRetention {
			cond = record.FormatTime(e.RetainUntil)
		}
		err := h.Tables.DeleteItem(ctx, e.Region, e.Source, e.Key, cond)
		switch {
		case errors.Is(err, record.ErrConditionFailed):
			h.Log.InfoContext(ctx, "record changed since it was due; left for re-evaluation", "function", Actor,
				"source", e.Source, "record", h.Refs.Record(e.Source, e.Key))
			return "", false, nil
		case errors.Is(err, record.ErrNotFound):
			// Deleted already (a retried sweep): the receipt below is idempotent.
		case err != nil:
			return "", false, fmt.Errorf("delete %s record: %w", e.Source, err)
		}
	case catalog.SourceBucket:
		k, _ := e.Key["key"].(string)
		if err := h.Objects.DeleteObject(ctx, e.Region, e.Source, k); err != nil && !errors.Is(err, record.ErrNotFound) {
			return "", false, fmt.Errorf("delete %s object: %w", e.Source, err)
		}
	default:
		// A store Residency does not own: the platform deletes it on the
		// event; the receipt says the deletion was requested.
		decision = "deletion-requested"
	}
	recRef := h.Refs.Record(e.Source, e.Key)
	idPart := record.FormatTime(e.RetainUntil)
	if requestID != "" {
		idPart = requestID
	}
	entry := ledger.Entry{
		ID:   ledger.ID(ledger.KindDeletion, e.Region, e.Source, e.Key.String(), reason, idPart),
		Time: now.UTC(), Kind: ledger.KindDeletion, Region: e.Region, Source: e.Source, Record: recRef,
		SubjectRef: e.SubjectRef, Category: e.Category, FromRegion: e.Region, Reference: reference,
		Decision: decision, PolicyVersion: h.Policy.Version, Actor: Actor,
	}
	if err := h.Ledger.Send(ctx, entry); err != nil {
		return "", false, fmt.Errorf("send receipt: %w", err)
	}
	if err := h.Catalog.DeleteEntry(ctx, e.Region, e.Source, e.Key); err != nil {
		return "", false, err
	}
	if err := h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.RecordDeleted, Detail: &events.RecordDeletedDetail{
		Source: e.Source, Record: e.Key, Region: e.Region, SubjectRef: e.SubjectRef, Category: e.Category,
		Reason: reason, RequestID: requestID, Receipt: entry.ID, DeletedAt: events.At(now),
	}}); err != nil {
		return "", false, fmt.Errorf("emit: %w", err)
	}
	return entry.ID, true, nil
}

func (h *Handler) holdSet(ctx context.Context, raw json.RawMessage) error {
	d, err := events.Decode[events.LegalHoldDetail](raw)
	if err != nil {
		return err
	}
	hold := catalog.Hold{ID: d.HoldID, SubjectRef: h.Refs.Subject(d.SubjectID), Source: d.Source, Key: d.Record, Reason: d.Reason, SetAt: h.Now().UTC()}
	if err := h.Holds.SetHold(ctx, hold); err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "hold set", "function", Actor, "hold_id", d.HoldID, "subject", hold.SubjectRef)
	return nil
}

func (h *Handler) holdReleased(ctx context.Context, raw json.RawMessage) error {
	d, err := events.Decode[events.LegalHoldDetail](raw)
	if err != nil {
		return err
	}
	existed, err := h.Holds.ReleaseHold(ctx, d.HoldID)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "hold released", "function", Actor, "hold_id", d.HoldID, "existed", existed)
	return nil
}

func (h *Handler) contractEnded(ctx context.Context, raw json.RawMessage) error {
	d, err := events.Decode[events.ContractEndedDetail](raw)
	if err != nil {
		return err
	}
	if err := h.Contracts.EndContract(ctx, d.Contract, d.EndedAt.Time); err != nil {
		return err
	}
	linked, err := h.Catalog.EntriesByContract(ctx, h.Region, d.Contract)
	if err != nil {
		return err
	}
	var changed []catalog.Entry
	for _, e := range linked {
		cat, ok := h.Policy.Category(e.Category)
		if !ok || cat.From != policy.FromContractEnd {
			continue
		}
		until, ok := h.Policy.RetainUntil(e.Category, time.Time{}, time.Time{}, d.EndedAt.Time)
		if !ok || until.Equal(e.RetainUntil) {
			continue
		}
		e.RetainUntil = until
		if e.SourceKind == catalog.SourceTable {
			tag := record.Tag{OriginRegion: e.OriginRegion, Jurisdiction: e.Jurisdiction, HomeRegion: e.HomeRegion, Status: e.Status,
				PolicyVersion: e.PolicyVersion, TaggedAt: record.FormatTime(h.Now()), RetainUntil: record.FormatTime(until)}
			if err := h.Tables.UpdateTag(ctx, e.Region, e.Source, e.Key, tag); err != nil && !errors.Is(err, record.ErrNotFound) {
				return err
			}
		}
		changed = append(changed, e)
	}
	h.Log.InfoContext(ctx, "contract ended", "function", Actor, "region", h.Region, "linked", len(linked), "clocks_started", len(changed))
	return h.Catalog.PutEntries(ctx, changed)
}

func (h *Handler) erase(ctx context.Context, raw json.RawMessage) (events.ErasureCompletedDetail, error) {
	d, err := events.Decode[events.ErasureRequestedDetail](raw)
	if err != nil {
		return events.ErasureCompletedDetail{}, err
	}
	now := h.Now().UTC()
	ref := h.Refs.Subject(d.SubjectID)
	out := events.ErasureCompletedDetail{RequestID: d.RequestID, SubjectRef: ref, Region: h.Region, Receipts: []string{}}
	entries, err := h.Catalog.EntriesBySubject(ctx, h.Region, ref)
	if err != nil {
		return out, err
	}
	for _, e := range entries {
		// A legal hold outranks erasure (GDPR Art. 17(3)(e)): the record
		// stays, and the summary says how many did.
		hold, err := h.Holds.HoldOn(ctx, e.SubjectRef, e.Source, e.Key)
		if err != nil {
			return out, err
		}
		if hold != "" {
			out.Held++
			continue
		}
		receipt, deleted, err := h.delete(ctx, e, events.ReasonErasure, d.RequestID, "GDPR Art. 17 erasure request "+d.RequestID, now)
		if err != nil {
			return out, err
		}
		if deleted {
			out.Deleted++
			out.Receipts = append(out.Receipts, receipt)
		}
	}
	out.CompletedAt = events.At(now)
	h.Log.InfoContext(ctx, "erasure", "function", Actor, "region", h.Region, "request_id", d.RequestID, "subject", ref, "deleted", out.Deleted, "held", out.Held)
	return out, h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.ErasureCompleted, Detail: &out})
}
