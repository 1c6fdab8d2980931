package tagger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// BackfillResult says what a page of existing records became.
type BackfillResult struct {
	Region string `json:"region"`
	// Table, or Bucket, is the source the page is of.
	Table  string `json:"table,omitempty"`
	Bucket string `json:"bucket,omitempty"`
	Items  int    `json:"items"`
	// Tagged counts the records whose tag was written (new or changed);
	// Unchanged those that already carried their current tag (a second
	// backfill writes nothing); Violations the misplaced ones among the
	// tagged, announced to the router as a stream write's would be.
	Tagged     int `json:"tagged"`
	Unchanged  int `json:"unchanged"`
	Violations int `json:"violations"`
	// Recatalogued counts the records whose tag was current but whose
	// catalog entry was missing (a page that failed after its tag writes,
	// before its catalog writes): catalogued, and their violation logged
	// and announced, now.
	Recatalogued int `json:"recatalogued,omitempty"`
	// Failed lists the records that could not be tagged, by keyed record
	// reference (never the key), with the reason.
	Failed []BackfillFailure `json:"failed"`
}

// Add adds another page's figures and failures to r.
func (r *BackfillResult) Add(o BackfillResult) {
	r.Items += o.Items
	r.Tagged += o.Tagged
	r.Unchanged += o.Unchanged
	r.Violations += o.Violations
	r.Recatalogued += o.Recatalogued
	r.Failed = append(r.Failed, o.Failed...)
}

// CatalogChecker tells which records a region's catalog holds (the stores
// implement it; a catalog without it makes recatalog do nothing).
type CatalogChecker interface {
	Catalogued(ctx context.Context, region, source string, keys []record.Key) (map[string]bool, error)
}

// recatalog finds, among the page's records whose tag was current, those
// the catalog does not hold, and emits them as freshly tagged: a page that
// failed after its tag writes and before its catalog writes is retried,
// and its records would otherwise stay unknown to retention and erasure,
// their violations unlogged. It reads the catalog (a key each), and writes
// only what is missing: a second backfill still writes nothing.
func (h *Handler) recatalog(ctx context.Context, b *batch) (int, error) {
	checker, ok := h.Catalog.(CatalogChecker)
	if !ok || len(b.echoed) == 0 {
		return 0, nil
	}
	// One page is one region and table.
	keys := make([]record.Key, len(b.echoed))
	for i, p := range b.echoed {
		keys[i] = p.w.key
	}
	held, err := checker.Catalogued(ctx, b.echoed[0].w.region, b.echoed[0].w.source, keys)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range b.echoed {
		if !held[p.w.key.String()] {
			b.echoes--
			h.emit(p, b)
			b.tagged-- // counted apart
			n++
		}
	}
	b.echoed = nil
	return n, nil
}

// BackfillFailure is a record a backfill could not tag.
type BackfillFailure struct {
	Record string `json:"record"`
	Reason string `json:"reason"`
}

// Backfill treats a page of records that exist in one watched table of one
// region (written before Residency watched it, restored, or imported) as the
// tagger treats stream writes: it decides each, writes the tag only where it
// is not current, catalogs it, and reports violations to the router and the
// ledger. Records already past their retention are tagged due: the next
// sweep deletes them with receipts. A record that cannot be tagged fails
// alone, in Failed; an error means nothing of the page is known to be
// durable (retry the page: it is idempotent). The tagger owns this rather
// than a function of its own because it is the tagger's decision and the
// tagger's permissions, page by page, whatever drives the pages (the local
// command, or a state machine over a table's scan segments or export).
func (h *Handler) Backfill(ctx context.Context, region, table string, items []record.Item) (BackfillResult, error) {
	return h.BackfillPrepared(ctx, h.PrepareBackfill(region, table, items))
}

// PreparedPage is a page of a backfill read for the tagger (see
// PrepareBackfill), not yet tagged.
type PreparedPage struct {
	region, table string
	items         int
	src           *policy.Source
	preps         []prepared
	err           error // the page cannot be backfilled
}

