package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// cmdFailures lists the dead letters the local store keeps: what a function
// could not handle, with the reason, so a failure under serve or run can be
// seen. Item is the event id or stream sequence number, never a subject id.
func cmdFailures(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "retry" {
		return cmdFailuresRetry(ctx, args[1:], stdout, stderr)
	}
	fs, c := newFlags("failures", stderr)
	var format string
	function, region := letterFilter(fs)
	fs.StringVar(&format, "format", "table", "table|json")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if format != "table" && format != "json" {
		return usagef("--format %q: use table or json", format)
	}
	// Listing never signs digests and needs a store that is there.
	c.verifyOnly = true
	defer c.close()
	_, letters, err := deadLetters(ctx, c, *function, *region)
	if err != nil {
		return err
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

// cmdFailuresRetry redelivers the dead letters (those of --function and
// --region) through the local stack: a letter whose function now succeeds
// goes; one that fails again stays, with its new reason and time. A tagger
// stream record is redelivered as its table holds it now, so fixing the
// record and retrying tags it. Exit 1 when any letter failed again.
func cmdFailuresRetry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("failures retry", stderr)
	function, region := letterFilter(fs)
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if _, err := os.Stat(c.db); err != nil {
		return fmt.Errorf("no embedded store at %s (--db): %w", c.db, err)
	}
	defer c.close()
	s, letters, err := deadLetters(ctx, c, *function, *region)
	if err != nil {
		return err
	}
	var redelivered, again, kept int
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FUNCTION\tREGION\tITEM\tRESULT")
	for _, d := range letters {
		reason, err := s.Retry(ctx, d)
		switch {
		case errors.Is(err, local.ErrNotRedeliverable):
			kept++
			fmt.Fprintf(tw, "%s\t%s\t%s\tkept: %v\n", d.Function, d.Region, d.Item, err)
		case err != nil:
			return fmt.Errorf("retry dead letter %d: %w", d.ID, err)
		case reason == "":
			if err := s.Store.DeleteDeadLetter(ctx, d.ID); err != nil {
				return err
			}
			redelivered++
			fmt.Fprintf(tw, "%s\t%s\t%s\tredelivered\n", d.Function, d.Region, d.Item)
		default:
			if err := s.Store.UpdateDeadLetter(ctx, d.ID, s.Now(), reason); err != nil {
				return err
			}
			again++
			fmt.Fprintf(tw, "%s\t%s\t%s\tfailed again: %s\n", d.Function, d.Region, d.Item, reason)
		}
	}
	if redelivered+again+kept == 0 {
		fmt.Fprintln(stdout, "No dead letters.")
		return nil
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d redelivered, %d failed again, %d cannot be redelivered\n", redelivered, again, kept)
	if again > 0 {
		return exitError{exitFail, fmt.Errorf("%d %s failed again (residency failures lists the reasons)", again, plural(again, "dead letter"))}
	}
	return nil
}

// letterFilter defines the --function and --region flags that choose the
// dead letters failures and failures retry act on.
func letterFilter(fs *flag.FlagSet) (function, region *string) {
	function = fs.String("function", "", "only this function's dead letters (tagger, router, ledger, retention, reports)")
	region = fs.String("region", "", "only this region's dead letters")
	return function, region
}

// deadLetters opens c's local stack and reads the dead letters of its store
// of function and region ("" for any), oldest first as the store lists them
// (none: an empty slice, which JSON writes as []). It never closes the
// stack: its caller's c.close does, also when reading failed.
func deadLetters(ctx context.Context, c *common, function, region string) (*local.Stack, []sqlitestore.DeadLetter, error) {
	s, err := c.stack()
	if err != nil {
		return nil, nil, err
	}
	all, err := s.Store.DeadLetters(ctx)
	if err != nil {
		return nil, nil, err
	}
	letters := []sqlitestore.DeadLetter{}
	for _, d := range all {
		if (function == "" || d.Function == function) && (region == "" || d.Region == region) {
			letters = append(letters, d)
		}
	}
	return s, letters, nil
}
