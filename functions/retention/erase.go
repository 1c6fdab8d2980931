package retention

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
)

func (h *Handler) erase(ctx context.Context, raw json.RawMessage) (events.ErasureCompletedDetail, error) {
	d, err := events.Decode[events.ErasureRequestedDetail](raw)
	if err != nil {
		return events.ErasureCompletedDetail{}, err
	}
	now := h.Now().UTC()
	ref := h.Refs.Subject(d.SubjectID)
	out := events.ErasureCompletedDetail{RequestID: d.RequestID, SubjectRef: ref, Region: h.Region, Receipts: []string{}}
	// On the erased list first: a record written from now on (a restore, a
	// replayed import) is erased again, under this request.
	if err := h.Catalog.MarkErased(ctx, h.Region, []catalog.Erased{{SubjectRef: ref, RequestID: d.RequestID, ErasedAt: now}}); err != nil {
		return out, err
	}
	entries, err := h.Catalog.EntriesBySubject(ctx, h.Region, ref)
	if err != nil {
		return out, err
	}
	// The request itself goes to the ledger first, before any receipt:
	// when it was received and how many records this region holds to
	// erase; the report's one-month clock reads it back, and the request
	// is complete here when as many receipts name it. Its id is the same
	// on a redelivery (the report reads the first).
	received := d.ReceivedAt.Time // required: Decode validated it
	request := ledger.Entry{
		ID:   ledger.ID(ledger.KindDeletion, h.Region, ref, ledger.DecisionErasureRequested, d.RequestID),
		Time: now, Kind: ledger.KindDeletion, Region: h.Region, SubjectRef: ref,
		Reference: ledger.ErasureRequestReference(d.RequestID, received, len(entries)),
		Decision:  ledger.DecisionErasureRequested, PolicyVersion: h.Policy.Version, Actor: Actor,
	}
	if err := h.Ledger.Send(ctx, request); err != nil {
		return out, fmt.Errorf("send erasure request %s: %w", d.RequestID, err)
	}
	// A legal hold outranks erasure (GDPR Art. 17(3)(e)): those records
	// stay, and the summary says how many did.
	unheld, held, err := h.unheld(ctx, entries)
	if err != nil {
		return out, err
	}
	out.Held = len(held)
	// Mark them all first, due now and as this request's. The tagger keeps
	// the catalog entries of due records when their deletions stream by,
	// so if this stops after deleting and before the receipts, the event's
	// retry or the next sweep still finds the entries, and either deletes
	// them as this erasure. The held ones the sweep skips while their hold
	// lasts, and erases once it is released, as the exemption then ends.
	var marked []catalog.Entry
	mark := func(es []catalog.Entry) {
		for i, e := range es {
			due := !e.RetainUntil.IsZero() && !e.RetainUntil.After(now)
			if due && e.Erasure == d.RequestID {
				continue // marked by an earlier delivery
			}
			e.Erasure = d.RequestID
			if !due {
				e.RetainUntil = now
			}
			es[i] = e
			marked = append(marked, e)
		}
	}
	mark(unheld)
	mark(held)
	if err := h.Catalog.PutEntries(ctx, marked); err != nil {
		return out, err
	}
	del, err := h.delete(ctx, unheld, now)
	out.Deleted += len(del.receipts)
	out.Held += len(del.locked) // S3 Object Lock keeps them; they stay marked for the sweep
	out.Receipts = append(out.Receipts, del.receipts...)
	if err != nil {
		return out, err
	}
	out.CompletedAt = events.At(now)
	out.Coverage, out.Uncovered = h.coverage(ctx)
	h.Log.InfoContext(ctx, "erasure", "function", Actor, "region", h.Region, "request_id", d.RequestID, "subject", ref, "deleted", out.Deleted, "held", out.Held)
	return out, h.Bus.Publish(ctx, h.Region, events.Out{DetailType: events.ErasureCompleted, Detail: &out})
}
