package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/group"
	"github.com/residency-dev/residency/shared/record"
)

// PutEntries inserts or replaces catalog entries, in one transaction. The
// columns a batch's entries mostly share (one region and source, one
// policy, mostly one decision) are bound once for each group of entries
// that share them, and the five that differ entry by entry (key, subject,
// contract, tagging time, retain-until) a chunk of rows per statement:
// binding a value costs about as much as SQLite's work to store it, and
// this binds a third as many. An entry given twice is stored as given last.
func (s *Store) PutEntries(ctx context.Context, entries []catalog.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		for _, g := range entryGroups(entries) {
			if err := stmts.execShared(putEntries, g.shared, 5, g.rows); err != nil {
				return fmt.Errorf("put catalog entries: %w", err)
			}
		}
		return nil
	})
}

// putEntries writes rows of (k, subject_ref, contract, tagged_at,
// retain_until) with the group's shared columns as ?1 to ?11.
const putEntries = `INSERT OR REPLACE INTO catalog(` + entryCols + `) SELECT ?1, ?2, column1, ?3, column2, ?4, column3, ?5, ?6, ?7, ?8, ?9, column4, column5, ?10, ?11 FROM (VALUES %s)`

// entryShared is the columns of an entry that putEntries binds once for
// a group.
type entryShared struct {
	region, source, sourceKind, category, origin, home, jurisdiction, status, policyVersion, erasure string
	reapplied                                                                                        bool
}

func (e entryShared) args() []any {
	return []any{e.region, e.source, e.sourceKind, e.category, e.origin, e.home, e.jurisdiction, e.status, e.policyVersion, e.erasure, e.reapplied}
}

// entryGroup is entries that share their entryShared columns: those, and
// the rest of each entry's columns, a row after the other.
type entryGroup struct {
	shared []any
	rows   []any
}

// entryGroups groups entries by their shared columns, each entry once (the
// last given of a key: INSERT OR REPLACE would leave it), the groups in
// the order of their first entry and each group's rows in the entries'.
func entryGroups(entries []catalog.Entry) []entryGroup {
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key.String()
	}
	isLast := lastOfEachKey(entries, keys)
	var groups []entryGroup
	at := map[entryShared]int{} // -> index in groups
	var prev entryShared        // of the entry before, in group g
	g := -1
	var taggedAt time.Time // the entry before's, formatted as tagged
	var tagged string
	for i, e := range entries {
		if !isLast(i) {
			continue
		}
		// A batch's entries mostly share their columns with the one before.
		sh := entryShared{e.Region, e.Source, e.SourceKind, e.Category, e.OriginRegion, e.HomeRegion, e.Jurisdiction, e.Status, e.PolicyVersion, e.Erasure, e.Reapplied}
		if g < 0 || sh != prev {
			var ok bool
			if g, ok = at[sh]; !ok {
				g = len(groups)
				at[sh] = g
				var rows []any
				if len(groups) == 0 { // most of a batch, mostly
					rows = make([]any, 0, 5*(len(entries)-i))
				}
				groups = append(groups, entryGroup{shared: sh.args(), rows: rows})
			}
			prev = sh
		}
		if tagged == "" || !e.TaggedAt.Equal(taggedAt) {
			taggedAt, tagged = e.TaggedAt, ts(e.TaggedAt)
		}
		groups[g].rows = append(groups[g].rows, keys[i], e.SubjectRef, e.Contract, tagged, dueTS(e.RetainUntil))
	}
	return groups
}

// lastOfEachKey says whether entries[i] is the last of its region,
// source and key (keys[i] is its key's text).
func lastOfEachKey(entries []catalog.Entry, keys []string) func(i int) bool {
	one := true // one region and source, as a batch mostly is: keys alone tell
	for _, e := range entries {
		one = one && e.Region == entries[0].Region && e.Source == entries[0].Source
	}
	if one {
		last := make(map[string]int, len(entries))
		for i, k := range keys {
			last[k] = i
		}
		return func(i int) bool { return last[keys[i]] == i }
	}
	last := make(map[[3]string]int, len(entries))
	for i, e := range entries {
		last[[3]string{e.Region, e.Source, keys[i]}] = i
	}
	return func(i int) bool { return last[[3]string{entries[i].Region, entries[i].Source, keys[i]}] == i }
}

