package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// The retention sweep's batch operations: a page of due entries costs a few
// statements, not a transaction per record.

// holdsSchema indexes holds by what they cover, for HoldsOn.
const holdsSchema = `
CREATE INDEX IF NOT EXISTS holds_subject ON holds (subject_ref) WHERE subject_ref != '';
CREATE INDEX IF NOT EXISTS holds_record ON holds (k, source) WHERE k != '';
`

// DeleteItems deletes a batch of region's table's items in one transaction,
// each as DeleteItem would: with a RetainUntil, only if the item's tag still
// carries it. A gone item gets ErrNotFound in its slot, a changed one
// ErrConditionFailed; the second result is an error of the whole batch. Each
// deletion goes to the stream as a REMOVE with the old image.
func (s *Store) DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error) {
	errs := make([]error, len(dels))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		at := ts(time.Now())
		for start := 0; start < len(dels); start += chunkRows {
			chunk := dels[start:min(len(dels), start+chunkRows)]
			keys := make([]string, len(chunk))
			for i, d := range chunk {
				keys[i] = d.Key.String()
			}
			items, err := stmts.taggedItems(region, table, keys)
			if err != nil {
				return err
			}
			var gone, streamed []any
			for i, d := range chunk {
				it, ok := items[keys[i]]
				switch {
				case !ok:
					errs[start+i] = fmt.Errorf("delete %s/%s: %w", region, table, ErrNotFound)
					continue
				case d.RetainUntil != "" && it.retainUntil != d.RetainUntil:
					errs[start+i] = fmt.Errorf("delete %s/%s: %w", region, table, ErrConditionFailed)
					continue
				}
				delete(items, keys[i]) // a key twice in a batch is gone the second time
				gone = append(gone, keys[i])
				streamed = append(streamed, region, table, "REMOVE", keys[i], it.item, nil, at)
			}
			if len(gone) == 0 {
				continue
			}
			q := `DELETE FROM items WHERE region=? AND tbl=? AND k IN (?` + strings.Repeat(",?", len(gone)-1) + `)`
			if err := stmts.exec(q, 0, append([]any{region, table}, gone...)); err != nil {
				return err
			}
			if err := stmts.exec(insertStream, 7, streamed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete %s/%s: %w", region, table, err)
	}
	return errs, nil
}

type taggedItem struct{ item, retainUntil string }

// taggedItems is items with each item's tag's retain_until, read by SQLite
// rather than by decoding the item.
func (st *stmts) taggedItems(region, table string, keys []string) (map[string]taggedItem, error) {
	s, err := st.prepare(`SELECT k, item, coalesce(json_extract(item, '$.` + record.TagAttribute + `.retain_until'), '')
		FROM items WHERE region=? AND tbl=? AND k IN (?` + strings.Repeat(",?", len(keys)-1) + `)`)
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryContext(st.ctx, append([]any{region, table}, anys(keys)...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]taggedItem, len(keys))
	for rows.Next() {
		var k string
		var it taggedItem
		if err := rows.Scan(&k, &it.item, &it.retainUntil); err != nil {
			return nil, err
		}
		out[k] = it
	}
	return out, rows.Err()
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// DeleteEntries removes catalog entries, in one transaction; absent ones are
// not an error.
func (s *Store) DeleteEntries(ctx context.Context, entries []catalog.Entry) error {
	if err := s.deleteEntries(ctx, entries, ""); err != nil {
		return fmt.Errorf("delete catalog entries: %w", err)
	}
	return nil
}

// deleteEntries deletes entries, a chunk of keys of one source per
// statement, those matching cond (an SQL condition with its args) only.
func (s *Store) deleteEntries(ctx context.Context, entries []catalog.Entry, cond string, condArgs ...any) error {
	if len(entries) == 0 {
		return nil
	}
	if cond != "" {
		cond = " AND " + cond
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		for _, group := range bySource(entries) {
			for start := 0; start < len(group); start += chunkRows {
				chunk := group[start:min(len(group), start+chunkRows)]
				args := append([]any{chunk[0].Region, chunk[0].Source}, condArgs...)
				for _, e := range chunk {
					args = append(args, e.Key.String())
				}
				q := `DELETE FROM catalog WHERE region=? AND source=?` + cond + ` AND k IN (?` + strings.Repeat(",?", len(chunk)-1) + `)`
				if err := stmts.exec(q, 0, args); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// bySource groups entries by region and source, in order of first appearance.
func bySource(entries []catalog.Entry) [][]catalog.Entry {
	if !slices.ContainsFunc(entries, func(e catalog.Entry) bool { return e.Region != entries[0].Region || e.Source != entries[0].Source }) {
		return [][]catalog.Entry{entries} // a sweep page of one table: no copy
	}
	var out [][]catalog.Entry
	at := map[[2]string]int{}
	for _, e := range entries {
		g := [2]string{e.Region, e.Source}
		i, ok := at[g]
		if !ok {
			i = len(out)
			at[g] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
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

// RemoveDeleted removes the catalog entries of records deleted by at (the
// tagger, on their REMOVE stream records), except those due by then: a due
// record may have been deleted by a retention sweep that stopped before its
// receipt, and its entry is how the next sweep finds it and writes the
// receipt. Absent entries are not an error.
func (s *Store) RemoveDeleted(ctx context.Context, entries []catalog.Entry, at time.Time) error {
	if err := s.deleteEntries(ctx, entries, `(retain_until = '' OR retain_until > ?)`, dueTS(at)); err != nil {
		return fmt.Errorf("remove catalog entries: %w", err)
	}
	return nil
}
