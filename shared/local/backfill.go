package local

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// BackfillPageSize is how many existing records one backfill page holds, as
// a Scan page would.
const BackfillPageSize = 1000

// BackfillOptions tune a local backfill.
type BackfillOptions struct {
	// PageSize is how many records a page holds (default BackfillPageSize).
	PageSize int
	// Restart discards the checkpoint of a backfill that stopped, and starts
	// from the beginning (else a backfill resumes after its last page done).
	Restart bool
	// Progress, when not nil, hears of each page once it is durable.
	Progress func(BackfillProgress)
	// Indexing, when not nil, hears when a bulk load (see BulkLoadMin)
	// starts building the catalog's indexes after its pages, and when it
	// is done: at millions of records that takes a while.
	Indexing func(BackfillIndexing)
}

// BackfillIndexing is a bulk load's building of the catalog's indexes.
type BackfillIndexing struct {
	Region, Table string
	// Done is false as the build starts; true when it ended, after Took.
	Done bool
	Took time.Duration
}

// BackfillProgress is where a backfill stands after a page.
type BackfillProgress struct {
	Region, Table string
	Page          catalog.BackfillCounts // the page's figures
	Total         catalog.BackfillCounts // the backfill's so far, resumed pages included
	// Resumed counts the records read before this run (by the run that
	// stopped); Expected is how many the table or export holds (0 if not
	// known), for an estimate of the time left.
	Resumed, Expected int
}

// BackfillSummary is what a backfill of one table in one region did, its
// resumed pages included.
type BackfillSummary struct {
	Region     string                    `json:"region"`
	Table      string                    `json:"table"`
	Mode       string                    `json:"mode"`
	Export     string                    `json:"export,omitempty"`
	Items      int                       `json:"items"`
	Tagged     int                       `json:"tagged"`
	Unchanged  int                       `json:"unchanged"`
	Violations int                       `json:"violations"`
	Relocated  int                       `json:"relocated"`
	Failed     []catalog.BackfillFailure `json:"failed"`
	Pages      int                       `json:"pages"`
	// ResumedPages is how many pages were done by a run that stopped
	// before this one resumed it.
	ResumedPages int       `json:"resumed_pages"`
	CompletedAt  time.Time `json:"completed_at,omitzero"`
}

func summaryOf(cp catalog.Checkpoint, resumed int, completed time.Time) BackfillSummary {
	return BackfillSummary{
		Region: cp.Region, Table: cp.Source, Mode: cp.Mode, Export: cp.Export,
		Items: cp.Counts.Read, Tagged: cp.Counts.Tagged, Unchanged: cp.Counts.Unchanged, Violations: cp.Counts.Violations,
		Relocated: cp.Counts.Relocated, Failed: append([]catalog.BackfillFailure{}, cp.Failures...), Pages: cp.Pages,
		ResumedPages: resumed, CompletedAt: completed,
	}
}

// pageSource reads the page of a backfill that starts at cursor (opened:
// the store's own text). prepare, when not nil, is the tagger's
// PrepareBackfill for the backfill's region and table: a source that reads
// ahead prepares its pages with it there (a source that does not, ignores
// it).
type pageSource func(ctx context.Context, cursor string, limit int, prepare preparer) (sourcePage, error)

// preparer prepares a page's items for the tagger (tagger.Handler.PrepareBackfill).
type preparer func(items []record.Item) *tagger.PreparedPage

// sourcePage is a page a pageSource read.
type sourcePage struct {
	items []record.Item               // the records to backfill
	load  []sqlitestore.ReplayedWrite // the writes to load into the table first (an export's items)
	next  string                      // the next page's cursor ("" after the last page)
	// prepared is items prepared for the tagger, if the source did
	// (else nil).
	prepared *tagger.PreparedPage
}

