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
	"github.com/residency-dev/residency/shared/metrics"
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
	DeleteEntries(ctx context.Context, entries []catalog.Entry) error
	// MarkErased puts erased subjects on the region's erased list, so that
	// the tagger erases their records again when they are written again.
	MarkErased(ctx context.Context, region string, erased []catalog.Erased) error
}

// DueMarker is a catalog whose due index keeps a low-water mark (DynamoDB's):
// a complete sweep tells it where the entries it left begin.
type DueMarker interface {
	SweepDone(ctx context.Context, region string, cursor catalog.Cursor, now, keepFrom time.Time) error
}

// Holds keeps legal holds.
type Holds interface {
	SetHold(ctx context.Context, h catalog.Hold) error
	ReleaseHold(ctx context.Context, id string) (bool, error)
	// HoldsOn returns, for each entry, the id of a hold covering it, or "".
	HoldsOn(ctx context.Context, entries []catalog.Entry) ([]string, error)
}

// Contracts records contract ends.
type Contracts interface {
	EndContract(ctx context.Context, contract string, endedAt time.Time) error
}

// Tables deletes records (conditionally on their retain-until) and rewrites
// tags. DeleteItems reports each record's outcome in its slot: nil, or an
// error wrapping record.ErrNotFound, record.ErrConditionFailed or the
// store's failure.
type Tables interface {
	DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error)
	UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error)
}

// Objects deletes S3 objects down to their last version, and says how many
// versions (and delete markers) went.
type Objects interface {
	DeleteObject(ctx context.Context, region, bucket, key string) (int, error)
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
	// DeadLetters, when set, keeps the events that failed permanently
	// (errors.Is(err, record.ErrPermanent): an invalid event), which are
	// then acknowledged instead of failed for a retry that cannot mend
	// them. Without it, such an event fails like any other, so none is lost.
	DeadLetters FailureSink
	// Coverage reads the region's completed backfills, for an erasure to
	// say whether it reached the records that predate Residency (optional:
	// without it, its coverage is unknown).
	Coverage CoverageReader
	// Metrics, when set, receives each sweep's figures (EMF lines).
	Metrics *metrics.Emitter
}

// FailureSink is told of an event that failed, with the reason.
type FailureSink interface {
	Failed(ctx context.Context, function, region, item string, err error)
}

// ErrInvalid marks an event the retention function cannot act on.
var ErrInvalid = record.Permanent("cannot process retention event")

// SweepResult is what one sweep did.
type SweepResult struct {
	Region  string `json:"region"`
	Due     int    `json:"due"`
	Deleted int    `json:"deleted"`
	Held    int    `json:"held"`
	Emitted int    `json:"emitted"`
	Changed int    `json:"changed"`
	// Locked counts the due objects S3 Object Lock kept (a retention
	// period or a legal hold): each has a held entry, not a receipt, and
	// stays due; the sweep tries again until S3 lets it go.
	Locked int `json:"locked,omitempty"`
	// Erased counts the deletions made on an erasure request, of records
	// it left (held until their release, or left by an erasure that
	// stopped part-way); their receipts name the request.
	Erased int `json:"erased,omitempty"`
	// ItemsRead counts the items the sweep read: the due entries of the
	// catalog, and the holds that kept some of them; ideally Due.
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
		out, err := h.HandleEvent(ctx, ev)
		if err != nil && h.DeadLetters != nil && errors.Is(err, record.ErrPermanent) {
			h.DeadLetters.Failed(ctx, Actor, h.Region, ev.DetailType+" "+ev.ID, err)
			return nil, nil
		}
		return out, err
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

// Sweep deletes region's due, unheld records, a page of due entries at a
// time. It stops early, with Complete false, when ctx's deadline is within
// Margin; the next sweep starts again from the earliest due entry, which is
// where this one stopped, as what it deleted is gone from the catalog.
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
	var keepFrom time.Time // the earliest retain-until of the entries left in place
	var oldest time.Time   // the earliest retain-until of the due entries no hold keeps
	defer func() { h.sweepMetrics(ctx, res, oldest, now) }()
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
		res.Due += len(due)
		cursor = next
		unheld, held, err := h.unheld(ctx, due)
		if err != nil {
			return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
		}
		res.Held += len(held)
		res.ItemsRead += len(held)
		oldest = earliest(oldest, unheld)
		// Entries an erasure marked are finished as that erasure: no
		// retention expired.
		var expired []events.Out
		for _, e := range unheld {
			if e.Erasure == "" {
				expired = append(expired, events.Out{DetailType: events.RetentionExpired, Detail: &events.RetentionExpiredDetail{
					Source: e.Source, RecordRef: h.Refs.Record(e.Source, e.Key), Region: e.Region, SubjectRef: e.SubjectRef, Category: e.Category, RetainUntil: events.At(e.RetainUntil)}})
			}
		}
		if err := h.Bus.Publish(ctx, h.Region, expired...); err != nil {
			return res, fmt.Errorf("retention: sweep %s: emit: %w", h.Region, err)
		}
		res.Emitted += len(expired)
		d, err := h.delete(ctx, unheld, now)
		res.Deleted += len(d.receipts)
		res.Erased += d.erased
		res.Changed += len(d.changed)
		res.Locked += len(d.locked)
		if err != nil {
			return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
		}
		keepFrom = earliest(earliest(earliest(keepFrom, held), d.changed), d.locked)
		if len(due) < size {
			if m, ok := h.Catalog.(DueMarker); ok {
				if err := m.SweepDone(ctx, h.Region, cursor, now, keepFrom); err != nil {
					return res, fmt.Errorf("retention: sweep %s: %w", h.Region, err)
				}
			}
			res.Complete = true
			h.Log.InfoContext(ctx, "sweep", "function", Actor, "region", h.Region, "due", res.Due, "deleted", res.Deleted, "held", res.Held,
				"changed", res.Changed, "items_read", res.ItemsRead)
			return res, nil
		}
	}
}

