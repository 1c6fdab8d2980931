package sqlitestore

import (
	"context"
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
}

// AddDeadLetter keeps a failure.
func (s *Store) AddDeadLetter(ctx context.Context, d DeadLetter) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO dead_letters(at,function,region,item,reason) VALUES(?,?,?,?,?)`,
		ts(d.At), d.Function, d.Region, d.Item, d.Reason)
	if err != nil {
		return fmt.Errorf("keep dead letter: %w", err)
	}
	return nil
}

// DeadLetters returns the kept failures, oldest first.
func (s *Store) DeadLetters(ctx context.Context) ([]DeadLetter, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id,at,function,region,item,reason FROM dead_letters ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var at string
		if err := rows.Scan(&d.ID, &at, &d.Function, &d.Region, &d.Item, &d.Reason); err != nil {
			return nil, err
		}
		d.At = parseTS(at)
		out = append(out, d)
	}
	return out, rows.Err()
}