// Backfill brings the records already in a watched table of a region under
// Residency, a page at a time, through that region's tagger (see
// tagger.Handler.Backfill), and delivers what each page causes (violations
// to the router, which relocates; entries to the ledger) before the next.
//
// Each page is one transaction of the store (sqlitestore.Atomic) with the
// backfill's checkpoint: its tags, catalog entries, relocations, ledger
// entries and the checkpoint after it are durable together, or not at all.
// A backfill killed at any point, and started again, resumes after the last
// page done, and its figures count every record once. When the last page is
// done the backfill's coverage is recorded; a backfill started after that
// starts over, and writes nothing for records whose tags are current.
func (s *Stack) Backfill(ctx context.Context, region, table string, opts BackfillOptions) (BackfillSummary, error) {
	expected, err := s.Store.CountItems(ctx, region, table)
	if err != nil {
		return BackfillSummary{Region: region, Table: table, Mode: catalog.BackfillScan}, fmt.Errorf("backfill %s/%s: %w", region, table, err)
	}
	scan := func(ctx context.Context, cursor string, limit int, _ preparer) (sourcePage, error) {
		items, next, err := s.Store.ScanItems(ctx, region, table, 0, 1, cursor, limit)
		return sourcePage{items: items, next: next}, err
	}
	return s.backfill(ctx, region, table, catalog.BackfillScan, "", expected, opts, scan)
}

// BackfillBucket brings the objects already in a watched bucket of a region
// under Residency, a ListObjectsV2 page at a time of the local object store,
// through that region's tagger (see tagger.Handler.BackfillObjects): the
// objects the catalog does not know are read, decided and catalogued, their
// violations relocated; those it knows are unchanged and cost nothing. Pages,
// checkpoints and coverage are those of Backfill. The whole bucket is
// listed; keys outside the watched prefixes are skipped.
func (s *Stack) BackfillBucket(ctx context.Context, region, bucket string, opts BackfillOptions) (BackfillSummary, error) {
	list := func(ctx context.Context, cursor string, limit int, _ preparer) (sourcePage, error) {
		keys, next, err := s.Store.ListObjects(ctx, region, bucket, "", cursor, limit)
		items := make([]record.Item, len(keys))
		for i, k := range keys {
			items[i] = record.Item{"key": k}
		}
		return sourcePage{items: items, next: next}, err
	}
	return s.backfill(ctx, region, bucket, catalog.BackfillList, "", 0, opts, list)
}

// BulkLoadMin is the fewest records new to the catalog that make a
// backfill a bulk load, which drops the catalog's indexes on due dates and
// subjects while it writes, and builds them at its end
// (sqlitestore.Store.DropCatalogIndexes): at 1,000-record pages that
// halves the store's time per record, and building the indexes reads the
// whole catalog once, which is cheaper than writing them record by record
// only when the backfill brings at least half as many records as the
// catalog already holds (a first backfill of a table from its export
// does).
const BulkLoadMin = 10000

// bulkLoad says whether a backfill of table in region that has expected
// records to read, of which it has read read, is a bulk load (see
// BulkLoadMin).
func (s *Stack) bulkLoad(ctx context.Context, region, table string, expected, read int) (bool, error) {
	known, err := s.Store.CountSourceEntries(ctx, region, table)
	if err != nil {
		return false, err
	}
	// The pages done are catalogued (read of them); a table scanned again
	// has its known records catalogued (known of them).
	fresh := expected - max(read, known)
	if fresh < BulkLoadMin {
		return false, nil
	}
	all := 0
	for _, r := range s.Policy.Regions {
		n, err := s.Store.CountEntries(ctx, r)
		if err != nil {
			return false, err
		}
		all += n
	}
	return 2*fresh >= all, nil
}

