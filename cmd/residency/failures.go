package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/residency-dev/residency/shared/sqlitestore"
)

// cmdFailures lists the dead letters the local store keeps: what a function
// could not handle, with the reason, so a failure under serve or run can be
// seen. Item is the event id or stream sequence number, never a subject id.
func cmdFailures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("failures", stderr)
	var function, region, format string
	fs.StringVar(&function, "function", "", "only this function's dead letters (tagger, router, ledger, retention, reports)")
	fs.StringVar(&region, "region", "", "only this region's dead letters")
	fs.StringVar(&format, "format", "table", "table|json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if format != "table" && format != "json" {
		return usagef("--format %q: use table or json", format)
	}
	// Listing never signs digests and needs a store that is there.
	c.verifyOnly = true
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer s.Store.Close()
	defer c.close()
	all, err := s.Store.DeadLetters(ctx)
	if err != nil {
		return err
	}
	letters := []sqlitestore.DeadLetter{}
	for _, d := range all {
		if (function == "" || d.Function == function) && (region == "" || d.Region == region) {
			letters = append(letters, d)
		}
	}
	if format == "json" {
		return writeJSON(stdout, letters)
	}
	if len(letters) == 0 {
		fmt.Fprintln(stdout, "No dead letters.")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tFUNCTION\tREGION\tITEM\tREASON")
	for _, d := range letters {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.At.UTC().Format(time.RFC3339), d.Function, d.Region, d.Item, d.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s\n", len(letters), plural(len(letters), "dead letter"))
	return nil
}