const entryCols = `region,source,k,source_kind,subject_ref,category,contract,origin_region,home_region,jurisdiction,status,policy_version,tagged_at,retain_until,erasure,reapplied`

// scanEntries reads the entries of rows; size is how many to make room
// for (at most 10,000).
func scanEntries(rows *sql.Rows, size int) ([]catalog.Entry, error) {
	defer rows.Close()
	var out []catalog.Entry
	if size > 0 {
		out = make([]catalog.Entry, 0, min(size, 10000))
	}
	for rows.Next() {
		var e catalog.Entry
		var k, tagged, due string
		if err := rows.Scan(&e.Region, &e.Source, &k, &e.SourceKind, &e.SubjectRef, &e.Category, &e.Contract, &e.OriginRegion,
			&e.HomeRegion, &e.Jurisdiction, &e.Status, &e.PolicyVersion, &tagged, &due, &e.Erasure, &e.Reapplied); err != nil {
			return nil, err
		}
		var err error
		if e.Key, err = record.ParseKey(k); err != nil {
			return nil, err
		}
		e.TaggedAt, e.RetainUntil = parseTS(tagged), parseTS(due)
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetEntry returns one catalog entry, or ErrNotFound.
func (s *Store) GetEntry(ctx context.Context, region, source string, key record.Key) (catalog.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM catalog WHERE region=? AND source=? AND k=?`, region, source, key.String())
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("get catalog entry: %w", err)
	}
	es, err := scanEntries(rows, 1)
	if err != nil {
		return catalog.Entry{}, fmt.Errorf("get catalog entry: %w", err)
	}
	if len(es) == 0 {
		return catalog.Entry{}, fmt.Errorf("catalog entry %s/%s: %w", region, source, ErrNotFound)
	}
	return es[0], nil
}

// Catalogued reports which of keys of source have an entry in region's
// catalog, by key.String().
func (s *Store) Catalogued(ctx context.Context, region, source string, keys []record.Key) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(keys, 500) {
		args := []any{region, source}
		for _, k := range chunk {
			args = append(args, k.String())
		}
		rows, err := s.db.QueryContext(ctx, `SELECT k FROM catalog WHERE region=? AND source=? AND k IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("catalogued entries: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("catalogued entries: %w", err)
			}
			out[k] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("catalogued entries: %w", err)
		}
	}
	return out, nil
}

// DueEntries returns up to limit entries of region whose retain-until is at
// or before now, after the cursor, in (retain_until, source, key) order, and
// the cursor to continue from. It reads the due index only: the items it
// reads are the items it returns.
func (s *Store) DueEntries(ctx context.Context, region string, now time.Time, after catalog.Cursor, limit int) ([]catalog.Entry, catalog.Cursor, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM catalog
		WHERE region=? AND retain_until != '' AND retain_until <= ? AND (retain_until, source, k) > (?, ?, ?)
		ORDER BY retain_until, source, k LIMIT ?`, region, dueTS(now), dueTS(after.RetainUntil), after.Source, keyOrEmpty(after.Key), limit)
	if err != nil {
		return nil, after, fmt.Errorf("due entries in %s: %w", region, err)
	}
	es, err := scanEntries(rows, limit)
	if err != nil {
		return nil, after, fmt.Errorf("due entries in %s: %w", region, err)
	}
	if len(es) > 0 {
		after = catalog.After(es[len(es)-1])
	}
	return es, after, nil
}

func keyOrEmpty(k record.Key) string {
	if k == nil {
		return ""
	}
	return k.String()
}

// EntriesBySubject returns region's entries of one subject reference.
func (s *Store) EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM catalog WHERE region=? AND subject_ref=? ORDER BY source, k`, region, subjectRef)
	if err != nil {
		return nil, fmt.Errorf("entries by subject in %s: %w", region, err)
	}
	return scanEntries(rows, 0)
}

