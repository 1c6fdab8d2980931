package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// Errors the store reports; callers test them with errors.Is.
var (
	ErrNotFound        = record.ErrNotFound
	ErrConditionFailed = record.ErrConditionFailed
)

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	cp   *checkpointer // nil for an in-memory store
}

const schema = `
-- A rowid table: items run to a few hundred bytes, too large for WITHOUT
-- ROWID, which suits small rows (stores made with it keep it).
CREATE TABLE IF NOT EXISTS items (
	region TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, item TEXT NOT NULL,
	UNIQUE (region, tbl, k));
CREATE TABLE IF NOT EXISTS stream (
	seq INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, tbl TEXT NOT NULL,
	event TEXT NOT NULL, k TEXT NOT NULL, old TEXT, new TEXT, at TEXT NOT NULL,
	delivered INTEGER NOT NULL DEFAULT 0);
` + streamSchema + `
CREATE TABLE IF NOT EXISTS objects (
	region TEXT NOT NULL, bucket TEXT NOT NULL, k TEXT NOT NULL, metadata TEXT NOT NULL,
	last_modified TEXT NOT NULL, PRIMARY KEY (region, bucket, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalog (
	region TEXT NOT NULL, source TEXT NOT NULL, k TEXT NOT NULL, source_kind TEXT NOT NULL,
	subject_ref TEXT NOT NULL, category TEXT NOT NULL, contract TEXT NOT NULL,
	origin_region TEXT NOT NULL, home_region TEXT NOT NULL, jurisdiction TEXT NOT NULL,
	status TEXT NOT NULL, policy_version TEXT NOT NULL, tagged_at TEXT NOT NULL,
	retain_until TEXT NOT NULL, erasure TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (region, source, k)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS catalog_due ON catalog (region, retain_until, source, k) WHERE retain_until != '';
CREATE INDEX IF NOT EXISTS catalog_subject ON catalog (region, subject_ref);
CREATE INDEX IF NOT EXISTS catalog_contract ON catalog (region, contract) WHERE contract != '';
CREATE TABLE IF NOT EXISTS holds (
	hold_id TEXT PRIMARY KEY, subject_ref TEXT NOT NULL, source TEXT NOT NULL, k TEXT NOT NULL,
	reason TEXT NOT NULL, set_at TEXT NOT NULL);
` + holdsSchema + `
CREATE TABLE IF NOT EXISTS contracts (contract TEXT PRIMARY KEY, ended_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
	region TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL,
	source TEXT NOT NULL, record TEXT NOT NULL, subject_ref TEXT NOT NULL, category TEXT NOT NULL,
	from_region TEXT NOT NULL, from_country TEXT NOT NULL, to_region TEXT NOT NULL, to_country TEXT NOT NULL,
	importer TEXT NOT NULL, mechanism TEXT NOT NULL, reference TEXT NOT NULL, decision TEXT NOT NULL,
	policy_version TEXT NOT NULL, actor TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
	PRIMARY KEY (region, seq));
CREATE UNIQUE INDEX IF NOT EXISTS ledger_id ON ledger (region, id);
CREATE INDEX IF NOT EXISTS ledger_time ON ledger (time, region, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
	id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, function TEXT NOT NULL, region TEXT NOT NULL,
	item TEXT NOT NULL, reason TEXT NOT NULL);
`

// addedColumns are the columns added to tables since their first release,
// with their definitions: a store made before gets them on opening.
var addedColumns = []struct{ table, column, def string }{
	{"catalog", "erasure", "TEXT NOT NULL DEFAULT ''"},
}

