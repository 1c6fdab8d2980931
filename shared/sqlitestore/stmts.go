package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// chunkRows is how many rows a multi-row statement writes or reads: few
// statements per batch (each costs a few microseconds besides its rows),
// far below SQLite's limit of bound parameters.
const chunkRows = 100

// The multi-row statements, without their VALUES.
const (
	upsertItems  = `INSERT INTO items(region,tbl,k,item) VALUES %s ON CONFLICT(region,tbl,k) DO UPDATE SET item=excluded.item`
	insertStream = `INSERT INTO stream(region,tbl,event,k,old,new,at) VALUES %s`
	deleteItem   = `DELETE FROM items WHERE region=? AND tbl=? AND k=?`
)

// stmts prepares the statements of one transaction, once per number of rows.
type stmts struct {
	ctx context.Context
	tx  *sql.Tx
	byQ map[string]*sql.Stmt
}

func newStmts(ctx context.Context, tx *sql.Tx) *stmts {
	return &stmts{ctx: ctx, tx: tx, byQ: map[string]*sql.Stmt{}}
}

func (st *stmts) close() {
	for _, s := range st.byQ {
		s.Close()
	}
}

func (st *stmts) prepare(q string) (*sql.Stmt, error) {
	if s, ok := st.byQ[q]; ok {
		return s, nil
	}
	s, err := st.tx.PrepareContext(st.ctx, q)
	if err != nil {
		return nil, err
	}
	st.byQ[q] = s
	return s, nil
}

// exec runs query for args, cols values per row, chunkRows rows per
// statement. A query with a %s takes the VALUES rows there; one without runs
// once.
func (st *stmts) exec(query string, cols int, args []any) error {
	if !strings.Contains(query, "%s") {
		s, err := st.prepare(query)
		if err != nil {
			return err
		}
		_, err = s.ExecContext(st.ctx, args...)
		return err
	}
	return st.execShared(query, nil, cols, args)
}

// execShared runs query for rows of cols values, chunkRows rows per
// statement at the query's %s, each statement with the shared values
// first (the query's ?1 to ?len(shared)).
func (st *stmts) execShared(query string, shared []any, cols int, rows []any) error {
	args := make([]any, 0, len(shared)+cols*min(len(rows)/cols, chunkRows))
	for len(rows) > 0 {
		n := min(len(rows)/cols, chunkRows)
		s, err := st.prepare(fmt.Sprintf(query, valueRows(n, cols)))
		if err != nil {
			return err
		}
		args = append(append(args[:0], shared...), rows[:n*cols]...)
		if _, err := s.ExecContext(st.ctx, args...); err != nil {
			return err
		}
		rows = rows[n*cols:]
	}
	return nil
}

// valueRows is "(?,?),(?,?)..." for n rows of cols values.
func valueRows(n, cols int) string {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	return row + strings.Repeat(","+row, n-1)
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
