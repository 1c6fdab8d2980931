package local_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// killer is a log handler that cancels a backfill's context at the n-th
// "relocated" line of the router: in the middle of a page, after its tags,
// catalog entries and some of its relocations, before its checkpoint.
type killer struct {
	n      int64
	seen   *atomic.Int64
	cancel context.CancelFunc
	before func() // if not nil, called just before it cancels
}

func (k killer) Enabled(context.Context, slog.Level) bool { return true }
func (k killer) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "relocated" && k.seen.Add(1) == k.n {
		if k.before != nil {
			k.before()
		}
		k.cancel()
	}
	return nil
}
func (k killer) WithAttrs([]slog.Attr) slog.Handler { return k }
func (k killer) WithGroup(string) slog.Handler      { return k }

// TestBackfillAcceptance is issue 16's "Done when": an export of 50,000
// items of us-east-1 (5,000 with -short), 10% of them EU subjects and 5%
// past their retention, backfilled by a run killed in the middle of a page
// and a run that resumes it: a violation and a relocation for each EU
// record, exactly once; the next sweep deletes the expired ones with a
// receipt each; a second backfill adds nothing; the ledger verifies.
func TestBackfillAcceptance(t *testing.T) {
	spec := exportSpec{items: 50000, misplaced: true, expired: true}
	if testing.Short() {
		spec.items = 5000
	}
	misplaced, expired := spec.counts()
	root := writeExport(t, spec)
	db := filepath.Join(t.TempDir(), "accept.db")
	now := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	ctx := context.Background()
	open := func(log *slog.Logger) (*local.Stack, *sqlitestore.Store) {
		t.Helper()
		st, err := sqlitestore.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		s, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: now, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		return s, st
	}

	// GIVEN a backfill killed in the middle of a page (its 1,284th
	// relocation is in its 13th page; with -short its 159th, in the 2nd).
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := int64(misplaced/4 + 34)
	var during string // the catalog's indexes in the middle of the page
	s, st := open(slog.New(killer{n: n, seen: &atomic.Int64{}, cancel: cancel, before: func() { during = catalogIndexes(t, db) }}))
	e, err := s.OpenExport(root)
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	_, err = s.BackfillExport(kctx, e, local.BackfillOptions{Progress: func(local.BackfillProgress) { pages++ }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("expect the backfill killed, got %v", err)
	}
	// Nothing of the killed page is kept: the catalog holds whole pages.
	cps, _ := st.Checkpoints(ctx, "us-east-1", "users")
	entries := 0
	for _, r := range []string{"eu-central-1", "us-east-1"} {
		c, _ := st.CountEntries(ctx, r)
		entries += c
	}
	if len(cps) != 1 || cps[0].Done || cps[0].Pages != pages || cps[0].Counts.Read != pages*local.BackfillPageSize || entries != cps[0].Counts.Read {
		t.Fatalf("expect %d whole pages kept and checkpointed, got %d catalog entries, %+v", pages, entries, cps)
	}
	st.Close()
	// A bulk load (the whole export is new to the catalog) drops the
	// catalog's indexes while it writes; stopped, it built them again.
	switch {
	case spec.items >= local.BulkLoadMin && during != "":
		t.Fatalf("expect the catalog's indexes dropped while it loads, got %q", during)
	case spec.items < local.BulkLoadMin && during != allCatalogIndexes: // -short: too few records for a bulk load
		t.Fatalf("expect the catalog's indexes kept for a small backfill, got %q", during)
	}
	if got := catalogIndexes(t, db); got != allCatalogIndexes {
		t.Fatalf("expect the catalog's indexes built again when the backfill stopped, got %q", got)
	}

	// WHEN it is started again
	s, st = open(nil)
	defer st.Close()
	if e, err = s.OpenExport(root); err != nil {
		t.Fatal(err)
	}
	var indexing []local.BackfillIndexing
	res, err := s.BackfillExport(ctx, e, local.BackfillOptions{Indexing: func(bi local.BackfillIndexing) { indexing = append(indexing, bi) }})
	if err != nil {
		t.Fatal(err)
	}
	// A bulk load tells when it builds the catalog's indexes, and when it
	// is done; another backfill builds none.
	switch {
	case spec.items >= local.BulkLoadMin && (len(indexing) != 2 || indexing[0].Done || !indexing[1].Done || indexing[1].Took <= 0 ||
		indexing[0].Region != "us-east-1" || indexing[1].Table != "users"):
		t.Errorf("expect the index build's start and end, got %+v", indexing)
	case spec.items < local.BulkLoadMin && len(indexing) != 0:
		t.Errorf("expect no index build for a small backfill, got %+v", indexing)
	}

	// THEN every record is counted once, over both runs
	if res.Items != spec.items || res.Tagged != spec.items || res.Unchanged != 0 || res.Violations != misplaced || res.Relocated != misplaced ||
		len(res.Failed) != 0 || res.ResumedPages != pages || res.CompletedAt.IsZero() {
		t.Fatalf("expect %d items tagged, %d violations and relocations, resumed after %d pages, got %+v", spec.items, misplaced, pages, res)
	}
	kinds := func() map[ledger.Kind]int {
		t.Helper()
		m := map[ledger.Kind]int{}
		if err := st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error { m[e.Kind]++; return nil }); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if k := kinds(); k[ledger.KindViolation] != misplaced || k[ledger.KindRelocation] != misplaced {
		t.Fatalf("expect a violation and a relocation per EU record (%d), got %v", misplaced, k)
	}
	if n, _ := st.CountItems(ctx, "eu-central-1", "users"); n != misplaced {
		t.Fatalf("expect the EU records at home, got %d", n)
	}
	if n, _ := st.CountItems(ctx, "us-east-1", "users"); n != spec.items-misplaced {
		t.Fatalf("expect the others in us-east-1, got %d", n)
	}
	cov, _ := st.Coverage(ctx, "us-east-1")
	if len(cov) != 1 || cov[0].Source != "users" || cov[0].Mode != catalog.BackfillExport {
		t.Fatalf("expect users covered by the export, got %+v", cov)
	}

	// The next sweep deletes the expired records, a receipt each.
	sweeps, err := s.Sweep(ctx, now())
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, r := range sweeps {
		deleted += r.Deleted
	}
	if k := kinds(); deleted != expired || k[ledger.KindDeletion] != expired {
		t.Fatalf("expect %d expired records deleted with receipts, got %d deleted, %v", expired, deleted, k)
	}

	// A second backfill adds nothing: the export is not loaded again (it
	// would bring back what went since), and the table's tags are current.
	if done, err := s.ExportDone(ctx, e); err != nil || done.IsZero() {
		t.Fatalf("expect the export done, got %v (%v)", done, err)
	}
	before := kinds()
	again, err := s.Backfill(ctx, "us-east-1", "users", local.BackfillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	left := spec.items - misplaced - expired
	if again.Items != left || again.Unchanged != left || again.Tagged != 0 || again.Violations != 0 || again.Relocated != 0 {
		t.Fatalf("expect the %d records left unchanged, got %+v", left, again)
	}
	if after := kinds(); after[ledger.KindViolation] != before[ledger.KindViolation] || after[ledger.KindRelocation] != before[ledger.KindRelocation] ||
		after[ledger.KindDeletion] != before[ledger.KindDeletion] {
		t.Fatalf("expect the ledger unchanged, got %v, was %v", after, before)
	}
	if st, err := report.Verify(ctx, st, nil); err != nil || !st.Verified {
		t.Fatalf("expect the ledger to verify, got %+v (%v)", st, err)
	}
	if got := catalogIndexes(t, db); got != allCatalogIndexes {
		t.Fatalf("expect the catalog's indexes after the backfill, got %q", got)
	}
}

// allCatalogIndexes are the catalog's indexes, as catalogIndexes lists them.
const allCatalogIndexes = "catalog_contract catalog_due catalog_subject"

// catalogIndexes lists the catalog's indexes in the store file at path,
// read with a connection of the test's own.
func catalogIndexes(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var names string
	err = db.QueryRow(`SELECT coalesce(group_concat(name, ' '), '') FROM (SELECT name FROM sqlite_schema
		WHERE type='index' AND tbl_name='catalog' AND sql IS NOT NULL ORDER BY name)`).Scan(&names)
	if err != nil {
		t.Fatal(err)
	}
	return names
}