func addColumns(db *sql.DB) error {
	for _, c := range addedColumns {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info(?) WHERE name=?`, c.table, c.column).Scan(&n); err != nil {
			return fmt.Errorf("columns of %s: %w", c.table, err)
		}
		if n == 0 {
			if _, err := db.Exec(`ALTER TABLE ` + c.table + ` ADD COLUMN ` + c.column + ` ` + c.def); err != nil {
				return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	return nil
}

// cacheKiB is each connection's page cache (SQLite's default is 2 MiB): the
// catalog's subject index and the items' keys are written in no useful
// order, so a batch touches pages all over them, and a small cache reads
// them back from the file again and again.
const cacheKiB = 16 << 10

// Open opens (creating if needed) the store at path. ":memory:" gives a
// private in-memory store, for tests.
func Open(path string) (*Store, error) {
	dsn := "file:" + url.PathEscape(path) + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)&_pragma=journal_size_limit(%d)&_pragma=cache_size(%d)", walBackstopPages, 64<<20, -cacheKiB) + "&_txlock=immediate"
	if path == ":memory:" {
		dsn = "file::memory:?_txlock=immediate"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if path == ":memory:" {
		db.SetMaxOpenConns(1) // every connection would get its own empty database
	} else {
		db.SetMaxOpenConns(4)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: create schema: %w", path, err)
	}
	if err := addColumns(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: migrate: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if path != ":memory:" {
		if s.cp, err = startCheckpointer(dsn); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
	return s, nil
}

// Close closes the store.
func (s *Store) Close() error {
	cerr := s.cp.close()
	if err := s.db.Close(); err != nil {
		return err
	}
	return cerr
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.cp.wrote()
	return nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(fixedNano)
}

// fixedNano is RFC 3339 with a fixed-width fraction, so that string order is
// time order.
const fixedNano = "2006-01-02T15:04:05.000000000Z"

func parseTS(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// dueTS formats retain-until so that string order is time order.
func dueTS(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func decodeItem(s string) (record.Item, error) {
	var it record.Item
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if err := d.Decode(&it); err != nil {
		return nil, fmt.Errorf("stored item is corrupt: %w", err)
	}
	return it, nil
}

// ---- platform tables ----
//
// Errors name the region and table, never the record key: keys often embed a
// subject (USER#u-1001), and errors reach logs.

// GetItem returns the item stored under key in region's table, or ErrNotFound.
func (s *Store) GetItem(ctx context.Context, region, table string, key record.Key) (record.Item, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT item FROM items WHERE region=? AND tbl=? AND k=?`, region, table, key.String()).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	return decodeItem(raw)
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
	b, err := json.Marshal(item)
	if err != nil {
		return fmt.Errorf("put %s/%s: encode item: %w", region, table, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var old sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT item FROM items WHERE region=? AND tbl=? AND k=?`, region, table, k).Scan(&old)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
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

func addStream(ctx context.Context, tx *sql.Tx, region, table, event, k string, old, new sql.NullString) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO stream(region,tbl,event,k,old,new,at) VALUES(?,?,?,?,?,?,?)`,
		region, table, event, k, old, new, ts(time.Now()))
	return err
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
		var old string
		err := tx.QueryRowContext(ctx, `SELECT item FROM items WHERE region=? AND tbl=? AND k=?`, region, table, k).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		it, err := decodeItem(old)
		if err != nil {
			return err
		}
		mut(it)
		b, err := json.Marshal(it)
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
		var old string
		err := tx.QueryRowContext(ctx, `SELECT item FROM items WHERE region=? AND tbl=? AND k=?`, region, table, k).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
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

// ---- stream ----

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

// ---- objects ----

// PutObject records an object's metadata.
func (s *Store) PutObject(ctx context.Context, o record.Object) error {
	b, err := json.Marshal(o.Metadata)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO objects(region,bucket,k,metadata,last_modified) VALUES(?,?,?,?,?)
		ON CONFLICT(region,bucket,k) DO UPDATE SET metadata=excluded.metadata, last_modified=excluded.last_modified`,
		o.Region, o.Bucket, o.Key, string(b), ts(o.LastModified))
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return nil
}

// HeadObject returns an object's metadata, or ErrNotFound.
func (s *Store) HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error) {
	var meta, lm string
	err := s.db.QueryRowContext(ctx, `SELECT metadata,last_modified FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key).Scan(&meta, &lm)
	if errors.Is(err, sql.ErrNoRows) {
		return record.Object{}, fmt.Errorf("head object in s3://%s in %s: %w", bucket, region, ErrNotFound)
	}
	if err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, err)
	}
	o := record.Object{Region: region, Bucket: bucket, Key: key, LastModified: parseTS(lm)}
	if err := json.Unmarshal([]byte(meta), &o.Metadata); err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: stored metadata is corrupt: %w", bucket, err)
	}
	return o, nil
}

