package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
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
	defer s.Store.Close()
	defer c.close()
	p := newProgress(stderr, every)
	opts := local.BackfillOptions{PageSize: pageSize, Restart: restart, Progress: p.page}
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
			p.start()
			res, err := s.BackfillExport(ctx, e, opts)
			if err != nil {
				return interrupted(ctx, err)
			}
			p.summary(res)
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
	switch {
	case len(tables) == 0:
		return errors.New("the policy watches no table: nothing to backfill")
	}
	regions := s.Policy.Regions
	if region != "" {
		if !s.Policy.HasRegion(region) {
			return usagef("--region %q is not a region of the policy (%s)", region, strings.Join(s.Policy.Regions, ", "))
		}
		regions = []string{region}
	}
	for _, r := range regions {
		for _, t := range tables {
			p.start()
			res, err := s.Backfill(ctx, r, t, opts)
			if err != nil {
				return interrupted(ctx, err)
			}
			p.summary(res)
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
	if region != "" && !s.Policy.HasRegion(region) {
		return usagef("--region %q is not a region of the policy (%s)", region, strings.Join(s.Policy.Regions, ", "))
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
		p.start()
		res, err := s.BackfillBucket(ctx, r, source, opts)
		if err != nil {
			return interrupted(ctx, err)
		}
		p.summary(res)
		out = append(out, res)
	}
	return writeJSON(stdout, out)
}

// interrupted says how to go on from a backfill that stopped.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted (%w): the pages done are kept; the same command resumes after them", err)
	}
	return fmt.Errorf("%w (the pages done are kept; the same command resumes after them)", err)
}

// progress reports a backfill's pages on stderr: on a terminal, one line
// kept up to date (items, items/s, the time left); else a line every n
// pages. Then a summary.
type progress struct {
	w       io.Writer
	tty     bool
	every   int
	pages   int
	started time.Time
	now     func() time.Time
}

func newProgress(w io.Writer, every int) *progress {
	return &progress{w: w, tty: isTerminal(w), every: every, now: time.Now}
}

// isTerminal says whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// start starts the clock of one table's backfill.
func (p *progress) start() { p.pages, p.started = 0, p.now() }

func (p *progress) page(bp local.BackfillProgress) {
	p.pages++
	if !p.tty && p.pages%p.every != 0 {
		return
	}
	t := bp.Total
	line := fmt.Sprintf("backfill %s/%s: %d", bp.Region, bp.Table, t.Read)
	if bp.Expected > 0 {
		line += fmt.Sprintf(" of %d", bp.Expected)
	}
	line += fmt.Sprintf(" items (%d tagged, %d unchanged, %d violations, %d relocated, %d failed)", t.Tagged, t.Unchanged, t.Violations, t.Relocated, t.Failed)
	if el := p.now().Sub(p.started).Seconds(); el > 0 {
		rate := float64(t.Read-bp.Resumed) / el
		line += fmt.Sprintf(", %.0f items/s", rate)
		if left := bp.Expected - t.Read; bp.Expected > 0 && rate > 0 && left > 0 {
			line += fmt.Sprintf(", %s left", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		}
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// summary ends one table's backfill: its figures, resumed pages included.
func (p *progress) summary(res local.BackfillSummary) {
	if p.tty && p.pages > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
	line := fmt.Sprintf("backfill %s/%s done: %d items read, %d tagged, %d unchanged, %d violations, %d relocated, %d failed in %d %s",
		res.Region, res.Table, res.Items, res.Tagged, res.Unchanged, res.Violations, res.Relocated, len(res.Failed), res.Pages, plural(res.Pages, "page"))
	if res.ResumedPages > 0 {
		line += fmt.Sprintf(" (resumed after %d)", res.ResumedPages)
	}
	fmt.Fprintf(p.w, "%s, %s\n", line, p.now().Sub(p.started).Round(time.Millisecond))
	for _, f := range res.Failed {
		fmt.Fprintf(p.w, "  failed %s: %s\n", f.Record, f.Reason)
	}
}
