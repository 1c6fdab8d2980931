package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/residency-dev/residency/shared/report/reporttest"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

func main() {
	db := flag.String("db", "", "the store to fill (created if missing; it must hold no ledger yet)")
	n := flag.Int("n", 1000000, "how many ledger entries")
	from := flag.String("from", "2026-01-01", "the first entry's day")
	days := flag.Int("days", 365, "the period the entries spread over, in days")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := run(*db, *n, *from, *days, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genledger:", err)
		os.Exit(1)
	}
}

func run(db string, n int, from string, days int, seed uint64) error {
	if db == "" {
		return fmt.Errorf("--db is required")
	}
	start, err := time.Parse(time.DateOnly, from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	st, err := sqlitestore.Open(db)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	if chains, err := st.Chains(ctx); err != nil {
		return err
	} else if len(chains) > 0 {
		return fmt.Errorf("%s already holds a ledger (%v): use a new file", db, chains)
	}
	began := time.Now()
	counts, err := reporttest.Generate(ctx, st, n, start, time.Duration(days)*24*time.Hour, seed)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d entries %v in %s\n", db, n, counts, time.Since(began).Round(time.Millisecond))
	return nil
}
