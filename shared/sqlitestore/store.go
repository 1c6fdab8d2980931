package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"time"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/record"
)

// Errors the store reports; callers test them with errors.Is.
var (
	ErrNotFound        = record.ErrNotFound
	ErrConditionFailed = record.ErrConditionFailed
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db   *conn
	path string
	cp   *checkpointer // nil for an in-memory store
}

// cacheKiB is each connection's page cache (SQLite's default is 2 MiB): the
// catalog's subject index and the items' keys are written in no useful
// order, so a batch touches pages all over them, and a small cache reads
// them back from the file again and again.
const cacheKiB = 16 << 10

// Open opens (creating if needed) the store at path. ":memory:" gives a
// private in-memory store, for tests.
func Open(path string) (*Store, error) {
	dsn := "file:" + url.PathEscape(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)&_pragma=cache_size(%d)&_pragma=temp_store(memory)", walBackstopPages, 64<<20, -cacheKiB) + "&_txlock=immediate"
	if path == ":memory:" {
		dsn = "file::memory:?_txlock=immediate"
	}
	db, err := openDB(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // every connection would get its own empty database
	} else {
		// Connections stay open, with their page caches and statements.
		db.SetMaxOpenConns(4)
		db.SetMaxIdleConns(4)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: &conn{DB: db}, path: path}
	if path != ":memory:" {
		if s.cp, err = startCheckpointer(dsn); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	cerr := s.cp.close()
	if err := s.db.Close(); err != nil {
		return err
	}
	return cerr
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// tx runs fn in a transaction, or within Atomic in its transaction (see
// atomicTx.run).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if a := s.db.joined(ctx); a != nil {
		return a.run(fn)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.cp.wrote()
	return nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(fixedNano)
}

// fixedNano is RFC 3339 with a fixed-width fraction, so that string order is
// time order.
const fixedNano = "2006-01-02T15:04:05.000000000Z"

func parseTS(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// dueTS formats retain-until so that string order is time order.
func dueTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func decodeItem(s string) (record.Item, error) {
	it, err := ddbjson.DecodePlain([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("stored item is corrupt: %w", err)
	}
	return it, nil
}
