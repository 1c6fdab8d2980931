package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"
)

// countingConnector counts the statements its connections prepare.
type countingConnector struct {
	driver.Connector
	prepared *atomic.Int64
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return countingConn{sqliteConn: dc.(sqliteConn), prepared: c.prepared}, nil
}

type countingConn struct {
	sqliteConn
	prepared *atomic.Int64
}

func (c countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.prepared.Add(1)
	return c.sqliteConn.PrepareContext(ctx, query)
}

// cachedDB opens a file database of one connection whose statements
// are kept, and the count of the statements it prepared.
func cachedDB(t *testing.T) (*sql.DB, *atomic.Int64) {
	t.Helper()
	base, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	db := sql.OpenDB(cachingConnector{countingConnector{base, &n}})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, err := db.Exec(`CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT); CREATE TABLE u(k INTEGER)`); err != nil {
		t.Fatal(err)
	}
	n.Store(0)
	return db, &n
}

func count(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStatementsKeptAcrossTransactions(t *testing.T) {
	db, prepared := cachedDB(t)
	ctx := context.Background()
	for i := range 20 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, err := tx.PrepareContext(ctx, `INSERT INTO t(k,v) VALUES (?,?)`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Exec(i, "x"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE t SET v=? WHERE k=?`, "y", i); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if got := count(t, db); got != 20 {
		t.Errorf("expect 20 rows, got %d", got)
	}
	// The INSERT, the UPDATE and the count, once each.
	if got := prepared.Load(); got != 3 {
		t.Errorf("expect 3 statements prepared, got %d", got)
	}
}

func TestStatementInUseIsNotSharedAndFailureKeepsIt(t *testing.T) {
	db, prepared := cachedDB(t)
	for i := range 3 {
		if _, err := db.Exec(`INSERT INTO t(k,v) VALUES (?,?)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	// A query's rows hold its statement: the same text, run on the same
	// connection while they are open, has a statement of its own and its
	// own results.
	const q = `SELECT v FROM t WHERE k>=? ORDER BY k`
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	outer, err := tx.Query(q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var inner string
		if err := tx.QueryRow(q, 2).Scan(&inner); err != nil {
			t.Fatal(err)
		}
		got = append(got, v+"/"+inner)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[v0/v2 v1/v2 v2/v2]" {
		t.Errorf("expect [v0/v2 v1/v2 v2/v2], got %v", got)
	}
	before := prepared.Load()
	// A failed run (a duplicate key) leaves the statement reusable.
	if _, err := db.Exec(`INSERT INTO t(k,v) VALUES (?,?)`, 1, "dup"); err == nil {
		t.Fatal("expect a constraint failure, got none")
	}
	if _, err := db.Exec(`INSERT INTO t(k,v) VALUES (?,?)`, 9, "new"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := db.QueryRow(q, 9).Scan(&v); err != nil || v != "new" {
		t.Errorf("expect new, got %q (%v)", v, err)
	}
	if got := prepared.Load() - before; got != 0 {
		t.Errorf("expect the kept statements reused, got %d prepared", got)
	}
}

func TestStatementCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	db, prepared := cachedDB(t)
	query := func(i int) string { return fmt.Sprintf(`SELECT %d FROM u`, i) }
	run := func(i int) {
		t.Helper()
		rows, err := db.Query(query(i))
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	for i := range stmtCacheSize {
		run(i)
	}
	run(0) // now the most recently used
	run(stmtCacheSize)
	if got := prepared.Load(); got != stmtCacheSize+1 {
		t.Fatalf("expect %d prepared, got %d", stmtCacheSize+1, got)
	}
	run(0) // kept
	if got := prepared.Load(); got != stmtCacheSize+1 {
		t.Errorf("expect statement 0 kept, got %d prepared", got)
	}
	run(1) // the least recently used, gone
	if got := prepared.Load(); got != stmtCacheSize+2 {
		t.Errorf("expect statement 1 prepared again, got %d prepared", got)
	}
}

func TestStatementKeptThroughSchemaChange(t *testing.T) {
	db, _ := cachedDB(t)
	if _, err := db.Exec(`INSERT INTO t(k,v) VALUES (1,'a')`); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT k FROM t WHERE v=?`
	var k int
	if err := db.QueryRow(q, "a").Scan(&k); err != nil {
		t.Fatal(err)
	}
	// As a bulk load drops and builds the catalog's indexes.
	for _, ddl := range []string{`CREATE INDEX t_v ON t(v)`, `DROP INDEX t_v`, `ALTER TABLE t ADD COLUMN w TEXT`} {
		if _, err := db.Exec(ddl); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(q, "a").Scan(&k); err != nil || k != 1 {
			t.Errorf("after %s: expect 1, got %d (%v)", ddl, k, err)
		}
	}
	if _, err := db.Exec(`DROP TABLE t`); err != nil {
		t.Fatalf("expect the kept statements not to hold the table, got %v", err)
	}
}

func TestStatementReturnedAfterItsConnectionClosed(t *testing.T) {
	base, err := sqlite.NewConnector("file:" + filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := cachingConnector{base}.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c := dc.(*cachingConn)
	// One evicted while it is out: the connection's Close finalizes it.
	evicted, err := c.Prepare(`SELECT 2`)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize {
		s, err := c.Prepare(fmt.Sprintf(`SELECT %d`, i+3))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if !evicted.(*cachedStmt).gone || len(c.gone) != 1 {
		t.Fatal("expect the statement out evicted")
	}
	// And one kept, out.
	kept, err := c.Prepare(`SELECT 1`)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for _, s := range []driver.Stmt{kept, evicted} {
		if err := s.Close(); err != nil {
			t.Errorf("expect a statement returned after its connection closed to be done with, got %v", err)
		}
	}
}

func TestRowsTellTheirColumnTypes(t *testing.T) {
	db, _ := cachedDB(t)
	if _, err := db.Exec(`INSERT INTO t(k,v) VALUES (1,'a')`); err != nil {
		t.Fatal(err)
	}
	types := func(rows *sql.Rows, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ct := range cts {
			out = append(out, ct.DatabaseTypeName()+" "+ct.ScanType().String())
		}
		return out
	}
	const q = `SELECT k, v FROM t`
	s, err := db.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prepared := types(s.Query())
	if got := types(db.Query(q)); fmt.Sprint(got) != fmt.Sprint(prepared) || got[0] != "INTEGER int64" {
		t.Errorf("expect the column types %v, got %v", prepared, got)
	}
}
