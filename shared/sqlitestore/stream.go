package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/record"
)

// deliveredSeq is the cursor, in a query.
const deliveredSeq = `(SELECT seq FROM stream_cursor WHERE id=1)`

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

func addStream(ctx context.Context, tx *sql.Tx, region, table, event, k string, old, new sql.NullString) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO stream(region,tbl,event,k,old,new,at) VALUES(?,?,?,?,?,?,?)`,
		region, table, event, k, old, new, ts(time.Now()))
	return err
}

// StreamRecord is one change of a local table, as DynamoDB Streams reports it.
type StreamRecord struct {
	Seq    int64
	Region string
	Table  string
	Event  string // INSERT | MODIFY | REMOVE
	Key    record.Key
	Old    record.Item
	New    record.Item
	At     time.Time
}

// PendingStream returns up to limit undelivered stream records, oldest first.
func (s *Store) PendingStream(ctx context.Context, limit int) ([]StreamRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq,region,tbl,event,k,old,new,at FROM stream WHERE seq > `+deliveredSeq+` ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	defer rows.Close()
	var out []StreamRecord
	for rows.Next() {
		var r StreamRecord
		var k, at string
		var old, new sql.NullString
		if err := rows.Scan(&r.Seq, &r.Region, &r.Table, &r.Event, &k, &old, &new, &at); err != nil {
			return nil, fmt.Errorf("read stream: %w", err)
		}
		if r.Key, err = record.ParseKey(k); err != nil {
			return nil, fmt.Errorf("read stream seq %d: %w", r.Seq, err)
		}
		if old.Valid {
			if r.Old, err = decodeItem(old.String); err != nil {
				return nil, fmt.Errorf("read stream seq %d: %w", r.Seq, err)
			}
		}
		if new.Valid {
			if r.New, err = decodeItem(new.String); err != nil {
				return nil, fmt.Errorf("read stream seq %d: %w", r.Seq, err)
			}
		}
		r.At = parseTS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkDelivered marks every stream record up to seq as delivered.
func (s *Store) MarkDelivered(ctx context.Context, seq int64) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE stream_cursor SET seq=max(seq, ?) WHERE id=1`, seq); err != nil {
		return fmt.Errorf("mark stream delivered: %w", err)
	}
	return nil
}
