package retention

import (
	"fmt"
	"time"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// DecisionHeldByObjectLock is the decision of the ledger entry of a due
// object that S3 Object Lock keeps (a retention period or a legal hold): it
// was not deleted, and its catalog entry stays due, so that every sweep
// tries again until S3 lets it go; then it gets its receipt.
const DecisionHeldByObjectLock = ledger.DecisionHeldByObjectLock

// heldEntry is the ledger entry of a due object that S3 Object Lock kept:
// held until its retain-until date (or its legal hold's release). Its id
// names the lock, so the sweeps that find it locked again add nothing
// until the lock changes.
func (h *Handler) heldEntry(e catalog.Entry, le *record.LockedError, now time.Time) ledger.Entry {
	var reason, lock string
	if e.Erasure != "" {
		reason = ledger.ErasureReference(e.Erasure)
	} else {
		reason = h.Policy.RetentionReference(e.Category, e.RetainUntil)
	}
	until := "legal hold"
	if !le.Until.IsZero() {
		until = le.Until.UTC().Format(time.RFC3339)
	}
	switch {
	case le.LegalHold && !le.Until.IsZero():
		lock = fmt.Sprintf("a legal hold and %s retention until %s", le.Mode, until)
	case le.LegalHold:
		lock = "a legal hold, until it is released"
	default:
		lock = fmt.Sprintf("%s retention until %s", le.Mode, until)
	}
	noun := "versions"
	if le.Refused == 1 {
		noun = "version"
	}
	recRef := h.Refs.Record(e.Source, e.Key)
	kind := events.ReasonRetention
	if e.Erasure != "" {
		kind = events.ReasonErasure
	}
	return ledger.Entry{
		ID:   ledger.ID(ledger.KindDeletion, e.Region, e.Source, recRef, kind, DecisionHeldByObjectLock, until, fmt.Sprint(le.LegalHold)),
		Time: now.UTC(), Kind: ledger.KindDeletion, Region: e.Region, Source: e.Source, Record: recRef,
		SubjectRef: e.SubjectRef, Category: e.Category, FromRegion: e.Region,
		Reference: fmt.Sprintf("%s; not deleted: S3 Object Lock holds %d object %s (%s), %d deleted; the sweep deletes it once the lock ends",
			reason, le.Refused, noun, lock, le.Deleted),
		Decision: DecisionHeldByObjectLock, PolicyVersion: h.Policy.Version, Actor: Actor,
	}
}
