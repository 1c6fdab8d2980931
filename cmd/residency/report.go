package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/report"
)

type reportFlags struct {
	from, to, kind, destination, mechanism, subject, format, out, endpoint string
	// imds lets --endpoint take credentials from the instance metadata
	// service.
	imds bool
	// noProgress: no progress line on stderr.
	noProgress bool
}

func (r *reportFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
}) {
	fs.StringVar(&r.from, "from", "", "start date or time")
	fs.StringVar(&r.to, "to", "", "end date (inclusive) or time (exclusive)")
	fs.StringVar(&r.kind, "kind", "", "kinds: transfer,denial,violation,relocation,deletion")
	fs.StringVar(&r.destination, "destination", "", "destination country")
	fs.StringVar(&r.mechanism, "mechanism", "", "mechanism: none|adequacy|dpf|scc|bcr|derogation")
	fs.StringVar(&r.subject, "subject", "", "only this subject's entries (the id is hashed, never stored)")
	fs.StringVar(&r.format, "format", "table", "table|json|csv|html")
	fs.StringVar(&r.out, "out", "", "write to this file instead of stdout")
	fs.StringVar(&r.endpoint, "endpoint", "", "a deployed reports API (signed with SigV4)")
	fs.BoolVar(&r.noProgress, "no-progress", false, "no progress line on stderr")
}

// params are the report's filters as the reports API names them.
func (r *reportFlags) params() map[string]string {
	return map[string]string{"from": r.from, "to": r.to, "kind": r.kind, "destination": r.destination, "mechanism": r.mechanism}
}

// check validates the flags before anything is opened or requested.
func (r *reportFlags) check() (report.Query, error) {
	vals := r.params()
	q, err := report.ParseQuery(func(k string) string { return vals[k] })
	if err != nil {
		return q, usagef("%v", err)
	}
	if err := report.CheckFormat(r.format); err != nil {
		return q, usagef("--format %q: use table, json, csv or html", r.format)
	}
	return q, nil
}

// create opens the report's destination: --out, else stdout. done flushes
// and closes it.
func (r *reportFlags) create(stdout io.Writer) (w io.Writer, done func() error, err error) {
	if r.out == "" {
		bw := bufio.NewWriterSize(stdout, 256<<10)
		return bw, bw.Flush, nil
	}
	f, err := os.Create(r.out)
	if err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	return bw, func() error {
		if err := bw.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

// written tells where the report went, and warns when the ledger does not
// verify and the format cannot say so. A report of a ledger that does not
// verify is written, marked BROKEN, and exits 3.
func (r *reportFlags) written(stdout, stderr io.Writer, h *report.Header, entries int) error {
	if h != nil && !h.Ledger.Verified && r.format == "csv" {
		for _, c := range h.Ledger.Chains {
			if !c.Verified {
				fmt.Fprintf(stderr, "residency report: WARNING: ledger %s does not verify: BROKEN at seq %d: %s\n", c.Region, c.FirstBadSeq, c.Problem)
			}
		}
	}
	if r.out != "" {
		fmt.Fprintf(stdout, "report written to %s (%d entries)\n", r.out, entries)
	}
	if h != nil && !h.Ledger.Verified {
		return exitError{exitBroken, fmt.Errorf("%w: the report is marked BROKEN (residency verify names the first bad entry)", errBroken)}
	}
	return nil
}

// write renders the report from the local stack's store, streaming: it
// writes the entries as it reads them.
func (r *reportFlags) write(ctx context.Context, s *local.Stack, stdout, stderr io.Writer) error {
	if r.endpoint != "" {
		return usagef("--endpoint works with `residency report` only")
	}
	q, err := r.check()
	if err != nil {
		return err
	}
	if r.subject != "" {
		q.SubjectRef = s.Refs.Subject(r.subject)
	}
	w, done, err := r.create(stdout)
	if err != nil {
		return err
	}
	// The entries read, on stderr, unless the report itself goes to that
	// terminal.
	m := newMeter(stderr, !r.noProgress && (r.out != "" || !isTerminal(stdout)))
	m.start("report", "ledger entries read", 0, 0)
	defer m.finish()
	res, err := report.Render(ctx, meteredLedger{s.Store, m}, q, r.format, w, report.Options{Now: s.Now(), Holds: s.Store, Refs: s.Refs, Digests: s.Digests,
		Policy: s.Policy, Catalog: s.Store})
	if derr := done(); err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	return r.written(stdout, stderr, res.Header, res.Entries)
}

func cmdReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("report", stderr)
	var rf reportFlags
	rf.register(fs)
	var region string
	fs.StringVar(&region, "region", "", "with --endpoint: the API's region (default: the endpoint's, else the AWS config's)")
	fs.BoolVar(&rf.imds, "imds", false, "with --endpoint: also take credentials from the EC2 instance metadata service")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if rf.endpoint != "" {
		return rf.fetch(ctx, region, stdout, stderr)
	}
	if region != "" {
		return usagef("--region works with --endpoint only")
	}
	if _, err := rf.check(); err != nil {
		return err
	}
	c.verifyOnly = true // a report checks the digests, signs none
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	return rf.write(ctx, s, stdout, stderr)
}

// meteredLedger counts the ledger entries a report reads on a meter.
type meteredLedger struct {
	report.Ledger
	m *meter
}

func (l meteredLedger) ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error {
	return l.Ledger.ScanChainAfter(ctx, region, afterSeq, limit, func(e *ledger.Entry) error {
		l.m.add(1)
		return fn(e)
	})
}

func (l meteredLedger) ScanLedgerAfter(ctx context.Context, q ledger.Query, after *ledger.Entry, limit int, fn func(*ledger.Entry) error) error {
	return l.Ledger.ScanLedgerAfter(ctx, q, after, limit, func(e *ledger.Entry) error {
		l.m.add(1)
		return fn(e)
	})
}