// backfill runs the pages of one backfill, from its checkpoint.
func (s *Stack) backfill(ctx context.Context, region, table, mode, export string, expected int, opts BackfillOptions, source pageSource) (sum BackfillSummary, err error) {
	cp := catalog.Checkpoint{Region: region, Source: table, Mode: mode, Export: export, Failures: []catalog.BackfillFailure{}}
	tg, ok := s.taggers[region]
	if !ok {
		return summaryOf(cp, 0, time.Time{}), fmt.Errorf("region %q is not a region of this deployment (%s)", region, strings.Join(s.Policy.Regions, ", "))
	}
	// The region's tagger, writing its tags without stream records (see
	// sqlitestore.Store.BackfillTags).
	t := *tg
	tables := &backfillTables{Store: s.Store}
	t.Tables = tables
	if opts.PageSize <= 0 {
		opts.PageSize = BackfillPageSize
	}
	cps, err := s.Store.Checkpoints(ctx, region, table)
	if err != nil {
		return summaryOf(cp, 0, time.Time{}), err
	}
	cursor, resumed := "", 0
	switch {
	case len(cps) == 0 || cps[0].Done || opts.Restart:
		cp.StartedAt = s.Now()
	case cps[0].Mode != mode || cps[0].Export != export:
		was := "a table scan"
		if cps[0].Mode == catalog.BackfillList {
			was = "a listing of the bucket"
		}
		if cps[0].Mode == catalog.BackfillExport {
			was = "the export " + cps[0].Export
		}
		return summaryOf(cp, 0, time.Time{}), fmt.Errorf("a backfill of %s in %s from %s stopped after %d pages: finish it (the same command again) or start over with --restart",
			table, region, was, cps[0].Pages)
	default:
		cp, resumed = cps[0], cps[0].Pages
		b, err := s.Refs.Open(cp.Cursor)
		if err != nil {
			return summaryOf(cp, resumed, time.Time{}), fmt.Errorf("backfill %s/%s: the checkpoint's cursor was not sealed with this store's key (--key): %w", region, table, err)
		}
		cursor = string(b)
	}
	resumedItems := cp.Counts.Read
	bulk, err := s.bulkLoad(ctx, region, table, expected, resumedItems)
	if err != nil {
		return summaryOf(cp, resumed, time.Time{}), fmt.Errorf("backfill %s/%s: %w", region, table, err)
	}
	if bulk {
		if err := s.Store.DropCatalogIndexes(ctx); err != nil {
			return summaryOf(cp, resumed, time.Time{}), fmt.Errorf("backfill %s/%s: %w", region, table, err)
		}
		defer func() {
			// Also when the backfill stopped (a cancelled context too):
			// the pages done are in the catalog, and sweeps and erasures
			// need the indexes. (A backfill killed before this, its store
			// builds them when it is next opened.)
			if opts.Indexing != nil {
				opts.Indexing(BackfillIndexing{Region: region, Table: table})
			}
			t0 := time.Now()
			if berr := s.Store.BuildCatalogIndexes(context.WithoutCancel(ctx)); berr != nil && err == nil {
				err = fmt.Errorf("backfill %s/%s: %w", region, table, berr)
			}
			if opts.Indexing != nil {
				opts.Indexing(BackfillIndexing{Region: region, Table: table, Done: true, Took: time.Since(t0)})
			}
		}()
	}
	var prepare preparer // a listing's pages are keys, not items
	if mode != catalog.BackfillList {
		prepare = func(items []record.Item) *tagger.PreparedPage { return t.PrepareBackfill(region, table, items) }
	}
	for {
		var page catalog.BackfillCounts
		var next catalog.Checkpoint
		err := s.Store.Atomic(ctx, func(ctx context.Context) error {
			pg, err := source(ctx, cursor, opts.PageSize, prepare)
			if err != nil {
				return fmt.Errorf("backfill %s/%s: %w", region, table, err)
			}
			items, nextCursor := pg.items, pg.next
			next = cp
			if len(items) > 0 {
				// An export's items are loaded with their tags: one write
				// each, in this transaction as the tags would be.
				tables.load(pg.load)
				var res tagger.BackfillResult
				if mode == catalog.BackfillList {
					// A listing's items are the objects' keys, {"key": ...}.
					keys := make([]string, len(items))
					for i, it := range items {
						keys[i] = it.String("key")
					}
					res, err = t.BackfillObjects(ctx, region, table, keys)
				} else {
					if pg.prepared == nil {
						pg.prepared = prepare(items)
					}
					res, err = t.BackfillPrepared(ctx, pg.prepared)
				}
				if err != nil {
					return err
				}
				if err := s.Store.ReplayWrites(ctx, tables.loaded()); err != nil {
					return fmt.Errorf("backfill %s/%s: load: %w", region, table, err)
				}
				relocated := s.Stats.Published[events.RecordRelocated]
				if err := s.Drain(ctx); err != nil {
					return err
				}
				page = catalog.BackfillCounts{Read: res.Items, Tagged: res.Tagged, Unchanged: res.Unchanged, Violations: res.Violations,
					Relocated: s.Stats.Published[events.RecordRelocated] - relocated, Failed: len(res.Failed)}
				next.Failures = slices.Clip(next.Failures)
				for _, f := range res.Failed {
					next.Failures = append(next.Failures, catalog.BackfillFailure{Record: f.Record, Reason: f.Reason})
				}
			}
			next.Counts.Add(page)
			next.Pages++
			next.Done = nextCursor == ""
			next.Cursor = ""
			if !next.Done {
				next.Cursor = s.Refs.Seal([]byte(nextCursor))
			}
			next.UpdatedAt = s.Now()
			cursor = nextCursor
			if err := s.Store.PutCheckpoint(ctx, next); err != nil {
				return err
			}
			if next.Done {
				return s.Store.PutCoverage(ctx, catalog.Coverage{Region: region, Source: table, Mode: mode, CompletedAt: next.UpdatedAt})
			}
			return nil
		})
		if err != nil {
			// What the page left on the bus and queue was never durable.
			s.bus, s.queue = nil, nil
			return summaryOf(cp, resumed, time.Time{}), err
		}
		cp = next
		if opts.Progress != nil {
			opts.Progress(BackfillProgress{Region: region, Table: table, Page: page, Total: cp.Counts, Resumed: resumedItems, Expected: expected})
		}
		if cp.Done {
			return summaryOf(cp, resumed, cp.UpdatedAt), nil
		}
	}
}

