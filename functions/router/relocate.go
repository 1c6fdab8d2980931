package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// relocation is one misplaced table record on its way through relocate:
// read, decided again, copied home (or to quarantine), verified, deleted
// where it was found, then written to the ledger and announced. err is its
// failure; done says it needs nothing more (finished early, or failed).
type relocation struct {
	d                   events.ResidencyViolationDetail
	src                 *policy.Source
	action              policy.Action
	target, targetTable string
	status              string
	log                 *slog.Logger

	item, moved record.Item // the misplaced copy; the copy written home
	oldTag      record.Tag
	subject     subject
	dec         policy.ResidencyDecision
	found       bool // the put found an item at home already
	err         error
	done        bool
}

func (r *relocation) fail(err error) {
	r.err, r.done = err, true
}

// live is the relocations of rs still under way.
func live(rs []*relocation) []*relocation {
	var out []*relocation
	for _, r := range rs {
		if !r.done {
			out = append(out, r)
		}
	}
	return out
}

// byTable groups the live relocations of rs by the region and table that
// at names, in their order.
func byTable(rs []*relocation, at func(*relocation) (string, string)) [][]*relocation {
	return group.By(live(rs), func(r *relocation) [2]string {
		region, table := at(r)
		return [2]string{region, table}
	})
}

func keysOf(rs []*relocation) []record.Key {
	keys := make([]record.Key, len(rs))
	for i, r := range rs {
		keys[i] = r.d.Record
	}
	return keys
}

func found(r *relocation) (string, string) { return r.d.Region, r.src.Table }
func home(r *relocation) (string, string)  { return r.target, r.targetTable }

// relocate moves a batch of misplaced records with region-scoped batched
// reads and writes, keeping each record's order of copy, verify, delete:
// one read of the misplaced copies per region and table, one conditional
// put each at home (never over a different record), one verifying read of
// the copies per home table, one conditional delete each of the misplaced
// copies (only while unchanged), then one ledger send and one publish for
// the batch. A record fails alone (its err), and a redelivered violation
// changes nothing: a copy already home is verified and the misplaced one
// deleted, a record already gone is done.
func (h *Handler) relocate(ctx context.Context, rs []*relocation) {
	seen := map[string]bool{}
	for _, r := range rs {
		id := r.d.Region + "\x00" + r.src.Table + "\x00" + r.d.Record.String()
		if seen[id] { // the same violation twice in one batch: once is enough
			r.log.InfoContext(ctx, "violation delivered twice in one batch; relocated once")
			r.done = true
		}
		seen[id] = true
	}
	for _, g := range byTable(rs, found) {
		items, err := h.Tables.GetItems(ctx, g[0].d.Region, g[0].src.Table, keysOf(g))
		for i, r := range g {
			switch {
			case err != nil:
				r.fail(fmt.Errorf("read misplaced record: %w", err))
			case items[i] == nil:
				r.log.InfoContext(ctx, "misplaced copy gone before relocation (relocated already, or deleted)")
				r.done = true
			default:
				r.item = items[i]
				h.prepareMove(ctx, r)
			}
		}
	}
	// Copy: never overwrite a different record already at home.
	for _, g := range byTable(rs, home) {
		puts := make([]record.Put, len(g))
		for i, r := range g {
			puts[i] = record.Put{Key: r.d.Record, Item: r.moved, IfAbsent: true}
		}
		errs, err := h.Tables.PutItems(ctx, g[0].target, g[0].targetTable, puts)
		for i, r := range g {
			switch {
			case err != nil:
				r.fail(fmt.Errorf("copy to %s/%s: %w", r.target, r.targetTable, err))
			case errors.Is(errs[i], record.ErrConditionFailed):
				r.found = true // a previous attempt's copy, or another record: verify tells
			case errs[i] != nil:
				r.fail(fmt.Errorf("copy to %s/%s: %w", r.target, r.targetTable, errs[i]))
			}
		}
	}
	// Verify before deleting the only other copy.
	for _, g := range byTable(rs, home) {
		copies, err := h.Tables.GetItems(ctx, g[0].target, g[0].targetTable, keysOf(g))
		for i, r := range g {
			switch {
			case err != nil:
				r.fail(fmt.Errorf("verify copy in %s/%s: %w", r.target, r.targetTable, err))
			case copies[i] == nil:
				r.fail(fmt.Errorf("verify copy in %s/%s: %w", r.target, r.targetTable, record.ErrNotFound))
			case !sameData(copies[i], r.item) && r.found:
				r.fail(fmt.Errorf("%w: %s/%s holds another version of the record; the misplaced copy in %s is kept", ErrConflict, r.target, r.targetTable, r.d.Region))
			case !sameData(copies[i], r.item):
				r.fail(fmt.Errorf("%w: the copy in %s/%s does not match the misplaced record; the misplaced copy is kept", ErrConflict, r.target, r.targetTable))
			}
		}
	}
	for _, g := range byTable(rs, found) {
		dels := make([]record.Delete, len(g))
		for i, r := range g {
			dels[i] = record.Delete{Key: r.d.Record, RetainUntil: r.oldTag.RetainUntil}
		}
		errs, err := h.Tables.DeleteItems(ctx, g[0].d.Region, g[0].src.Table, dels)
		for i, r := range g {
			switch {
			case err != nil:
				r.fail(fmt.Errorf("delete misplaced copy: %w", err))
			case errs[i] != nil && !errors.Is(errs[i], record.ErrNotFound):
				r.fail(fmt.Errorf("delete misplaced copy: %w", errs[i]))
			}
		}
	}
	h.recordRelocations(ctx, live(rs))
}

