package tagger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// ObjectLister lists a page of a watched bucket's current objects
// (ListObjectsV2: s3objects.Objects; locally the store's objects): up to
// limit keys under prefix from the continuation token, and the next token
// ("" after the last page).
type ObjectLister interface {
	ListObjects(ctx context.Context, region, bucket, prefix, token string, limit int) ([]string, string, error)
}

// listCursorPrefix marks a sealed ListObjectsV2 cursor's plain text,
// "list:<bucket>:<continuation token>", apart from the others.
const listCursorPrefix = "list:"

// BackfillObjects treats objects that exist in one watched bucket of one
// region (written before Residency watched it) as the tagger treats their
// S3 ObjectCreated events: it reads each one's metadata (HeadObject: its
// current version), decides, catalogs it, and reports violations to the
// router and the ledger. Keys outside the watched prefixes are skipped (not
// counted). An object's tag lives in the catalog, so an object
// the catalog already holds is current: it is counted unchanged and costs
// no HeadObject and no write (a second backfill writes nothing). An object
// deleted since it was listed is neither tagged nor failed. The catalog
// entries are written last, after the ledger and the bus: a page that fails
// midway is retried in full (the ledger's entry ids are deterministic), and
// never finds an object catalogued whose violation was not logged.
func (h *Handler) BackfillObjects(ctx context.Context, region, bucket string, keys []string) (BackfillResult, error) {
	keys = h.watchedKeys(bucket, keys)
	res := BackfillResult{Region: region, Bucket: bucket, Items: len(keys), Failed: []BackfillFailure{}}
	if !h.Policy.HasRegion(region) {
		return res, fmt.Errorf("%w: region %q is not a region of policy %s", ErrInvalid, region, h.Policy.Version)
	}
	if src, ok := h.Policy.SourceByName(bucket); !ok || src.Table != "" {
		return res, fmt.Errorf("%w: bucket %q is not a source of policy %s", ErrInvalid, bucket, h.Policy.Version)
	}
	checker, ok := h.Catalog.(CatalogChecker)
	if !ok {
		return res, errors.New("tagger: backfill objects: the catalog cannot tell which objects it holds")
	}
	rkeys := make([]record.Key, len(keys))
	for i, k := range keys {
		rkeys[i] = record.Key{"key": k}
	}
	held, err := checker.Catalogued(ctx, region, bucket, rkeys)
	if err != nil {
		return res, fmt.Errorf("backfill %s/%s: %w", region, bucket, err)
	}
	var b batch
	var owners []int // the key of each of b.writes
	fail := func(i int, err error) {
		res.Failed = append(res.Failed, BackfillFailure{Record: h.Refs.Record(bucket, rkeys[i]), Reason: err.Error()})
	}
	for i, k := range keys {
		if held[rkeys[i].String()] {
			res.Unchanged++
			continue
		}
		w, err := h.objectWrite(ctx, region, bucket, k, h.Now().UTC())
		switch {
		case errors.Is(err, record.ErrNotFound):
			continue // deleted since the listing: nothing to tag
		case err != nil:
			fail(i, err)
			continue
		}
		b.writes = append(b.writes, w)
		owners = append(owners, i)
	}
	for j, err := range h.tagWrites(ctx, &b) {
		if err != nil {
			fail(owners[j], err)
		}
	}
	entries := b.entries
	b.entries = nil
	if err := h.flush(ctx, &b); err != nil {
		return res, fmt.Errorf("backfill %s/%s: %w", region, bucket, err)
	}
	if err := h.Catalog.PutEntries(ctx, entries); err != nil {
		return res, fmt.Errorf("backfill %s/%s: write catalog: %w", region, bucket, err)
	}
	res.Tagged = b.tagged
	for _, e := range b.ledger {
		if e.Kind == ledger.KindViolation {
			res.Violations++
		}
	}
	return res, nil
}

