package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// SetHold records a legal hold; setting the same hold again replaces it.
func (s *Store) SetHold(ctx context.Context, h catalog.Hold) error {
	k := ""
	if len(h.Key) > 0 {
		k = h.Key.String()
	}
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO holds(hold_id,subject_ref,source,k,reason,set_at) VALUES(?,?,?,?,?,?)`,
		h.ID, h.SubjectRef, h.Source, k, h.Reason, ts(h.SetAt))
	if err != nil {
		return fmt.Errorf("set hold %s: %w", h.ID, err)
	}
	return nil
}

// ReleaseHold removes a hold; it reports whether the hold existed.
func (s *Store) ReleaseHold(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM holds WHERE hold_id=?`, id)
	if err != nil {
		return false, fmt.Errorf("release hold %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// EndContract records when a contract ended.
func (s *Store) EndContract(ctx context.Context, contract string, endedAt time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO contracts(contract,ended_at) VALUES(?,?)`, contract, ts(endedAt))
	if err != nil {
		return fmt.Errorf("end contract: %w", err)
	}
	return nil
}

// ContractEnd returns when a contract ended, or the zero time.
func (s *Store) ContractEnd(ctx context.Context, contract string) (time.Time, error) {
	if contract == "" {
		return time.Time{}, nil
	}
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT ended_at FROM contracts WHERE contract=?`, contract).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("contract end: %w", err)
	}
	return parseTS(at), nil
}

// ListHolds returns the legal holds in force, by id.
func (s *Store) ListHolds(ctx context.Context) ([]catalog.Hold, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hold_id,subject_ref,source,k,reason,set_at FROM holds ORDER BY hold_id`)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	defer rows.Close()
	var out []catalog.Hold
	for rows.Next() {
		var h catalog.Hold
		var k, at string
		if err := rows.Scan(&h.ID, &h.SubjectRef, &h.Source, &k, &h.Reason, &at); err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		if k != "" {
			if h.Key, err = record.ParseKey(k); err != nil {
				return nil, fmt.Errorf("list holds: hold %s: %w", h.ID, err)
			}
		}
		h.SetAt = parseTS(at)
		out = append(out, h)
	}
	return out, rows.Err()
}

// HoldsOn returns, for each entry, the id of a hold covering its subject or
// the record itself (the smallest id when several do), or "". It reads the
// holds of a chunk of entries with one query.
func (s *Store) HoldsOn(ctx context.Context, entries []catalog.Entry) ([]string, error) {
	out := make([]string, len(entries))
	for start := 0; start < len(entries); start += chunkRows {
		chunk := entries[start:min(len(entries), start+chunkRows)]
		var subjects, keys []any
		for _, e := range chunk {
			if e.SubjectRef != "" {
				subjects = append(subjects, e.SubjectRef)
			}
			keys = append(keys, e.Key.String())
		}
		q := `SELECT hold_id, subject_ref, source, k FROM holds WHERE k != '' AND k IN (?` + strings.Repeat(",?", len(keys)-1) + `)`
		args := keys
		if len(subjects) > 0 {
			q += ` UNION ALL SELECT hold_id, subject_ref, source, k FROM holds WHERE subject_ref != '' AND subject_ref IN (?` +
				strings.Repeat(",?", len(subjects)-1) + `)`
			args = append(args, subjects...)
		}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("look up holds: %w", err)
		}
		bySubject, byRecord := map[string]string{}, map[[2]string]string{}
		for rows.Next() {
			var id, subject, source, k string
			if err := rows.Scan(&id, &subject, &source, &k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("look up holds: %w", err)
			}
			if subject != "" {
				keepMin(bySubject, subject, id)
			}
			if k != "" {
				keepMin(byRecord, [2]string{source, k}, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("look up holds: %w", err)
		}
		for i, e := range chunk {
			if e.SubjectRef != "" {
				if id, ok := bySubject[e.SubjectRef]; ok {
					out[start+i] = id
				}
			}
			if id, ok := byRecord[[2]string{e.Source, e.Key.String()}]; ok && (out[start+i] == "" || id < out[start+i]) {
				out[start+i] = id
			}
		}
	}
	return out, nil
}

// keepMin keeps in m the smallest id seen for k.
func keepMin[K comparable](m map[K]string, k K, id string) {
	if old, ok := m[k]; !ok || id < old {
		m[k] = id
	}
}
