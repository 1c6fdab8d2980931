package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DeadLetter is what the local runtime keeps of an event or record a
// function could not process, as a dead-letter queue or on-failure
// destination would on AWS.
type DeadLetter struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Function string    `json:"function"`
	Region   string    `json:"region"`
	Item     string    `json:"item"` // the event id or stream sequence number
	Reason   string    `json:"reason"`
	// Payload is what the function was delivered (for a stream record, a
	// batch of that record alone), so that it can be redelivered; empty for
	// letters kept before payloads were. It may hold personal data, as the
	// tables do: it is never listed.
	Payload json.RawMessage `json:"-"`
}

// AddDeadLetter keeps a failure.
func (s *Store) AddDeadLetter(ctx context.Context, d DeadLetter) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO dead_letters(at,function,region,item,reason,payload) VALUES(?,?,?,?,?,?)`,
		ts(d.At), d.Function, d.Region, d.Item, d.Reason, string(d.Payload))
	if err != nil {
		return fmt.Errorf("keep dead letter: %w", err)
	}
	return nil
}

// DeadLetters returns the kept failures, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id,at,function,region,item,reason,payload FROM dead_letters ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var at, payload string
		if err := rows.Scan(&d.ID, &at, &d.Function, &d.Region, &d.Item, &d.Reason, &payload); err != nil {
			return nil, err
		}
		d.At = parseTS(at)
		if payload != "" {
			d.Payload = json.RawMessage(payload)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// UpdateDeadLetter records that dead letter id failed again, at at, for
// reason.
func (s *Store) UpdateDeadLetter(ctx context.Context, id int64, at time.Time, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE dead_letters SET at=?, reason=? WHERE id=?`, ts(at), reason, id)
	if err != nil {
		return fmt.Errorf("update dead letter %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update dead letter %d: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteDeadLetter removes dead letter id, once redelivered with success.
func (s *Store) DeleteDeadLetter(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM dead_letters WHERE id=?`, id); err != nil {
		return fmt.Errorf("delete dead letter %d: %w", id, err)
	}
	return nil
}
