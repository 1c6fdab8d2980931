package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/record"
)

// The platform's watched tables, one per region, each with a change stream.
// Errors name the region and table, never the record key: keys often embed a
// subject (USER#u-1001), and errors reach logs.

// GetItem returns the item stored under key in region's table, or ErrNotFound.
func (s *Store) GetItem(ctx context.Context, region, table string, key record.Key) (record.Item, error) {
	raw, err := storedItem(ctx, s.db, region, table, key.String())
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	return decodeItem(raw)
}

// storedItem reads the stored text of the item under k in region's table, or
// ErrNotFound.
func storedItem(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, region, table, k string) (string, error) {
	var item string
	err := q.QueryRowContext(ctx, `SELECT item FROM items WHERE region=? AND tbl=? AND k=?`, region, table, k).Scan(&item)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return item, err
}

// PutItem writes item under key in region's table and appends the change to
// the table's stream (INSERT or MODIFY with old and new images). With
// ifAbsent, it fails with ErrConditionFailed when an item exists.
func (s *Store) PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error {
	return s.putItem(ctx, region, table, key, item, ifAbsent, true)
}

// ReplayWrite applies a write the platform made (as a replayed stream record
// says) without adding a stream record: the replayed record itself is
// delivered instead. A nil item deletes.
func (s *Store) ReplayWrite(ctx context.Context, region, table string, key record.Key, item record.Item) error {
	if item == nil {
		err := s.deleteItem(ctx, region, table, key, "", false)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	return s.putItem(ctx, region, table, key, item, false, false)
}

func (s *Store) putItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent, emit bool) error {
	k := key.String()
	b, err := item.AppendJSON(nil)
	if err != nil {
		return fmt.Errorf("put %s/%s: encode item: %w", region, table, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var old sql.NullString
		stored, err := storedItem(ctx, tx, region, table, k)
		switch {
		case err == nil:
			old = sql.NullString{String: stored, Valid: true}
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if old.Valid && ifAbsent {
			return ErrConditionFailed
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO items(region,tbl,k,item) VALUES(?,?,?,?)
			ON CONFLICT(region,tbl,k) DO UPDATE SET item=excluded.item`, region, table, k, string(b)); err != nil {
			return err
		}
		if !emit {
			return nil
		}
		event := "INSERT"
		if old.Valid {
			event = "MODIFY"
		}
		return addStream(ctx, tx, region, table, event, k, old, sql.NullString{String: string(b), Valid: true})
	})
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	return nil
}

// UpdateTag sets the residency tag attribute of an existing item, leaving its
// other attributes alone. It fails with ErrNotFound when the item is gone, so
// a deleted record is never resurrected by its tag.
func (s *Store) UpdateTag(ctx context.Context, region, table string, key record.Key, tag record.Tag) error {
	return s.updateItem(ctx, region, table, key, func(it record.Item) { it[record.TagAttribute] = tag.Map() })
}

func (s *Store) updateItem(ctx context.Context, region, table string, key record.Key, mut func(record.Item)) error {
	k := key.String()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		old, err := storedItem(ctx, tx, region, table, k)
		if err != nil {
			return err
		}
		it, err := decodeItem(old)
		if err != nil {
			return err
		}
		mut(it)
		b, err := it.AppendJSON(nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE items SET item=? WHERE region=? AND tbl=? AND k=?`, string(b), region, table, k); err != nil {
			return err
		}
		return addStream(ctx, tx, region, table, "MODIFY", k, sql.NullString{String: old, Valid: true}, sql.NullString{String: string(b), Valid: true})
	})
	if err != nil {
		return fmt.Errorf("update %s/%s: %w", region, table, err)
	}
	return nil
}

// DeleteItem deletes the item under key. When retainUntil is not empty, the
// delete happens only if the item's residency tag still carries that
// retain_until (ErrConditionFailed otherwise), so a record that changed since
// it was found due is re-evaluated instead of deleted.
func (s *Store) DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error {
	return s.deleteItem(ctx, region, table, key, retainUntil, true)
}

func (s *Store) deleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string, emit bool) error {
	k := key.String()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		old, err := storedItem(ctx, tx, region, table, k)
		if err != nil {
			return err
		}
		if retainUntil != "" {
			it, err := decodeItem(old)
			if err != nil {
				return err
			}
			if tag, _ := record.TagOf(it); tag.RetainUntil != retainUntil {
				return ErrConditionFailed
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM items WHERE region=? AND tbl=? AND k=?`, region, table, k); err != nil {
			return err
		}
		if !emit {
			return nil
		}
		return addStream(ctx, tx, region, table, "REMOVE", k, sql.NullString{String: old, Valid: true}, sql.NullString{})
	})
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", region, table, err)
	}
	return nil
}

// CountItems returns how many items region's table holds.
func (s *Store) CountItems(ctx context.Context, region, table string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM items WHERE region=? AND tbl=?`, region, table).Scan(&n)
	return n, err
}

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
	return s.updateTags(ctx, region, table, writes, true)
}