// PrepareBackfill does a page's pure work ahead of Backfill: each item's
// key, keyed references, and what the tagger decides from. It reads only
// the policy and the keyer, never a store, so a page can be prepared on
// another goroutine while the one before it is tagged and written
// (BackfillPrepared tags it); it keeps no memory of items it does not own.
func (h *Handler) PrepareBackfill(region, table string, items []record.Item) *PreparedPage {
	pp := &PreparedPage{region: region, table: table, items: len(items)}
	src, ok := h.Policy.SourceByName(table)
	if !ok || src.Table == "" {
		pp.err = fmt.Errorf("%w: table %q is not a source of policy %s", ErrInvalid, table, h.Policy.Version)
		return pp
	}
	if !h.Policy.HasRegion(region) {
		pp.err = fmt.Errorf("%w: region %q is not a region of policy %s", ErrInvalid, region, h.Policy.Version)
		return pp
	}
	pp.src = src
	// The keyed references and the reading of each item are the page's
	// pure work: on every core at once.
	pp.preps = make([]prepared, len(items))
	group.Parallel(len(items), group.Grain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			pp.preps[i] = h.prepareItem(src, region, table, items[i])
		}
	})
	return pp
}

// BackfillPrepared is Backfill of a page PrepareBackfill prepared.
func (h *Handler) BackfillPrepared(ctx context.Context, pp *PreparedPage) (BackfillResult, error) {
	region, table := pp.region, pp.table
	res := BackfillResult{Region: region, Table: table, Items: pp.items, Failed: []BackfillFailure{}}
	if pp.err != nil {
		return res, pp.err
	}
	preps := pp.preps
	b := batch{checkEchoes: true, writes: make([]write, 0, len(preps))}
	failed := map[string]error{}
	refs := map[string]string{} // seq -> record reference, for the failures
	var seqs []string
	for i, p := range preps {
		seq := strconv.Itoa(i)
		if p.keyErr != nil {
			res.Failed = append(res.Failed, BackfillFailure{Record: fmt.Sprintf("item %d", i), Reason: fmt.Errorf("%w: %v", ErrInvalid, p.keyErr).Error()})
			continue
		}
		refs[seq] = p.w.recordRef
		seqs = append(seqs, seq)
		if p.err != nil {
			failed[seq] = p.err
			continue
		}
		p.w.seq = seq
		b.writes = append(b.writes, p.w)
	}
	writes := b.writes
	for i, err := range h.tagWrites(ctx, &b) {
		if err != nil {
			failed[writes[i].seq] = err
		}
	}
	ttlOnly := 0 // the tag is current; only its TTL backstop is written back
	for _, p := range b.pending {
		if p.ttlOnly {
			ttlOnly++
		}
	}
	maps.Copy(failed, h.writeTags(ctx, &b))
	recatalogued, err := h.recatalog(ctx, &b)
	if err != nil {
		return res, fmt.Errorf("backfill %s/%s: %w", region, table, err)
	}
	res.Recatalogued = recatalogued
	if err := h.flush(ctx, &b); err != nil {
		return res, fmt.Errorf("backfill %s/%s: %w", region, table, err)
	}
	for _, seq := range seqs {
		if err := failed[seq]; err != nil {
			res.Failed = append(res.Failed, BackfillFailure{Record: refs[seq], Reason: err.Error()})
		}
	}
	res.Tagged, res.Unchanged = b.tagged, b.echoes+ttlOnly
	for _, e := range b.ledger {
		if e.Kind == ledger.KindViolation {
			res.Violations++
		}
	}
	return res, nil
}

// prepared is an item of a backfill page, read: its write, with its keyed
// references, or why it cannot be tagged (keyErr: it has no key).
type prepared struct {
	w           write
	err, keyErr error
}

// prepareItem reads item of table in region: its key, its keyed record and
// subject references, and what the tagger decides from (fromItem).
func (h *Handler) prepareItem(src *policy.Source, region, table string, item record.Item) prepared {
	key, err := record.KeyOf(item, src.Key)
	if err != nil {
		return prepared{keyErr: err}
	}
	ref := h.Refs.Record(table, key)
	w, err := h.fromItem(src, region, table, key, item)
	w.recordRef = ref
	if err == nil {
		w.subjectRef = h.Refs.Subject(w.subjectID)
	}
	return prepared{w: w, err: err}
}

