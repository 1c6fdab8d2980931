package tagger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// batch collects the writes of one invocation, flushed together.
type batch struct {
	pending []pendingTag // tag writes to table records, written together
	entries []catalog.Entry
	removed []catalog.Entry // records deleted: their entries go first
	evs     []events.Out
	ledger  []ledger.Entry
	writes  []write         // decoded writes, tagged together (tagWrites)
	ttl     []catalog.Entry // records DynamoDB's TTL deleted: receipts of their own
	tagged  int
	echoes  int
	gone    int // misplaced writes already deleted, logged as violations
	// echoed, when checkEchoes is set (a backfill page), keeps the
	// records whose tag was already current, for recatalog.
	echoed      []pendingTag
	checkEchoes bool
	// taggedAt is the last tagging second formatted (epoch seconds), and
	// its text: a batch is tagged within the same second, mostly.
	taggedAt     int64
	taggedAtText string
}

// formatNow is record.FormatTime(now), whole seconds in UTC, formatted
// once for a batch's records tagged within the same second.
func (b *batch) formatNow(now time.Time) string {
	if b.taggedAtText == "" || now.Unix() != b.taggedAt {
		b.taggedAt, b.taggedAtText = now.Unix(), record.FormatTime(now)
	}
	return b.taggedAtText
}

// pendingTag is a decided tag waiting for its write.
type pendingTag struct {
	w   write
	tag record.Tag
	dec policy.ResidencyDecision
	now time.Time
	// ttlOnly: the tag is unchanged and only its TTL is written back.
	ttlOnly bool
}

// writeTags writes the batch's pending tags, one UpdateTags call per region
// and table, then emits what each written tag causes. It returns the
// failures by stream sequence number.
func (h *Handler) writeTags(ctx context.Context, b *batch) map[string]error {
	failed := map[string]error{}
	for _, ps := range group.By(b.pending, func(p pendingTag) [2]string { return [2]string{p.w.region, p.w.source} }) {
		region, table := ps[0].w.region, ps[0].w.source
		writes := make([]record.TagWrite, len(ps))
		for i, p := range ps {
			writes[i] = record.TagWrite{Key: p.w.key, Tag: p.tag}
			writes[i].TTLAttribute, writes[i].TTL = ttlWrite(p.w, p.tag)
		}
		errs, err := h.Tables.UpdateTags(ctx, region, table, writes)
		// What emit adds for each: an entry and Record Tagged.
		b.entries, b.evs = slices.Grow(b.entries, len(ps)), slices.Grow(b.evs, len(ps))
		for i, p := range ps {
			switch {
			case err != nil:
				failed[p.w.seq] = fmt.Errorf("write tags: %w", err)
			case errs[i] == nil && p.ttlOnly:
			case errs[i] == nil:
				h.emit(p, b)
			case errors.Is(errs[i], record.ErrNotFound):
				// Deleted since the write: its REMOVE follows in the
				// stream. A misplaced write is a violation all the same.
				h.gone(p, b)
			default:
				failed[p.w.seq] = fmt.Errorf("write tag: %w", errs[i])
			}
		}
	}
	b.pending = nil
	return failed
}

func (h *Handler) flush(ctx context.Context, b *batch) error {
	if err := h.Catalog.RemoveDeleted(ctx, b.removed, h.Now()); err != nil {
		return fmt.Errorf("tagger: remove catalog entries: %w", err)
	}
	if len(b.ttl) > 0 {
		if err := h.Catalog.DeleteEntries(ctx, b.ttl); err != nil {
			return fmt.Errorf("tagger: remove catalog entries of TTL deletions: %w", err)
		}
	}
	if err := h.Catalog.PutEntries(ctx, b.entries); err != nil {
		return fmt.Errorf("tagger: write catalog: %w", err)
	}
	if len(b.ledger) > 0 {
		if err := h.Ledger.Send(ctx, b.ledger...); err != nil {
			return fmt.Errorf("tagger: send ledger entries: %w", err)
		}
	}
	if len(b.evs) > 0 {
		if err := h.Bus.Publish(ctx, h.Region, b.evs...); err != nil {
			return fmt.Errorf("tagger: publish: %w", err)
		}
	}
	return nil
}