// backfillTables is the store as a backfill's tagger writes tags: without
// stream records, and onto the items of the page being loaded (an
// export's) before they are written.
type backfillTables struct {
	*sqlitestore.Store
	pending []sqlitestore.ReplayedWrite
	at      map[string]int // key -> index in pending
}

// load holds a page's writes until loaded; the tags written meanwhile go
// onto them.
func (b *backfillTables) load(writes []sqlitestore.ReplayedWrite) {
	b.pending, b.at = writes, make(map[string]int, len(writes))
	for i, w := range writes {
		b.at[w.Region+"\x00"+w.Table+"\x00"+w.Key.String()] = i
	}
}

// loaded returns the held writes, tagged, and holds no more.
func (b *backfillTables) loaded() []sqlitestore.ReplayedWrite {
	out := b.pending
	b.pending, b.at = nil, nil
	return out
}

func (b *backfillTables) UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error) {
	if len(b.at) == 0 {
		return b.BackfillTags(ctx, region, table, writes)
	}
	errs := make([]error, len(writes))
	var rest []record.TagWrite
	var restAt, onto, again []int
	at := make([]int, len(writes)) // index in pending of each of writes
	taken := make([]bool, len(b.pending))
	for i, w := range writes {
		j, ok := b.at[region+"\x00"+table+"\x00"+w.Key.String()]
		switch {
		case !ok:
			rest, restAt = append(rest, w), append(restAt, i)
		case taken[j]:
			at[i], again = j, append(again, i) // a second write to that item: after the first
		default:
			at[i], onto, taken[j] = j, append(onto, i), true
		}
	}
	tagOnto := func(ws []int) {
		for _, i := range ws {
			item, err := sqlitestore.TagItem(nil, b.pending[at[i]].Item, writes[i])
			if err != nil {
				errs[i] = fmt.Errorf("tag %s/%s: %w", region, table, err)
				continue
			}
			b.pending[at[i]].Item = item
		}
	}
	// Each edit is of an item of its own: on every core at once.
	group.Parallel(len(onto), group.Grain, func(lo, hi int) { tagOnto(onto[lo:hi]) })
	tagOnto(again)
	if len(rest) > 0 {
		rerrs, err := b.BackfillTags(ctx, region, table, rest)
		if err != nil {
			return nil, err
		}
		for k, i := range restAt {
			errs[i] = rerrs[k]
		}
	}
	return errs, nil
}