// earliest returns the earliest of from (unless zero) and the entries'
// retain-until times.
func earliest(from time.Time, entries []catalog.Entry) time.Time {
	for _, e := range entries {
		if from.IsZero() || e.RetainUntil.Before(from) {
			from = e.RetainUntil
		}
	}
	return from
}

// unheld splits entries into those no legal hold covers and those one does.
func (h *Handler) unheld(ctx context.Context, entries []catalog.Entry) (unheld, held []catalog.Entry, err error) {
	if len(entries) == 0 {
		return nil, nil, nil
	}
	holds, err := h.Holds.HoldsOn(ctx, entries)
	if err != nil {
		return nil, nil, err
	}
	unheld = make([]catalog.Entry, 0, len(entries))
	for i, e := range entries {
		if holds[i] == "" {
			unheld = append(unheld, e)
		} else {
			held = append(held, e)
		}
	}
	return unheld, held, nil
}

// deletion is what delete did.
type deletion struct {
	receipts []string        // the ledger ids of the receipts sent
	erased   int             // how many of them name an erasure request
	changed  []catalog.Entry // records left because they changed since they were due
	locked   []catalog.Entry // objects left because S3 Object Lock keeps them
}

// delete removes a batch of records, each with its receipt: the records
// first (a table's in one batch), then the receipts of those gone, then
// their catalog entries, then a Record Deleted event each. An entry an
// erasure marked (Entry.Erasure) is deleted as that erasure, whoever finds
// it: unconditionally, with a receipt naming the request; any other is a
// retention expiry, deleted only if its record still carries the
// retain-until it was found due at (a record that changed is left for the
// tagger to re-evaluate, and returned in changed). When some records cannot
// be deleted, the others still get their receipts and the error says how
// many failed; a crash anywhere leaves the catalog entries of the records
// without a receipt, so the next sweep finds them (gone: it writes the
// receipt; the receipt's id makes a second one a no-op).
func (h *Handler) delete(ctx context.Context, entries []catalog.Entry, now time.Time) (deletion, error) {
	var d deletion
	if len(entries) == 0 {
		return d, nil
	}
	outcome := make([]error, len(entries)) // nil: gone now
	decision := make([]string, len(entries))
	versions := make([]int, len(entries)) // of a bucket's object, how many went
	locks := make([]*record.LockedError, len(entries))
	tables := map[[2]string][]int{} // (region, table) -> entries
	var tableOrder [][2]string
	for i, e := range entries {
		decision[i] = "deleted"
		switch e.SourceKind {
		case catalog.SourceTable:
			t := [2]string{e.Region, e.Source}
			if _, ok := tables[t]; !ok {
				tableOrder = append(tableOrder, t)
			}
			tables[t] = append(tables[t], i)
		case catalog.SourceBucket:
			k, _ := e.Key["key"].(string)
			n, err := h.Objects.DeleteObject(ctx, e.Region, e.Source, k)
			switch {
			case errors.As(err, &locks[i]):
				// Not deleted: a held entry says until when, below.
			case err != nil && !errors.Is(err, record.ErrNotFound):
				outcome[i] = fmt.Errorf("delete %s object: %w", e.Source, err)
			}
			versions[i] = n
		default:
			// A store Residency does not own: the platform deletes it on
			// the event; the receipt says the deletion was requested.
			decision[i] = "deletion-requested"
		}
	}
	for _, t := range tableOrder {
		idx := tables[t]
		dels := make([]record.Delete, len(idx))
		for j, i := range idx {
			dels[j] = record.Delete{Key: entries[i].Key}
			if entries[i].Erasure == "" {
				dels[j].RetainUntil = record.FormatTime(entries[i].RetainUntil)
			}
		}
		errs, err := h.Tables.DeleteItems(ctx, t[0], t[1], dels)
		if err != nil {
			return deletion{}, fmt.Errorf("delete %s records: %w", t[1], err)
		}
		for j, i := range idx {
			if errs[j] != nil && !errors.Is(errs[j], record.ErrNotFound) { // gone already (a retried sweep): receipt below
				outcome[i] = errs[j]
			}
		}
	}
	sent := make([]ledger.Entry, 0, len(entries))
	done := make([]catalog.Entry, 0, len(entries))
	deleted := make([]events.Out, 0, len(entries))
	d.receipts = make([]string, 0, len(entries))
	failed, firstErr := 0, error(nil)
	for i, e := range entries {
		if locks[i] != nil {
			d.locked = append(d.locked, e)
			sent = append(sent, h.heldEntry(e, locks[i], now))
			continue
		}
		if err := outcome[i]; err != nil {
			if errors.Is(err, record.ErrConditionFailed) {
				h.Log.InfoContext(ctx, "record changed since it was due; left for re-evaluation", "function", Actor,
					"source", e.Source, "record", h.Refs.Record(e.Source, e.Key))
				d.changed = append(d.changed, e)
				continue
			}
			if failed++; firstErr == nil {
				firstErr = err
			}
			continue
		}
		var reason, idPart, reference string
		if e.Erasure != "" {
			reason, idPart, reference = events.ReasonErasure, e.Erasure, ledger.ErasureReference(e.Erasure)
			if e.Reapplied {
				// To a record written again after the erasure: a receipt
				// of its own, not the first deletion's again.
				reference += ledger.ReappliedSuffix
				idPart += " re-applied " + e.TaggedAt.UTC().Format(time.RFC3339Nano)
			}
			d.erased++
		} else {
			reason, idPart, reference = events.ReasonRetention, record.FormatTime(e.RetainUntil), h.Policy.RetentionReference(e.Category, e.RetainUntil)
		}
		if e.SourceKind == catalog.SourceBucket {
			reference += ledger.ObjectVersionsSuffix(versions[i])
		}
		recRef := h.Refs.Record(e.Source, e.Key)
		entry := ledger.Entry{
			ID:   ledger.ID(ledger.KindDeletion, e.Region, e.Source, recRef, reason, idPart),
			Time: now.UTC(), Kind: ledger.KindDeletion, Region: e.Region, Source: e.Source, Record: recRef,
			SubjectRef: e.SubjectRef, Category: e.Category, FromRegion: e.Region, Reference: reference,
			Decision: decision[i], PolicyVersion: h.Policy.Version, Actor: Actor,
		}
		d.receipts = append(d.receipts, entry.ID)
		sent = append(sent, entry)
		done = append(done, e)
		deleted = append(deleted, events.Out{DetailType: events.RecordDeleted, Detail: &events.RecordDeletedDetail{
			Source: e.Source, RecordRef: recRef, Region: e.Region, SubjectRef: e.SubjectRef, Category: e.Category,
			Reason: reason, RequestID: e.Erasure, Receipt: entry.ID, DeletedAt: events.At(now),
		}})
	}
	if len(sent) > 0 {
		if err := h.Ledger.Send(ctx, sent...); err != nil {
			return deletion{changed: d.changed, locked: d.locked}, fmt.Errorf("send receipts: %w", err)
		}
	}
	if len(done) > 0 {
		if err := h.Catalog.DeleteEntries(ctx, done); err != nil {
			return deletion{changed: d.changed, locked: d.locked}, err
		}
		if err := h.Bus.Publish(ctx, h.Region, deleted...); err != nil {
			return deletion{changed: d.changed, locked: d.locked}, fmt.Errorf("emit: %w", err)
		}
	}
	if firstErr != nil {
		return d, fmt.Errorf("%d of %d records not deleted (the next sweep retries them): %w", failed, len(entries), firstErr)
	}
	return d, nil
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
	writes := map[[2]string][]record.TagWrite{} // by region and table
	var tables [][2]string
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
		changed = append(changed, e)
		if e.SourceKind != catalog.SourceTable {
			continue
		}
		w := record.TagWrite{Key: e.Key, Tag: record.Tag{OriginRegion: e.OriginRegion, Jurisdiction: e.Jurisdiction, HomeRegion: e.HomeRegion,
			Status: e.Status, PolicyVersion: e.PolicyVersion, TaggedAt: record.FormatTime(h.Now()), RetainUntil: record.FormatTime(until)}}
		if src, ok := h.Policy.SourceByName(e.Source); ok && src.TTLAttribute != "" {
			w.TTLAttribute, w.TTL = src.TTLAttribute, policy.TTL(w.Tag.RetainUntil)
		}
		t := [2]string{e.Region, e.Source}
		if _, ok := writes[t]; !ok {
			tables = append(tables, t)
		}
		writes[t] = append(writes[t], w)
	}
	for _, t := range tables {
		errs, err := h.Tables.UpdateTags(ctx, t[0], t[1], writes[t])
		if err != nil {
			return err
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, record.ErrNotFound) { // a gone record keeps no tag
				return err
			}
		}
	}
	h.Log.InfoContext(ctx, "contract ended", "function", Actor, "region", h.Region, "linked", len(linked), "clocks_started", len(changed))
	return h.Catalog.PutEntries(ctx, changed)
}