// bucketPrefixes are the prefixes to list bucket under, sorted: the
// watched prefixes of the sources on it, without those another one covers
// (users/ covers users/archive/), so that each key is listed once and no
// listing reaches outside what is watched (the tagger may list the
// watched prefixes only).
func (h *Handler) bucketPrefixes(bucket string) []string {
	var all []string
	for i := range h.Policy.Sources {
		if s := &h.Policy.Sources[i]; s.Table == "" && s.HasBucket(bucket) && !slices.Contains(all, s.Prefix) {
			all = append(all, s.Prefix)
		}
	}
	slices.Sort(all)
	var out []string
	for _, p := range all {
		if len(out) == 0 || !strings.HasPrefix(p, out[len(out)-1]) {
			out = append(out, p)
		}
	}
	return out
}

// watchedKeys keeps the keys a source of the policy watches.
func (h *Handler) watchedKeys(bucket string, keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if _, ok := h.Policy.SourceForObject(bucket, k); ok {
			out = append(out, k)
		}
	}
	return out
}

// bucketPage reads one page of a watched bucket's objects, from a
// ListObjectsV2 page or an S3 Inventory's data files, and backfills it.
func (h *Handler) bucketPage(ctx context.Context, p BackfillPage) (BackfillPageResult, error) {
	switch {
	case p.Table != "" || p.Export != nil || p.Segment != 0 || p.Segments > 1:
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: a page reads a table (scan or export) or a bucket (listing or inventory), not both", ErrInvalid)
	case h.Cursors == nil || h.Objects == nil:
		return BackfillPageResult{}, errors.New("tagger: backfill page: no object reader or cursor sealer wired")
	}
	if src, ok := h.Policy.SourceByName(p.Bucket); !ok || src.Table != "" {
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: bucket %q is not a source of policy %s", ErrInvalid, p.Bucket, h.Policy.Version)
	}
	var keys []string
	var failed []BackfillFailure
	var next string
	var err error
	if p.Inventory != nil {
		keys, failed, next, err = h.inventoryPage(ctx, p)
	} else {
		keys, next, err = h.listPage(ctx, p)
	}
	if err != nil {
		return BackfillPageResult{}, err
	}
	res, err := h.BackfillObjects(ctx, p.Region, p.Bucket, keys)
	if err != nil {
		return BackfillPageResult{}, fmt.Errorf("tagger: %w", err)
	}
	res.Items += len(failed)
	res.Failed = append(failed, res.Failed...)
	return BackfillPageResult{BackfillResult: res, Inventory: p.Inventory, NextCursor: next}, nil
}

// listPage is one ListObjectsV2 page of the bucket, and the sealed cursor
// of the next one.
func (h *Handler) listPage(ctx context.Context, p BackfillPage) ([]string, string, error) {
	if h.Lister == nil {
		return nil, "", errors.New("tagger: backfill page: no object lister wired")
	}
	// The cursor is "list:<bucket>:<prefix index>:<continuation token>":
	// the bucket's watched prefixes are listed one after the other.
	prefixes := h.bucketPrefixes(p.Bucket)
	idx, token := 0, ""
	if p.Cursor != "" {
		b, err := h.Cursors.Open(p.Cursor)
		rest, ok := strings.CutPrefix(string(b), listCursorPrefix+p.Bucket+":")
		i, tok, cut := strings.Cut(rest, ":")
		n, nerr := strconv.Atoi(i)
		if err != nil || !ok || !cut || nerr != nil || n < 0 || n >= len(prefixes) || (tok == "" && n == 0) {
			return nil, "", fmt.Errorf("%w: backfill page: the cursor is not one this deployment's tagger returned for a listing of this bucket", ErrInvalid)
		}
		idx, token = n, tok
	}
	if len(prefixes) == 0 {
		return nil, "", nil // not reached: the page's bucket is a source's
	}
	keys, next, err := h.Lister.ListObjects(ctx, p.Region, p.Bucket, prefixes[idx], token, p.Limit)
	if errors.Is(err, record.ErrNotFound) {
		return nil, "", fmt.Errorf("%w: backfill page: %w", ErrInvalid, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("tagger: backfill page: %w", err)
	}
	switch {
	case next != "":
		next = h.Cursors.Seal([]byte(listCursorPrefix + p.Bucket + ":" + strconv.Itoa(idx) + ":" + next))
	case idx+1 < len(prefixes):
		next = h.Cursors.Seal([]byte(listCursorPrefix + p.Bucket + ":" + strconv.Itoa(idx+1) + ":"))
	}
	return keys, next, nil
}