// Sealer seals what leaves the function and comes back, such as a backfill
// page's cursor, which holds a record key (pseudonym.Keyer).
type Sealer interface {
	Seal(b []byte) string
	Open(s string) ([]byte, error)
}

// TableScanner reads one page of a parallel scan of a watched table (the
// store's ScanItems): the backfill's source on AWS.
type TableScanner interface {
	ScanItems(ctx context.Context, region, table string, segment, segments int, cursor string, limit int) ([]record.Item, string, error)
}

// BackfillPage is a backfill's request for one page, as its state machine
// sends it: a page of a scan segment, {"backfill": {"region": ...,
// "table": ..., "segment": 0, "segments": 4, "cursor": "", "limit": 1000}},
// or of a table export's data file, {"backfill": {"region": ...,
// "table": ..., "export": {"bucket": ..., "key": ...}, "cursor": "",
// "limit": 1000}}; for a watched bucket, a ListObjectsV2 page,
// {"backfill": {"region": ..., "bucket": ..., "cursor": "", "limit":
// 1000}}, or a page of an S3 Inventory report of it, {"backfill":
// {"region": ..., "bucket": ..., "inventory": {"bucket": ..., "manifest":
// ".../manifest.json"}, "cursor": "", "limit": 1000}}.
type BackfillPage struct {
	Region    string      `json:"region"`
	Table     string      `json:"table,omitempty"`
	Bucket    string      `json:"bucket,omitempty"`
	Segment   int         `json:"segment"`
	Segments  int         `json:"segments"`
	Export    *ExportFile `json:"export,omitempty"`
	Inventory *Inventory  `json:"inventory,omitempty"`
	Cursor    string      `json:"cursor"`
	Limit     int         `json:"limit"`
}

// MaxBackfillPage is the most records one backfill page reads.
const MaxBackfillPage = 1000

// BackfillPageResult is a page's result and where the next page starts
// ("" when the segment is done): the state machine's loop checkpoint. The
// cursor is sealed (the store's holds the page's last record key): a
// driver passes it back as it is, and reads nothing in it.
type BackfillPageResult struct {
	BackfillResult
	Segment    int         `json:"segment"`
	Segments   int         `json:"segments"`
	Export     *ExportFile `json:"export,omitempty"`
	Inventory  *Inventory  `json:"inventory,omitempty"`
	NextCursor string      `json:"next_cursor"`
}

// PermanentError is what a backfill page fails with when it cannot succeed
// as it is (errors.Is(err, record.ErrPermanent): an invalid page, a cursor
// this tagger did not return, a data file that is not one). Lambda reports
// its type name, PermanentError, as the invocation's errorType, which the
// backfill state machine's retriers name so as not to retry it.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// backfillPage reads one page of a segment of a watched table, or of a
// table export's data file, and backfills it; a permanent failure is a
// *PermanentError.
func (h *Handler) backfillPage(ctx context.Context, payload []byte) (BackfillPageResult, error) {
	res, err := h.page(ctx, payload)
	if errors.Is(err, record.ErrPermanent) {
		return res, &PermanentError{Err: err}
	}
	if err == nil {
		h.logPage(ctx, res)
	}
	return res, err
}

