package report

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Report is a compliance report held in memory: its header and every entry.
// Build makes one; for ranges of any size, Render streams instead.
type Report struct {
	Header
	Entries []ledger.Entry `json:"entries"`
}

// Build verifies the ledger, summarizes the entries q selects and reads them
// all into memory. It suits small ranges and tests; Render writes the same
// report without holding the entries.
func Build(ctx context.Context, l Ledger, q Query, now time.Time) (*Report, error) {
	h, err := Summarize(ctx, l, q, Options{Now: now})
	if err != nil {
		return nil, err
	}
	rep := &Report{Header: *h, Entries: []ledger.Entry{}}
	_, _, err = Scan(ctx, l, q, Page{}, func(e *ledger.Entry) error {
		rep.Entries = append(rep.Entries, *e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	return rep, nil
}

// Write renders the report in format (one of Formats).
func (r *Report) Write(w io.Writer, format string) error {
	return Write(w, format, &r.Header, Entries(r.Entries))
}

// Entries is an EntrySource over entries held in memory.
func Entries(entries []ledger.Entry) EntrySource {
	return func(fn func(*ledger.Entry) error) error {
		for i := range entries {
			if err := fn(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// Result says what Render wrote.
type Result struct {
	Header  *Header // verification, and but for CSV, the summary
	Entries int     // entries written
}

// Render writes the report of q in format to w as it reads the ledger: it
// verifies every chain, summarizes the period in one pass over the time
// index (not for CSV, which carries entries only), then streams the entries
// in a second pass. Memory stays bounded whatever the range; the HTML format
// lists at most MaxHTMLEntries entries (its charts and tables cover all).
func Render(ctx context.Context, l Ledger, q Query, format string, w io.Writer, opt Options) (Result, error) {
	if err := CheckFormat(format); err != nil {
		return Result{}, err
	}
	var res Result
	if format == "csv" {
		res.Header = NewHeader(q, opt.Now)
		st, err := Verify(ctx, l, opt.Digests)
		if err != nil {
			return res, fmt.Errorf("verify ledger: %w", err)
		}
		res.Header.Ledger = st
	} else {
		h, err := Summarize(ctx, l, q, opt)
		if err != nil {
			return res, err
		}
		res.Header = h
	}
	src := func(fn func(*ledger.Entry) error) error {
		_, _, err := Scan(ctx, l, q, Page{}, func(e *ledger.Entry) error {
			if err := fn(e); err != nil {
				return err
			}
			res.Entries++
			return nil
		})
		return err
	}
	return res, Write(w, format, res.Header, src)
}
