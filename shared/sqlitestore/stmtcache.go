package sqlitestore

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"modernc.org/sqlite"
)

// stmtCacheSize is how many prepared statements a connection keeps. The
// store's queries are a few dozen texts, and its multi-row statements one
// text per number of rows (up to chunkRows): a batch's full chunks and its
// remainders stay prepared, and rarer shapes make room.
const stmtCacheSize = 256

// openDB opens dsn with the sqlite driver, each connection keeping the
// statements it prepared (see cachingConn).
func openDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

// cachingConnector opens connections that keep their prepared statements.
type cachingConnector struct{ driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, err := driverAs[sqliteConn](dc, "connection")
	if err != nil {
		return nil, err
	}
	return &cachingConn{sqliteConn: inner, byQuery: map[string]*list.Element{}, lru: list.New(), gone: map[*cachedStmt]bool{}}, nil
}

// sqliteConn is what database/sql uses of a modernc.org/sqlite connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is a connection that keeps up to stmtCacheSize of its
// prepared statements, least recently used out first, as rusqlite's
// prepare_cached does: the driver otherwise parses and plans each query
// text anew at each call (a statement of a hundred rows costs more to
// prepare than to run), and database/sql's own statements last one
// transaction. A statement is handed out to one user at a time (a query
// holds it until its rows close); a second user of the same text while it
// is out gets a statement of its own, finalized when closed. Every
// statement is reset when it is returned (the driver resets it after each
// run, and when its rows close), so a kept one holds no lock. database/sql
// uses a connection from one goroutine at a time, so the cache needs no
// lock of its own.
type cachingConn struct {
	sqliteConn
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently returned
	// gone is the statements evicted while out, finalized when returned
	// or when the connection closes.
	gone   map[*cachedStmt]bool
	closed bool // every statement it kept is finalized
}

// cachedStmt is a kept statement; as a driver.Stmt it is handed out, and
// its Close returns it to the cache.
type cachedStmt struct {
	c     *cachingConn
	query string
	si    stmt
	out   bool // handed out
	gone  bool // evicted while out: finalize when returned
}

// stmt is what database/sql uses of a modernc.org/sqlite statement.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cacheable says whether query can be kept: a script of several
// statements is prepared statement by statement at each run anyway.
func cacheable(query string) bool { return !strings.Contains(query, ";") }

// take returns a statement of query to use alone, and whether it is kept.
func (c *cachingConn) take(ctx context.Context, query string) (stmt, *cachedStmt, error) {
	if e, ok := c.byQuery[query]; ok {
		if cs := e.Value.(*cachedStmt); !cs.out {
			cs.out = true
			return cs.si, cs, nil
		}
	} else if cacheable(query) {
		si, err := c.prepare(ctx, query)
		if err != nil {
			return nil, nil, err
		}
		cs := &cachedStmt{c: c, query: query, si: si, out: true}
		c.byQuery[query] = c.lru.PushFront(cs)
		c.evict()
		return si, cs, nil
	}
	si, err := c.prepare(ctx, query)
	return si, nil, err
}

func (c *cachingConn) prepare(ctx context.Context, query string) (stmt, error) {
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return driverAs[stmt](ds, "statement")
}

// driverAs returns v, a connection or statement of the driver, as the
// interfaces T the store uses of it, or closes it and says it lacks them.
func driverAs[T any](v interface{ Close() error }, what string) (T, error) {
	t, ok := v.(T)
	if !ok {
		v.Close()
		return t, fmt.Errorf("sqlite %s %T lacks a driver interface the store needs", what, v)
	}
	return t, nil
}

// evict finalizes the least recently used statements beyond the cache's
// size; one that is out is finalized when it is returned.
func (c *cachingConn) evict() {
	for c.lru.Len() > stmtCacheSize {
		e := c.lru.Back()
		cs := c.lru.Remove(e).(*cachedStmt)
		delete(c.byQuery, cs.query)
		if cs.out {
			cs.gone = true
			c.gone[cs] = true
			continue
		}
		cs.si.Close()
	}
}

// give returns a statement taken with take.
func (c *cachingConn) give(si stmt, cs *cachedStmt) error {
	if cs == nil {
		return si.Close()
	}
	cs.out = false
	switch {
	case c.closed: // finalized with the connection
		return nil
	case cs.gone:
		delete(c.gone, cs)
		return si.Close()
	}
	c.lru.MoveToFront(c.byQuery[cs.query])
	return nil
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	si, cs, err := c.take(ctx, query)
	if err != nil || cs == nil {
		return si, err
	}
	return cs, nil
}

func (c *cachingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	si, cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := si.ExecContext(ctx, args)
	return res, errors.Join(err, c.give(si, cs))
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	si, cs, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := si.QueryContext(ctx, args)
	if err != nil {
		return nil, errors.Join(err, c.give(si, cs))
	}
	return &givingRows{Rows: rows, give: func() error { return c.give(si, cs) }}, nil
}

// Close finalizes the kept statements (those out too: database/sql closes
// a connection's statements first, but not after a commit or rollback that
// failed with driver.ErrBadConn), then closes the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for e := c.lru.Front(); e != nil; e = e.Next() {
		errs = append(errs, e.Value.(*cachedStmt).si.Close())
	}
	for cs := range c.gone {
		errs = append(errs, cs.si.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	clear(c.gone)
	c.closed = true
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// givingRows returns its statement when closed. It tells the columns'
// types as the driver's rows do (database/sql's ColumnTypes).
type givingRows struct {
	driver.Rows
	give func() error
}

func (r *givingRows) Close() error { return errors.Join(r.Rows.Close(), r.give()) }

func (r *givingRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *givingRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *givingRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *givingRows) ColumnTypeLength(i int) (length int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *givingRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (cs *cachedStmt) Close() error  { return cs.c.give(cs.si, cs) }
func (cs *cachedStmt) NumInput() int { return cs.si.NumInput() }

// Exec and Query complete driver.Stmt; database/sql calls the Context forms.
func (cs *cachedStmt) Exec(args []driver.Value) (driver.Result, error) { return cs.si.Exec(args) }

func (cs *cachedStmt) Query(args []driver.Value) (driver.Rows, error) { return cs.si.Query(args) }

func (cs *cachedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return cs.si.ExecContext(ctx, args)
}

func (cs *cachedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return cs.si.QueryContext(ctx, args)
}
