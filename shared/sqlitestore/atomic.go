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
}

// joined returns the Atomic transaction ctx carries for this database, or nil.
func (c *conn) joined(ctx context.Context) *sql.Tx {
	if a, ok := ctx.Value(atomicKey{}).(*atomicTx); ok && a.db == c.DB {
		return a.tx
	}
	return nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx := c.joined(ctx); tx != nil {
		return tx.QueryContext(ctx, query, args...)
	}
	return c.DB.QueryContext(ctx, query, args...)
}

func (c *conn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if tx := c.joined(ctx); tx != nil {
		return tx.QueryRowContext(ctx, query, args...)
	}
	return c.DB.QueryRowContext(ctx, query, args...)
}

func (c *conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx := c.joined(ctx); tx != nil {
		return tx.ExecContext(ctx, query, args...)
	}
	return c.DB.ExecContext(ctx, query, args...)
}

// Atomic runs fn in one transaction of the store: every store call made
// with the context fn is given joins it (a method's own transaction
// becomes a savepoint in it), and reads see its writes. If fn fails, or
// ctx ends before the commit, nothing fn wrote is kept; else all of it is.
// A local backfill makes each page one such unit of work: its tags,
// catalog entries, relocations, ledger entries and checkpoint are durable
// together or not at all, so a backfill killed at any point resumes after
// the last page done, with every record handled once. Calls must not be
// made from other goroutines with fn's context while fn runs; calls with
// another context wait for the commit (SQLite has one writer). Atomic
// calls do not nest: an inner one joins the outer.
func (s *Store) Atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.db.joined(ctx) != nil {
		return fn(ctx)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(context.WithValue(ctx, atomicKey{}, &atomicTx{db: s.db.DB, tx: tx})); err != nil {
		tx.Rollback()
		return err
	}
	if err := ctx.Err(); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.cp.wrote()
	return nil
}

// savepoint runs fn in a savepoint of tx: fn's error rolls back what fn
// wrote, and only that.
func savepoint(ctx context.Context, tx *sql.Tx, fn func(*sql.Tx) error) error {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT store_call`); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO store_call; RELEASE store_call`); rerr != nil && !errors.Is(rerr, context.Canceled) {
			return errors.Join(err, fmt.Errorf("roll back to savepoint: %w", rerr))
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE store_call`)
	return err
}