// prepareMove decides r's record again as it is now (the event may be old)
// and, when it is still misplaced, makes the copy to write home.
func (h *Handler) prepareMove(ctx context.Context, r *relocation) {
	s, dec, err := h.redecide(r.src, r.item, r.d.Region)
	if err != nil {
		r.fail(err)
		return
	}
	if dec.Allowed {
		r.log.InfoContext(ctx, "record no longer in violation")
		r.done = true
		return
	}
	r.subject, r.dec = s, dec
	r.oldTag, _ = record.TagOf(r.item)
	tag := r.oldTag
	tag.OriginRegion, tag.HomeRegion, tag.Status, tag.PolicyVersion = r.d.Region, dec.HomeRegion, r.status, h.Policy.Version
	tag.Jurisdiction, tag.TaggedAt = dec.Jurisdiction, record.FormatTime(h.Now().UTC())
	r.moved = maps.Clone(r.item)
	r.moved[record.TagAttribute] = tag.Map()
	if r.action == policy.ActionQuarantine {
		r.moved[quarantineSourceAttr] = r.src.Table
	}
}

// recordRelocations sends the ledger entries of the relocations done, then
// announces them: a failure fails them all, for a retry that finds the
// records home and the misplaced copies gone.
func (h *Handler) recordRelocations(ctx context.Context, rs []*relocation) {
	if len(rs) == 0 {
		return
	}
	// The misplaced copies are gone: the exposure of each ends now.
	now := h.Now().UTC()
	entries := make([]ledger.Entry, len(rs))
	outs := make([]events.Out, len(rs))
	for i, r := range rs {
		subjectRef := h.Refs.Subject(r.subject.id)
		fromCountry, _ := jurisdiction.RegionCountry(r.d.Region)
		toCountry, _ := jurisdiction.RegionCountry(r.target)
		recRef := h.Refs.Record(r.src.Table, r.d.Record)
		entries[i] = ledger.Entry{
			ID:   ledger.ID(ledger.KindRelocation, r.d.Region, r.src.Table, recRef, r.target, r.targetTable),
			Time: now, Kind: ledger.KindRelocation, Region: r.d.Region, Source: r.src.Table, Record: recRef,
			SubjectRef: subjectRef, Category: r.subject.category, FromRegion: r.d.Region, FromCountry: fromCountry, ToRegion: r.target,
			ToCountry: toCountry, Reference: h.Policy.RuleReference(r.dec),
			Decision: r.status, PolicyVersion: h.Policy.Version, Actor: Actor, ExposedMS: exposure(r.d, now),
		}
		outs[i] = events.Out{DetailType: events.RecordRelocated, Detail: &events.RecordRelocatedDetail{
			Source: r.src.Table, RecordRef: recRef, FromRegion: r.d.Region, ToRegion: r.target, SubjectRef: subjectRef, Action: string(r.action), At: events.At(now),
		}}
	}
	if err := h.Ledger.Send(ctx, entries...); err != nil {
		for _, r := range rs {
			r.fail(fmt.Errorf("send ledger entry: %w", err))
		}
		return
	}
	for i, r := range rs {
		h.relocationMetrics(ctx, &entries[i])
		r.log.InfoContext(ctx, "relocated", "action", string(r.action), "to_region", r.target, "to_table", r.targetTable)
	}
	if err := h.Bus.Publish(ctx, h.Region, outs...); err != nil {
		for _, r := range rs {
			r.fail(err)
		}
		return
	}
	for _, r := range rs {
		r.done = true
	}
}
