package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/residency-dev/residency/shared/local"
)

// cmdBackfill brings the records already in the local watched tables under
// Residency: every watched table in every region, or the --source and
// --region named, page by page, each page durable with its checkpoint, so
// that a backfill stopped at any point resumes after its last page done.
// Progress goes to stderr (a line kept up to date on a terminal, else a
// line every --progress-every pages), then a summary per table; the
// summaries are JSON on stdout. With EXPORT_DIR, a DynamoDB table export is
// loaded into the table and region its manifest names, as data that was
// there before (no stream records), and backfilled as it loads. A watched
// bucket is backfilled when --source names it: the local object store's
// objects that the catalog does not know, in the bucket's region (a source
// with one bucket for every region: in each region, or --region's).
func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("backfill", stderr)
	var source, region string
	var restart bool
	var every, pageSize int
	fs.StringVar(&source, "source", "", "a watched table (default: every one) or bucket (only by name)")
	fs.StringVar(&region, "region", "", "a region of the policy (default: every one)")
	fs.BoolVar(&restart, "restart", false, "start over, discarding the checkpoint of a backfill that stopped")
	fs.IntVar(&every, "progress-every", 10, "without a terminal, a progress line every N pages")
	noProgress := fs.Bool("no-progress", false, "no progress lines on stderr (the summary stays)")
	fs.IntVar(&pageSize, "page-size", local.BackfillPageSize, "records a page")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 1:
		return usagef("backfill takes at most one EXPORT_DIR, got %d arguments", len(pos))
	case every < 1:
		return usagef("--progress-every %d: use 1 or more", every)
	case pageSize < 1 || pageSize > local.BackfillPageSize:
		return usagef("--page-size %d: use 1 to %d", pageSize, local.BackfillPageSize)
	}
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	p := newProgress(stderr, every, !*noProgress)
	opts := local.BackfillOptions{PageSize: pageSize, Restart: restart, Progress: p.page, Indexing: p.indexing}
	var out []local.BackfillSummary
	if len(pos) == 1 {
		e, err := s.OpenExport(pos[0])
		if err != nil {
			return err
		}
		if (source != "" && source != e.Table) || (region != "" && region != e.Region) {
			return usagef("the export is of %s in %s, not --source %q --region %q", e.Table, e.Region, source, region)
		}
		source, region = e.Table, e.Region
		done, err := s.ExportDone(ctx, e)
		if err != nil {
			return err
		}
		if done.IsZero() || restart {
			fmt.Fprintf(stderr, "loading export %s: %d items of %s in %s from %d data files\n", e.Dir, e.Items, e.Table, e.Region, e.DataFiles)
			res, err := p.backfill(ctx, func() (local.BackfillSummary, error) { return s.BackfillExport(ctx, e, opts) })
			if err != nil {
				return err
			}
			return writeJSON(stdout, []local.BackfillSummary{res})
		}
		// Loading it again would bring back what was relocated or
		// deleted since; its table is backfilled as it is now instead.
		fmt.Fprintf(stderr, "export %s was backfilled on %s: not loaded again (its records relocated or deleted since would come back); backfilling %s in %s as it is\n",
			e.Dir, done.UTC().Format(time.RFC3339), e.Table, e.Region)
	}
	var tables []string
	for _, src := range s.Policy.Sources {
		if src.Table != "" && !slices.Contains(tables, src.Table) && (source == "" || src.Table == source) {
			tables = append(tables, src.Table)
		}
	}
	if len(tables) == 0 && source != "" {
		return backfillBucket(ctx, s, source, region, opts, p, stdout)
	}
	if len(tables) == 0 {
		return errors.New("the policy watches no table: nothing to backfill")
	}
	regions := s.Policy.Regions
	if region != "" {
		if err := checkRegion(s.Policy, region); err != nil {
			return err
		}
		regions = []string{region}
	}
	for _, r := range regions {
		for _, t := range tables {
			res, err := p.backfill(ctx, func() (local.BackfillSummary, error) { return s.Backfill(ctx, r, t, opts) })
			if err != nil {
				return err
			}
			out = append(out, res)
		}
	}
	return writeJSON(stdout, out)
}