func (h *Handler) page(ctx context.Context, payload []byte) (BackfillPageResult, error) {
	var req struct {
		Backfill *BackfillPage `json:"backfill"`
	}
	if err := json.Unmarshal(payload, &req); err != nil || req.Backfill == nil {
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: not {\"backfill\": {...}}", ErrInvalid)
	}
	p := *req.Backfill
	if p.Limit == 0 {
		p.Limit = MaxBackfillPage
	}
	switch {
	case p.Region == "" || (p.Table == "" && p.Bucket == ""):
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: region and table (or bucket) are required", ErrInvalid)
	case p.Limit < 1 || p.Limit > MaxBackfillPage:
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: limit %d: use 1 to %d", ErrInvalid, p.Limit, MaxBackfillPage)
	case p.Bucket != "":
		return h.bucketPage(ctx, p)
	case p.Inventory != nil:
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: an inventory is of a bucket, not a table", ErrInvalid)
	case p.Export != nil:
		return h.exportPage(ctx, p)
	}
	if p.Segments == 0 {
		p.Segments = 1
	}
	switch {
	case p.Segments < 1 || p.Segment < 0 || p.Segment >= p.Segments:
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: segment %d of %d", ErrInvalid, p.Segment, p.Segments)
	case h.Scanner == nil || h.Cursors == nil:
		return BackfillPageResult{}, errors.New("tagger: backfill page: no table scanner or cursor sealer wired")
	}
	cursor := ""
	if p.Cursor != "" {
		b, err := h.Cursors.Open(p.Cursor)
		if err != nil || strings.HasPrefix(string(b), exportCursorPrefix) {
			return BackfillPageResult{}, fmt.Errorf("%w: backfill page: the cursor is not one this deployment's tagger returned for a scan", ErrInvalid)
		}
		cursor = string(b)
	}
	items, next, err := h.Scanner.ScanItems(ctx, p.Region, p.Table, p.Segment, p.Segments, cursor, p.Limit)
	if err != nil {
		return BackfillPageResult{}, fmt.Errorf("tagger: backfill page: %w", err)
	}
	if next != "" {
		next = h.Cursors.Seal([]byte(next))
	}
	res, err := h.Backfill(ctx, p.Region, p.Table, items)
	if err != nil {
		return BackfillPageResult{}, fmt.Errorf("tagger: %w", err)
	}
	return BackfillPageResult{BackfillResult: res, Segment: p.Segment, Segments: p.Segments, NextCursor: next}, nil
}

// The backfill's metrics, per region, function and source: its progress
// in CloudWatch without a metrics client (see package metrics).
const (
	MetricBackfillItems     = "BackfillItems"
	MetricBackfillTagged    = "BackfillTagged"
	MetricBackfillUnchanged = "BackfillUnchanged"
	MetricBackfillViolation = "BackfillViolations"
	MetricBackfillFailed    = "BackfillFailed"
)

// logPage logs a page's figures and emits them as metrics. Failures are
// counted here; they are listed, by reference, in the page's result.
func (h *Handler) logPage(ctx context.Context, res BackfillPageResult) {
	source := res.Table
	attrs := []any{"function", Actor, "region", res.Region, "table", res.Table}
	switch {
	case res.Bucket != "":
		source = res.Bucket
		attrs = []any{"function", Actor, "region", res.Region, "bucket", res.Bucket}
		if res.Inventory != nil {
			attrs = append(attrs, "inventory", res.Inventory.Manifest)
		}
	case res.Export != nil:
		attrs = append(attrs, "export_file", res.Export.Key)
	default:
		attrs = append(attrs, "segment", res.Segment, "segments", res.Segments)
	}
	attrs = append(attrs, "items", res.Items, "tagged", res.Tagged, "unchanged", res.Unchanged, "violations", res.Violations, "failed", len(res.Failed),
		"more", res.NextCursor != "")
	h.Log.InfoContext(ctx, "backfill page", attrs...)
	h.metric(ctx, source, metrics.Counted(MetricBackfillItems, res.Items), metrics.Counted(MetricBackfillTagged, res.Tagged),
		metrics.Counted(MetricBackfillUnchanged, res.Unchanged), metrics.Counted(MetricBackfillViolation, res.Violations),
		metrics.Counted(MetricBackfillFailed, len(res.Failed)))
}

// The stream's metrics, per region, function and table.
const (
	MetricRecordsTagged = "RecordsTagged"
	MetricViolations    = "Violations"
	MetricRecordsFailed = "RecordsFailed"
)

// metric writes metrics; a metric it cannot write is logged, never fatal.
func (h *Handler) metric(ctx context.Context, source string, ms ...metrics.Metric) {
	if err := h.Metrics.Emit(source, ms...); err != nil {
		h.Log.WarnContext(ctx, "metrics", "function", Actor, "error", err.Error())
	}
}