// BackfillTags is UpdateTags without stream records, for the tag writes of
// a local backfill: on AWS their stream records go to the tagger that made
// them, which ignores them (the tag is the one it just wrote, DESIGN §3),
// and the local stream has no other consumer. Writing and delivering them
// would be most of a backfill's work for nothing.
func (s *Store) BackfillTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error) {
	return s.updateTags(ctx, region, table, writes, false)
}

func (s *Store) updateTags(ctx context.Context, region, table string, writes []record.TagWrite, stream bool) ([]error, error) {
	errs := make([]error, len(writes))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		at := ts(time.Now())
		tags := map[record.Tag][]byte{} // a batch's tags are mostly alike
		var buf, room []byte
		for start := 0; start < len(writes); start += chunkRows {
			chunk := writes[start:min(len(writes), start+chunkRows)]
			keys := make([]string, len(chunk))
			for i, w := range chunk {
				keys[i] = w.Key.String()
			}
			items, err := stmts.taggedItems(region, table, keys, false)
			if err != nil {
				return err
			}
			var upserts, streamed []any
			for i, w := range chunk {
				stored, ok := items[keys[i]]
				old := stored.item
				if !ok {
					errs[start+i] = fmt.Errorf("tag %s/%s: %w", region, table, ErrNotFound)
					continue
				}
				tag, ok := tags[w.Tag]
				if !ok {
					if tag, err = w.Tag.JSON(); err != nil {
						return err
					}
					tags[w.Tag] = tag
				}
				// Set the attribute in the stored text: decoding and
				// encoding the whole item would cost more than the rest of
				// the write.
				if buf, room, err = tagged(buf[:0], room, []byte(old), tag, w); err != nil {
					errs[start+i] = fmt.Errorf("tag %s/%s: stored item is corrupt: %w", region, table, err)
					continue
				}
				item := string(buf)
				items[keys[i]] = taggedItem{item: item} // a key written twice in a batch
				upserts = append(upserts, region, table, keys[i], item)
				if stream {
					streamed = append(streamed, region, table, "MODIFY", keys[i], old, item, at)
				}
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
			conditional := false
			for i, d := range chunk {
				keys[i] = d.Key.String()
				conditional = conditional || d.RetainUntil != ""
			}
			items, err := stmts.taggedItems(region, table, keys, conditional)
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

// GetItems reads the items under keys in region's table, chunkRows keys a
// statement: out[i] is the item under keys[i], nil when there is none.
func (s *Store) GetItems(ctx context.Context, region, table string, keys []record.Key) ([]record.Item, error) {
	out := make([]record.Item, len(keys))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		for start := 0; start < len(keys); start += chunkRows {
			chunk := keys[start:min(len(keys), start+chunkRows)]
			ks := make([]string, len(chunk))
			for i, k := range chunk {
				ks[i] = k.String()
			}
			items, err := stmts.taggedItems(region, table, ks, false)
			if err != nil {
				return err
			}
			for i, k := range ks {
				if it, ok := items[k]; ok {
					if out[start+i], err = decodeItem(it.item); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	return out, nil
}

// PutItems writes a batch of items in region's table in one transaction,
// chunkRows at a time, each as PutItem does (with IfAbsent, only where no
// item is); per-item errors are in the slice. Each write goes to the stream
// (INSERT or MODIFY), in the batch's order.
func (s *Store) PutItems(ctx context.Context, region, table string, puts []record.Put) ([]error, error) {
	errs := make([]error, len(puts))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		stmts := newStmts(ctx, tx)
		defer stmts.close()
		at := ts(time.Now())
		for start := 0; start < len(puts); start += chunkRows {
			chunk := puts[start:min(len(puts), start+chunkRows)]
			keys := make([]string, len(chunk))
			for i, p := range chunk {
				keys[i] = p.Key.String()
			}
			stored, err := stmts.taggedItems(region, table, keys, false)
			if err != nil {
				return err
			}
			var rows, streamed []any
			written := map[string]bool{} // a key twice in the chunk: an upsert may not name a row twice
			for i, p := range chunk {
				b, err := p.Item.AppendJSON(nil)
				if err != nil {
					errs[start+i] = fmt.Errorf("put %s/%s: encode item: %w", region, table, err)
					continue
				}
				old, had := stored[keys[i]]
				if had && p.IfAbsent {
					errs[start+i] = fmt.Errorf("put %s/%s: %w", region, table, ErrConditionFailed)
					continue
				}
				event, oldItem := "INSERT", sql.NullString{}
				if had {
					event, oldItem = "MODIFY", sql.NullString{String: old.item, Valid: true}
				}
				// A key twice in a batch: the second sees the first.
				stored[keys[i]] = taggedItem{item: string(b)}
				if written[keys[i]] {
					// The rows so far first; this one starts the next upsert.
					if err := stmts.exec(upsertItems, 4, rows); err != nil {
						return err
					}
					rows, written = rows[:0], map[string]bool{}
				}
				written[keys[i]] = true
				rows = append(rows, region, table, keys[i], string(b))
				streamed = append(streamed, region, table, event, keys[i], oldItem, string(b), at)
			}
			if len(rows) == 0 {
				continue
			}
			if err := stmts.exec(upsertItems, 4, rows); err != nil {
				return err
			}
			if err := stmts.exec(insertStream, 7, streamed); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	return errs, nil
}

type taggedItem struct{ item, retainUntil string }

// taggedItems returns the stored items of keys in region's table (absent
// keys are missing from the map), with each item's tag's retain_until when
// withRetain (else ""), read by SQLite rather than by decoding the item.
func (st *stmts) taggedItems(region, table string, keys []string, withRetain bool) (map[string]taggedItem, error) {
	// Reading the tag's retain-until parses each item's JSON in SQLite:
	// only a conditional deletion needs it.
	retain := `''`
	if withRetain {
		retain = `coalesce(json_extract(item, '$.` + record.TagAttribute + `.retain_until'), '')`
	}
	s, err := st.prepare(`SELECT k, item, ` + retain + `
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

// ScanItems reads one page of a parallel scan of region's table, as a
// DynamoDB Scan with Segment and TotalSegments would: up to limit items of
// segment (0 <= segment < segments; a key's segment is a hash of it) after
// cursor ("" starts the segment), in key order, with the cursor of the next
// page ("" when the segment is read to its end).
func (s *Store) ScanItems(ctx context.Context, region, table string, segment, segments int, cursor string, limit int) ([]record.Item, string, error) {
	segments = max(segments, 1)
	var out []record.Item
	after := cursor
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT k, item FROM items WHERE region=? AND tbl=? AND k>? ORDER BY k LIMIT ?`, region, table, after, limit)
		if err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
		}
		n := 0
		for len(out) < limit && rows.Next() {
			var k, raw string
			if err := rows.Scan(&k, &raw); err != nil {
				rows.Close()
				return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
			}
			n++
			after = k
			if scanSegment(k, segments) != segment {
				continue
			}
			it, err := decodeItem(raw)
			if err != nil {
				rows.Close()
				return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
			}
			out = append(out, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
		}
		switch {
		case len(out) == limit:
			return out, after, nil
		case n < limit:
			return out, "", nil // the table is read to its end
		}
	}
}

// scanSegment is the segment of a stored key among segments.
func scanSegment(k string, segments int) int {
	h := fnv.New32a()
	h.Write([]byte(k))
	return int(h.Sum32() % uint32(segments))
}
