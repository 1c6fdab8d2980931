package sqlitestore

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
)

// schema is the store's schema (see schema.sql).
//
//go:embed schema.sql
var schema string

// catalogIndexes are the catalog's indexes that a bulk backfill drops (see
// catalog_indexes.sql).
//
//go:embed catalog_indexes.sql
var catalogIndexes string

// migrations bring a store of an older release up to date, after schema.sql
// has added what it lacked: migrations[i] takes a store at PRAGMA
// user_version i to i+1. A new store gets schema.sql and the last version
// without them. Add a migration at the end; never change one released.
var migrations = []func(context.Context, *sql.Tx) error{
	// 0 -> 1: stores made before user_version. Their catalog may lack the
	// erasure mark; their stream may have marked each delivered record
	// (always a prefix of the stream) before the cursor, which then starts
	// after them, and the index that served those marks goes.
	func(ctx context.Context, tx *sql.Tx) error {
		if err := addColumn(ctx, tx, "catalog", "erasure", "TEXT NOT NULL DEFAULT ''"); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE stream_cursor SET seq = max(seq, coalesce((SELECT max(seq) FROM stream WHERE delivered=1), 0)) WHERE id=1;
			DROP INDEX IF EXISTS stream_pending;`)
		return err
	},
	// 1 -> 2: the erased list (schema.sql adds its table) and the catalog's
	// re-applied erasure mark.
	func(ctx context.Context, tx *sql.Tx) error {
		return addColumn(ctx, tx, "catalog", "reapplied", "INTEGER NOT NULL DEFAULT 0")
	},
	// 2 -> 3: backfill checkpoints and coverage. schema.sql adds their
	// tables; no existing table changes.
	func(context.Context, *sql.Tx) error { return nil },
	// 3 -> 4: the ledger's Merkle trees (schema.sql adds ledger_tree),
	// computed from the chains the store holds.
	backfillTrees,
	// 4 -> 5: a dead letter keeps the payload it was delivered, so that
	// residency failures retry can redeliver it. Older letters have none.
	func(ctx context.Context, tx *sql.Tx) error {
		return addColumn(ctx, tx, "dead_letters", "payload", "TEXT NOT NULL DEFAULT ''")
	},
	// 5 -> 6: a relocation or quarantine entry's exposed_ms. Older entries
	// have none (NULL), and their hashes do not cover one.
	func(ctx context.Context, tx *sql.Tx) error {
		return addColumn(ctx, tx, "ledger", "exposed_ms", "INTEGER")
	},
}

// migrate gives the store the current schema, in one transaction.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version, objects int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version == len(migrations) {
		// A bulk backfill killed before it built the catalog's indexes
		// again left them missing: build them.
		if _, err := tx.ExecContext(ctx, catalogIndexes); err != nil {
			return fmt.Errorf("create catalog indexes: %w", err)
		}
		return tx.Commit()
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this release's %d", version, len(migrations))
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&objects); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if _, err := tx.ExecContext(ctx, schema+catalogIndexes); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if objects > 0 { // not a new store
		for v := version; v < len(migrations); v++ {
			if err := migrations[v](ctx, tx); err != nil {
				return fmt.Errorf("schema version %d to %d: %w", v, v+1, err)
			}
		}
	}
	// PRAGMA takes no bound parameters.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("set schema version: %w", err)
	}
	return tx.Commit()
}

// addColumn adds a column to table unless it has it already.
func addColumn(ctx context.Context, tx *sql.Tx, table, column, def string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name=?`, table, column).Scan(&n); err != nil {
		return fmt.Errorf("columns of %s: %w", table, err)
	}
	if n == 0 {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+def); err != nil {
			return fmt.Errorf("add %s.%s: %w", table, column, err)
		}
	}
	return nil
}