// EntriesByContract returns region's entries linked to a contract.
func (s *Store) EntriesByContract(ctx context.Context, region, contract string) ([]catalog.Entry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+entryCols+` FROM catalog WHERE region=? AND contract=? ORDER BY source, k`, region, contract)
	if err != nil {
		return nil, fmt.Errorf("entries by contract in %s: %w", region, err)
	}
	return scanEntries(rows, 0)
}

// CountEntries returns how many catalog entries region holds.
func (s *Store) CountEntries(ctx context.Context, region string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM catalog WHERE region=?`, region).Scan(&n)
	return n, err
}

// CountSourceEntries returns how many catalog entries source holds in
// region.
func (s *Store) CountSourceEntries(ctx context.Context, region, source string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM catalog WHERE region=? AND source=?`, region, source).Scan(&n)
	return n, err
}

// DropCatalogIndexes drops the catalog's indexes on due dates, subjects
// and contracts (catalog_indexes.sql), for a bulk load: an entry written
// then costs one B-tree insert instead of four, two of them at random
// places (keyed subject references are random), which is most of a
// backfill's store time; building them once at the end from sorted rows
// costs less. Until BuildCatalogIndexes, sweeps, erasures and contract ends
// still find what they look for (SQLite scans the catalog instead), only
// slower. A store opened after a load that was killed before building them
// builds them.
func (s *Store) DropCatalogIndexes(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `DROP INDEX IF EXISTS catalog_due; DROP INDEX IF EXISTS catalog_subject; DROP INDEX IF EXISTS catalog_contract;`); err != nil {
		return fmt.Errorf("drop the catalog's indexes: %w", err)
	}
	return nil
}

// BuildCatalogIndexes builds the indexes DropCatalogIndexes dropped; it
// does nothing for those that exist.
func (s *Store) BuildCatalogIndexes(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, catalogIndexes); err != nil {
		return fmt.Errorf("build the catalog's indexes: %w", err)
	}
	return nil
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

// bySource groups entries by region and source, in order of first
// appearance (a sweep page of one table is one group, not a copy).
func bySource(entries []catalog.Entry) [][]catalog.Entry {
	return group.By(entries, func(e catalog.Entry) [2]string { return [2]string{e.Region, e.Source} })
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

// MarkErased puts subjects on region's erased list (replacing an earlier
// request's mark), in one transaction.
func (s *Store) MarkErased(ctx context.Context, region string, erased []catalog.Erased) error {
	if len(erased) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range erased {
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO erased(region,subject_ref,request_id,erased_at) VALUES(?,?,?,?)`,
				region, e.SubjectRef, e.RequestID, ts(e.ErasedAt)); err != nil {
				return fmt.Errorf("mark erased in %s: %w", region, err)
			}
		}
		return nil
	})
}

// ErasedAmong returns which of subjectRefs are on region's erased list.
func (s *Store) ErasedAmong(ctx context.Context, region string, subjectRefs []string) (map[string]catalog.Erased, error) {
	out := map[string]catalog.Erased{}
	if len(subjectRefs) == 0 {
		return out, nil
	}
	// Most regions have erased nobody, or few: one probe of the list spares
	// a batch's IN lists (SQLite sorts each into a table of its own first).
	var some bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM erased WHERE region=?)`, region).Scan(&some); err != nil {
		return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
	}
	if !some {
		return out, nil
	}
	for chunk := range slices.Chunk(subjectRefs, 500) {
		args := []any{region}
		for _, r := range chunk {
			args = append(args, r)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT subject_ref,request_id,erased_at FROM erased WHERE region=? AND subject_ref IN (?`+
			strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
		}
		for rows.Next() {
			var e catalog.Erased
			var at string
			if err := rows.Scan(&e.SubjectRef, &e.RequestID, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
			}
			e.ErasedAt = parseTS(at)
			out[e.SubjectRef] = e
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
		}
	}
	return out, nil
}
