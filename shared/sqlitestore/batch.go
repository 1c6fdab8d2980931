package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/internal/jsontext"
	"github.com/residency-dev/residency/shared/record"
)

// streamSchema keeps what the stream pump has delivered as one cursor, the
// last delivered seq: marking a batch delivered is one small write, not a
// rewrite of each of its records. (Stores made before the cursor marked
// each record, always a prefix of the stream: the cursor starts after it,
// and the index that served those marks goes.)
const streamSchema = `
CREATE TABLE IF NOT EXISTS stream_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT OR IGNORE INTO stream_cursor(id, seq) SELECT 1, coalesce((SELECT max(seq) FROM stream WHERE delivered=1), 0);
DROP INDEX IF EXISTS stream_pending;
`

// deliveredSeq is the cursor, in a query.
const deliveredSeq = `(SELECT seq FROM stream_cursor WHERE id=1)`

// ReplayedWrite is one write the platform made to a table, as a replayed
// stream record says: the item as it is after the write, as a plain JSON
// object, or nil for a delete.
type ReplayedWrite struct {
	Region, Table string
	Key           record.Key
	Item          []byte
}

// ReplayWrites applies the writes of a replayed stream batch, in order and
// in one transaction, without adding stream records: the replayed records
// themselves are delivered instead. Deleting an absent item is not an error.
func (s *Store) ReplayWrites(ctx context.Context, writes []ReplayedWrite) error {
	if len(writes) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		var rows []any // the puts not yet written, in order
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			err := stmts.exec(upsertItems, 4, rows)
			rows = rows[:0]
			return err
		}
		for i, w := range writes {
			if w.Item != nil {
				rows = append(rows, w.Region, w.Table, w.Key.String(), string(w.Item))
				continue
			}
			if err := flush(); err != nil {
				return err
			}
			if err := stmts.exec(deleteItem, 3, []any{w.Region, w.Table, w.Key.String()}); err != nil {
				return fmt.Errorf("write %d: delete %s/%s: %w", i, w.Region, w.Table, err)
			}
		}
		return flush()
	})
	if err != nil {
		return fmt.Errorf("replay writes: %w", err)
	}
	return nil
}

// UpdateTags sets the residency tags of a batch of records in one
// transaction, and appends each change to the stream (a MODIFY with both
// images). A record that is gone gets ErrNotFound in its slot; the second
// result is an error of the whole batch. The items are read, written and
// streamed a chunk of rows per statement.
func (s *Store) UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error) {
	errs := make([]error, len(writes))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		at := ts(time.Now())
		tags := map[record.Tag][]byte{} // a batch's tags are mostly alike
		var buf, ttl []byte
		for start := 0; start < len(writes); start += chunkRows {
			chunk := writes[start:min(len(writes), start+chunkRows)]
			keys := make([]string, len(chunk))
			for i, w := range chunk {
				keys[i] = w.Key.String()
			}
			items, err := stmts.items(region, table, keys)
			if err != nil {
				return err
			}
			var upserts, streamed []any
			for i, w := range chunk {
				old, ok := items[keys[i]]
				if !ok {
					errs[start+i] = fmt.Errorf("tag %s/%s: %w", region, table, ErrNotFound)
					continue
				}
				tag, ok := tags[w.Tag]
				if !ok {
					if tag, err = json.Marshal(w.Tag.Map()); err != nil {
						return err
					}
					tags[w.Tag] = tag
				}
				// Set the attribute in the stored text: decoding and
				// encoding the whole item would cost more than the rest of
				// the write.
				if buf, err = withMember(buf[:0], old, record.TagAttribute, tag); err != nil {
					errs[start+i] = fmt.Errorf("tag %s/%s: %w", region, table, err)
					continue
				}
				if w.TTLAttribute != "" {
					if ttl, err = withTTL(ttl[:0], buf, w.TTLAttribute, w.TTL); err != nil {
						errs[start+i] = fmt.Errorf("tag %s/%s: %w", region, table, err)
						continue
					}
					buf, ttl = ttl, buf
				}
				item := string(buf)
				items[keys[i]] = item // a key written twice in a batch
				upserts = append(upserts, region, table, keys[i], item)
				streamed = append(streamed, region, table, "MODIFY", keys[i], old, item, at)
			}
			if err := stmts.exec(upsertItems, 4, upserts); err != nil {
				return err
			}
			if err := stmts.exec(insertStream, 7, streamed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tag %s/%s: %w", region, table, err)
	}
	return errs, nil
}

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
	for len(args) > 0 {
		n := min(len(args)/cols, chunkRows)
		s, err := st.prepare(fmt.Sprintf(query, valueRows(n, cols)))
		if err != nil {
			return err
		}
		if _, err := s.ExecContext(st.ctx, args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}

// items returns the stored items of keys in region's table (absent keys are
// missing from the map).
func (st *stmts) items(region, table string, keys []string) (map[string]string, error) {
	s, err := st.prepare(`SELECT k, item FROM items WHERE region=? AND tbl=? AND k IN (?` + strings.Repeat(",?", len(keys)-1) + `)`)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, 2+len(keys))
	args = append(args, region, table)
	for _, k := range keys {
		args = append(args, k)
	}
	rows, err := s.QueryContext(st.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]string, len(keys))
	for rows.Next() {
		var k, item string
		if err := rows.Scan(&k, &item); err != nil {
			return nil, err
		}
		out[k] = item
	}
	return out, rows.Err()
}

// valueRows is "(?,?),(?,?)..." for n rows of cols values.
func valueRows(n, cols int) string {
	row := "(?" + strings.Repeat(",?", cols-1) + ")"
	return row + strings.Repeat(","+row, n-1)
}

// RawStreamRecord is a stream record with its key and images as the store
// keeps them: plain JSON text (Old and New empty when absent).
type RawStreamRecord struct {
	Seq           int64
	Region, Table string
	Event         string // INSERT | MODIFY | REMOVE
	Key, Old, New string
	At            time.Time
}

// PendingStreamRaw is PendingStream without decoding the keys and images,
// for the stream pump, which passes them on as they are.
func (s *Store) PendingStreamRaw(ctx context.Context, limit int) ([]RawStreamRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq,region,tbl,event,k,coalesce(old,''),coalesce(new,''),at FROM stream WHERE seq > `+deliveredSeq+` ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	defer rows.Close()
	out := make([]RawStreamRecord, 0, limit)
	for rows.Next() {
		var r RawStreamRecord
		var at string
		if err := rows.Scan(&r.Seq, &r.Region, &r.Table, &r.Event, &r.Key, &r.Old, &r.New, &at); err != nil {
			return nil, fmt.Errorf("read stream: %w", err)
		}
		r.At = parseTS(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	return out, nil
}

// withTTL appends to dst the stored item with its TTL attribute name set to
// epoch seconds ttl, or without it when ttl is 0.
func withTTL(dst, item []byte, name string, ttl int64) ([]byte, error) {
	if ttl != 0 {
		return withMember(dst, string(item), name, strconv.AppendInt(nil, ttl, 10))
	}
	it, err := decodeItem(string(item))
	if err != nil {
		return dst, err
	}
	if _, ok := it[name]; !ok {
		return append(dst, item...), nil
	}
	delete(it, name)
	b, err := json.Marshal(it)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// withMember appends to dst the stored item old with its attribute name set
// to value (JSON text). An item the store cannot read is corrupt.
func withMember(dst []byte, old, name string, value []byte) ([]byte, error) {
	out, err := jsontext.SetMember(dst, []byte(old), name, value)
	if err != nil {
		return dst, fmt.Errorf("stored item is corrupt: %w", err)
	}
	return out, nil
}
