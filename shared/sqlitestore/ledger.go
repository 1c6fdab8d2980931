package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/ledger"
)

const ledgerCols = `seq,id,time,kind,region,source,record,subject_ref,category,from_region,from_country,to_region,to_country,importer,mechanism,reference,decision,policy_version,actor,prev_hash,hash,exposed_ms`

func scanLedger(rows *sql.Rows, e *ledger.Entry) error {
	var t, kind string
	var exposed sql.NullInt64
	err := rows.Scan(&e.Seq, &e.ID, &t, &kind, &e.Region, &e.Source, &e.Record, &e.SubjectRef, &e.Category, &e.FromRegion, &e.FromCountry,
		&e.ToRegion, &e.ToCountry, &e.Importer, &e.Mechanism, &e.Reference, &e.Decision, &e.PolicyVersion, &e.Actor, &e.PrevHash, &e.Hash, &exposed)
	e.Time, e.Kind, e.ExposedMS = parseTS(t), ledger.Kind(kind), nil
	if exposed.Valid {
		e.ExposedMS = &exposed.Int64
	}
	return err
}

// Append links drafts onto region's chain in one transaction and returns the
// stored entries in order. A draft whose ID the chain already holds is not
// appended again: its stored entry is returned instead. The chain's unique
// id index finds those (a redelivery, rare): the insert of a draft whose id
// is taken does nothing, and only then is the stored entry read.
func (s *Store) Append(ctx context.Context, region string, drafts []ledger.Entry) ([]ledger.Entry, error) {
	out := make([]ledger.Entry, 0, len(drafts))
	err := s.tx(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		var head ledger.Head
		err := tx.QueryRowContext(ctx, `SELECT seq,hash FROM ledger WHERE region=? ORDER BY seq DESC LIMIT 1`, region).Scan(&head.Seq, &head.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO ledger(`+ledgerCols+`) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(region, id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		tree, err := treeBuilder(ctx, tx, region, head.Seq)
		if err != nil {
			return err
		}
		var treeRows []any // region, seq, nodes of each new entry
		seen := make(map[string]int, len(drafts))
		for _, d := range drafts {
			if d.Region != region {
				return fmt.Errorf("%w: entry %s is for chain %q, not %q", ledger.ErrInvalid, d.ID, d.Region, region)
			}
			if i, ok := seen[d.ID]; ok {
				out = append(out, out[i])
				continue
			}
			e, next := ledger.Link(head, d)
			res, err := ins.ExecContext(ctx, e.Seq, e.ID, ts(e.Time), string(e.Kind), e.Region, e.Source, e.Record, e.SubjectRef, e.Category,
				e.FromRegion, e.FromCountry, e.ToRegion, e.ToCountry, e.Importer, e.Mechanism, e.Reference, e.Decision, e.PolicyVersion,
				e.Actor, e.PrevHash, e.Hash, exposedArg(e.ExposedMS))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 { // the chain holds the id already
				if e, err = storedEntry(ctx, tx, region, d.ID); err != nil {
					return err
				}
			} else {
				head = next
				nodes, err := tree.Add(e.Seq, e.Hash)
				if err != nil {
					return err
				}
				treeRows = append(treeRows, region, e.Seq, nodes)
			}
			seen[d.ID] = len(out)
			out = append(out, e)
		}
		return insertTreeRows(ctx, tx, treeRows)
	})
	if err != nil {
		return nil, fmt.Errorf("append to ledger %s: %w", region, err)
	}
	return out, nil
}

// exposedArg is the exposed_ms column's value: NULL when not measured.
func exposedArg(ms *int64) any {
	if ms == nil {
		return nil
	}
	return *ms
}

// storedEntry reads the entry of region's chain with the given id.
func storedEntry(ctx context.Context, tx *sql.Tx, region, id string) (ledger.Entry, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+ledgerCols+` FROM ledger WHERE region=? AND id=?`, region, id)
	if err != nil {
		return ledger.Entry{}, err
	}
	defer rows.Close()
	var e ledger.Entry
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return e, err
		}
		return e, fmt.Errorf("ledger entry %s of %s: %w", id, region, ErrNotFound)
	}
	if err := scanLedger(rows, &e); err != nil {
		return e, err
	}
	return e, rows.Err()
}