// DeleteObject deletes an object, or reports ErrNotFound.
func (s *Store) DeleteObject(ctx context.Context, region, bucket, key string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key)
	if err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete s3://%s/%s in %s: %w", bucket, key, region, ErrNotFound)
	}
	return nil
}

// ---- catalog ----

// PutEntries inserts or replaces catalog entries, in one transaction.
func (s *Store) PutEntries(ctx context.Context, entries []catalog.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO catalog(region,source,k,source_kind,subject_ref,category,contract,
			origin_region,home_region,jurisdiction,status,policy_version,tagged_at,retain_until,erasure) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("put catalog entries: %w", err)
		}
		defer st.Close()
		for _, e := range entries {
			if _, err := st.ExecContext(ctx, e.Region, e.Source, e.Key.String(), e.SourceKind, e.SubjectRef, e.Category, e.Contract,
				e.OriginRegion, e.HomeRegion, e.Jurisdiction, e.Status, e.PolicyVersion, ts(e.TaggedAt), dueTS(e.RetainUntil), e.Erasure); err != nil {
				return fmt.Errorf("put catalog entry %s/%s: %w", e.Region, e.Source, err)
			}
		}
		return nil
	})
}

const entryCols = `region,source,k,source_kind,subject_ref,category,contract,origin_region,home_region,jurisdiction,status,policy_version,tagged_at,retain_until,erasure`

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
			&e.HomeRegion, &e.Jurisdiction, &e.Status, &e.PolicyVersion, &tagged, &due, &e.Erasure); err != nil {
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

// ---- holds and contracts ----

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

// ---- ledger ----

const ledgerCols = `seq,id,time,kind,region,source,record,subject_ref,category,from_region,from_country,to_region,to_country,importer,mechanism,reference,decision,policy_version,actor,prev_hash,hash`

func scanLedger(rows *sql.Rows, e *ledger.Entry) error {
	var t, kind string
	err := rows.Scan(&e.Seq, &e.ID, &t, &kind, &e.Region, &e.Source, &e.Record, &e.SubjectRef, &e.Category, &e.FromRegion, &e.FromCountry,
		&e.ToRegion, &e.ToCountry, &e.Importer, &e.Mechanism, &e.Reference, &e.Decision, &e.PolicyVersion, &e.Actor, &e.PrevHash, &e.Hash)
	e.Time, e.Kind = parseTS(t), ledger.Kind(kind)
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
		ins, err := tx.PrepareContext(ctx, `INSERT INTO ledger(`+ledgerCols+`) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(region, id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
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
				e.Actor, e.PrevHash, e.Hash)
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
			}
			seen[d.ID] = len(out)
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append to ledger %s: %w", region, err)
	}
	return out, nil
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

// ---- dead letters ----

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
	// One JSON array per row instead of 21 columns: the driver's cost is per
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
	defer rows.Close()
	var e ledger.Entry
	var row string
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		if err := decodeLedgerRow(row, &e); err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	return nil
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

// decodeLedgerRow reads the JSON array json_array(ledgerCols) makes of a
// ledger row. Strings without escapes are taken as they are, as substrings of
// row.
func decodeLedgerRow(row string, e *ledger.Entry) error {
	var fields [21]string
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
	defer rows.Close()
	var e ledger.Entry
	var row string
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return fmt.Errorf("scan ledger %s: %w", region, err)
		}
		if err := decodeLedgerRow(row, &e); err != nil {
			return fmt.Errorf("scan ledger %s: %w", region, err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan ledger %s: %w", region, err)
	}
	return nil
}