// backfillBucket backfills the watched bucket named source: in the region
// the policy names for it, or (a source with one bucket) in every region of
// the policy, or --region's.
func backfillBucket(ctx context.Context, s *local.Stack, source, region string, opts local.BackfillOptions, p *progress, stdout io.Writer) error {
	src, ok := s.Policy.SourceByName(source)
	if !ok || src.Table != "" {
		return usagef("--source %q is not a watched table or bucket of the policy", source)
	}
	if region != "" {
		if err := checkRegion(s.Policy, region); err != nil {
			return err
		}
	}
	regions := s.Policy.Regions
	if r, ok := src.RegionOfBucket(source); ok {
		if region != "" && region != r {
			return usagef("bucket %s is the source's bucket in %s, not --region %q", source, r, region)
		}
		regions = []string{r}
	} else if region != "" {
		regions = []string{region}
	}
	var out []local.BackfillSummary
	for _, r := range regions {
		res, err := p.backfill(ctx, func() (local.BackfillSummary, error) { return s.BackfillBucket(ctx, r, source, opts) })
		if err != nil {
			return err
		}
		out = append(out, res)
	}
	return writeJSON(stdout, out)
}

// backfill runs one backfill between its progress line's start and its
// summary; a backfill that stopped says how to go on (interrupted).
func (p *progress) backfill(ctx context.Context, run func() (local.BackfillSummary, error)) (local.BackfillSummary, error) {
	p.start()
	res, err := run()
	if err != nil {
		return res, interrupted(ctx, err)
	}
	p.summary(res)
	return res, nil
}

// interrupted says how to go on from a backfill that stopped.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (%w): the pages done are kept; the same command resumes after them", err)
	}
	return fmt.Errorf("%w (the pages done are kept; the same command resumes after them)", err)
}

// progress reports a backfill's pages on stderr: on a terminal, the
// shared progress line (meter: items, items/s, the time left); else, unless
// --no-progress, a line every n pages. Then a summary.
type progress struct {
	w       io.Writer
	m       *meter
	lines   bool // without a terminal: a line every n pages
	every   int
	pages   int
	started time.Time
	now     func() time.Time
}

func newProgress(w io.Writer, every int, wanted bool) *progress {
	m := newMeter(w, wanted)
	m.delay = 0 // a page is worth showing at once
	return &progress{w: w, m: m, lines: wanted && !m.on, every: every, now: time.Now}
}

// start starts the clock of one table's backfill.
func (p *progress) start() { p.pages, p.started = 0, p.now() }

func (p *progress) page(bp local.BackfillProgress) {
	p.pages++
	t := bp.Total
	detail := fmt.Sprintf("%d tagged, %d unchanged, %d violations, %d relocated, %d failed", t.Tagged, t.Unchanged, t.Violations, t.Relocated, t.Failed)
	if p.pages == 1 {
		p.m.start(fmt.Sprintf("backfill %s/%s", bp.Region, bp.Table), "items", bp.Expected, bp.Resumed)
		p.m.started = p.started
	}
	p.m.total = bp.Expected
	if p.m.on {
		p.m.set(t.Read, detail)
		return
	}
	if !p.lines || p.pages%p.every != 0 {
		return
	}
	p.m.done, p.m.detail = t.Read, detail
	fmt.Fprintln(p.w, p.m.line(p.now()))
}

// indexing tells of a bulk load's building of the catalog's indexes, after
// its last page: on a terminal in the progress line, else in a line at its
// start and its end (unless --no-progress).
func (p *progress) indexing(bi local.BackfillIndexing) {
	what := fmt.Sprintf("backfill %s/%s: building the catalog's indexes", bi.Region, bi.Table)
	switch {
	case p.m.on && !bi.Done:
		p.m.set(p.m.done, "building the catalog's indexes")
	case p.m.on:
	case p.lines && !bi.Done:
		fmt.Fprintln(p.w, what)
	case p.lines:
		fmt.Fprintf(p.w, "%s: done in %s\n", what, bi.Took.Round(time.Millisecond))
	}
}

// summary ends one table's backfill: its figures, resumed pages included.
func (p *progress) summary(res local.BackfillSummary) {
	p.m.clear()
	line := fmt.Sprintf("backfill %s/%s done: %s read, %d tagged, %d unchanged, %d violations, %d relocated, %d failed in %d %s",
		res.Region, res.Table, count(res.Items, "item"), res.Tagged, res.Unchanged, res.Violations, res.Relocated, len(res.Failed), res.Pages, plural(res.Pages, "page"))
	if res.ResumedPages > 0 {
		line += fmt.Sprintf(" (resumed after %d)", res.ResumedPages)
	}
	fmt.Fprintf(p.w, "%s, %s\n", line, p.now().Sub(p.started).Round(time.Millisecond))
	for _, f := range res.Failed {
		fmt.Fprintf(p.w, "  failed %s: %s\n", f.Record, f.Reason)
	}
}