// Chains returns the regions that have a ledger chain, sorted.
func (s *Store) Chains(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT region FROM ledger ORDER BY region`)
	if err != nil {
		return nil, fmt.Errorf("list ledger chains: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanChain calls fn with every entry of region's chain in seq order.
func (s *Store) ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+ledgerCols+` FROM ledger WHERE region=? ORDER BY seq`, region)
	if err != nil {
		return fmt.Errorf("scan ledger %s: %w", region, err)
	}
	defer rows.Close()
	var e ledger.Entry
	for rows.Next() {
		if err := scanLedger(rows, &e); err != nil {
			return fmt.Errorf("scan ledger %s: %w", region, err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ScanLedger calls fn with the entries matching q, in time order.
func (s *Store) ScanLedger(ctx context.Context, q ledger.Query, fn func(*ledger.Entry) error) error {
	return s.ScanLedgerAfter(ctx, q, nil, 0, fn)
}

// ScanLedgerAfter calls fn with at most limit entries matching q (limit <= 0:
// no limit) that come after the entry at after's (time, region, seq) in time
// order, reading the ledger's time index from there: a keyset page, so a long
// report reads the ledger in short queries instead of one long transaction. A
// nil after starts at the beginning of q. fn may return an error to stop.
func (s *Store) ScanLedgerAfter(ctx context.Context, q ledger.Query, after *ledger.Entry, limit int, fn func(*ledger.Entry) error) error {
	where, args := ledgerWhere(q)
	if after != nil {
		where = append(where, "(time, region, seq) > (?, ?, ?)")
		args = append(args, ts(after.Time), after.Region, after.Seq)
	}
	// One JSON array per row instead of 22 columns: the driver's cost is per
	// column read, and this read is the hot path of reports.
	query := `SELECT json_array(` + ledgerCols + `) FROM ledger INDEXED BY ledger_time WHERE ` + strings.Join(where, " AND ") + ` ORDER BY time, region, seq`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	return readRows(rows, fn, func(err error) error { return fmt.Errorf("read ledger: %w", err) })
}

// ledgerWhere turns q into the conditions of a ledger read.
func ledgerWhere(q ledger.Query) ([]string, []any) {
	where := []string{"1=1"}
	var args []any
	if !q.From.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, ts(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "time < ?")
		args = append(args, ts(q.To))
	}
	if q.Region != "" {
		where = append(where, "region = ?")
		args = append(args, q.Region)
	}
	if len(q.Kinds) > 0 {
		where = append(where, "kind IN (?"+strings.Repeat(",?", len(q.Kinds)-1)+")")
		for _, k := range q.Kinds {
			args = append(args, string(k))
		}
	}
	return where, args
}

// readRows calls fn with the entry of each of rows (json_array(ledgerCols)),
// and closes them. An error of fn stops it and is returned as it is; its own
// go through wrap.
func readRows(rows *sql.Rows, fn func(*ledger.Entry) error, wrap func(error) error) error {
	defer rows.Close()
	var e ledger.Entry
	var row string
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return wrap(err)
		}
		if err := decodeLedgerRow(row, &e); err != nil {
			return wrap(err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(err)
	}
	return nil
}

// decodeLedgerRow reads the JSON array json_array(ledgerCols) makes of a
// ledger row. Strings without escapes are taken as they are, as substrings of
// row.
func decodeLedgerRow(row string, e *ledger.Entry) error {
	var fields [22]string
	i, n := 0, 0
	skip := func() {
		for i < len(row) && (row[i] == ' ' || row[i] == ',') {
			i++
		}
	}
	if len(row) < 2 || row[0] != '[' || row[len(row)-1] != ']' {
		return fmt.Errorf("ledger row is not a JSON array: %.40q", row)
	}
	i = 1
	for skip(); i < len(row)-1; skip() {
		if n == len(fields) {
			return fmt.Errorf("ledger row has more than %d fields", len(fields))
		}
		if row[i] != '"' { // a number or null
			j := i
			for j < len(row)-1 && row[j] != ',' {
				j++
			}
			fields[n], i = row[i:j], j
			n++
			continue
		}
		j, escaped := i+1, false
		for {
			k := strings.IndexByte(row[j:], '"')
			if k < 0 {
				return fmt.Errorf("ledger row has an unterminated string")
			}
			// The quote ends the string unless an odd run of backslashes
			// escapes it.
			bs := 0
			for bs < k && row[j+k-1-bs] == '\\' {
				bs++
			}
			if strings.IndexByte(row[j:j+k], '\\') >= 0 {
				escaped = true
			}
			j += k
			if bs%2 == 0 {
				break
			}
			j++
		}
		if escaped {
			if err := json.Unmarshal([]byte(row[i:j+1]), &fields[n]); err != nil {
				return fmt.Errorf("ledger row field %d: %w", n, err)
			}
		} else {
			fields[n] = row[i+1 : j]
		}
		i = j + 1
		n++
	}
	if n != len(fields) {
		return fmt.Errorf("ledger row has %d fields, want %d", n, len(fields))
	}
	seq, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		return fmt.Errorf("ledger row seq %q: %w", fields[0], err)
	}
	*e = ledger.Entry{Seq: seq, ID: fields[1], Time: parseTS(fields[2]), Kind: ledger.Kind(fields[3]), Region: fields[4],
		Source: fields[5], Record: fields[6], SubjectRef: fields[7], Category: fields[8], FromRegion: fields[9], FromCountry: fields[10],
		ToRegion: fields[11], ToCountry: fields[12], Importer: fields[13], Mechanism: fields[14], Reference: fields[15],
		Decision: fields[16], PolicyVersion: fields[17], Actor: fields[18], PrevHash: fields[19], Hash: fields[20]}
	if fields[21] != "null" {
		ms, err := strconv.ParseInt(fields[21], 10, 64)
		if err != nil {
			return fmt.Errorf("ledger row exposed_ms %q: %w", fields[21], err)
		}
		e.ExposedMS = &ms
	}
	return nil
}

// ScanChainAfter calls fn with at most limit entries of region's chain
// (limit <= 0: all) whose seq is above afterSeq, in seq order: a keyset page
// of the chain, so verifying a long chain reads it in short queries.
func (s *Store) ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error {
	query := `SELECT json_array(` + ledgerCols + `) FROM ledger WHERE region = ? AND seq > ? ORDER BY seq`
	args := []any{region, afterSeq}
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("scan ledger %s: %w", region, err)
	}
	return readRows(rows, fn, func(err error) error { return fmt.Errorf("scan ledger %s: %w", region, err) })
}
