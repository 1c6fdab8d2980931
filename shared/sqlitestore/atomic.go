package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// conn is the store's database. Its queries join the transaction of an
// Atomic call when their context carries it, so every method of the store
// (each function's writes and reads, whatever calls them) takes part in it
// without a transaction argument.
type conn struct{ *sql.DB }

// atomicKey is the context key of an Atomic call's transaction.
type atomicKey struct{}

// atomicTx is the transaction of an Atomic call, and the database it is of.
type atomicTx struct {
	db *sql.DB
	tx *sql.Tx
	// failed is the first error of a store call in it, other than one
	// that wrote nothing: the transaction is rolled back at its end.
	failed error
}

// run runs one store call's transaction fn in a's transaction. A call
// that fails with ErrNotFound or ErrConditionFailed wrote nothing (the
// store checks those before it writes) and the caller goes on; any other
// failure may have written part of what fn meant to, which only a rollback
// undoes, so the whole transaction will be (a savepoint per call would
// undo just that call, at the cost of journaling every page each call
// touches: most of a backfill page's time).
func (a *atomicTx) run(fn func(*sql.Tx) error) error {
	err := fn(a.tx)
	if err != nil && a.failed == nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConditionFailed) {
		a.failed = err
	}
	return err
}

// joined returns the Atomic transaction ctx carries for this database, or nil.
func (c *conn) joined(ctx context.Context) *atomicTx {
	if a, ok := ctx.Value(atomicKey{}).(*atomicTx); ok && a.db == c.DB {
		return a
	}
	return nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if a := c.joined(ctx); a != nil {
		return a.tx.QueryContext(ctx, query, args...)
	}
	return c.DB.QueryContext(ctx, query, args...)
}

func (c *conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if a := c.joined(ctx); a != nil {
		return a.tx.QueryRowContext(ctx, query, args...)
	}
	return c.DB.QueryRowContext(ctx, query, args...)
}

func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if a := c.joined(ctx); a != nil {
		return a.tx.ExecContext(ctx, query, args...)
	}
	return c.DB.ExecContext(ctx, query, args...)
}

// Atomic runs fn in one transaction of the store: every store call made
// with the context fn is given joins it, and reads see its writes. If fn
// fails, a store call in it failed (other than with ErrNotFound or
// ErrConditionFailed, which write nothing), or ctx ends before the commit,
// nothing fn wrote is kept; else all of it is. A local backfill makes each
// page one such unit of work: its tags, catalog entries, relocations,
// ledger entries and checkpoint are durable together or not at all, so a
// backfill killed at any point resumes after the last page done, with
// every record handled once. Calls must not be made from other goroutines
// with fn's context while fn runs; calls with another context wait for
// the commit (SQLite has one writer). Atomic calls do not nest: an inner
// one joins the outer.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.db.joined(ctx) != nil {
		return fn(ctx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	a := &atomicTx{db: s.db.DB, tx: tx}
	err = fn(context.WithValue(ctx, atomicKey{}, a))
	if err == nil && a.failed != nil {
		err = fmt.Errorf("a store call failed, and may have written part of its work: %w", a.failed)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.cp.wrote()
	return nil
}
