-- The schema of the embedded store, as a new store gets it. Every statement
-- is idempotent (IF NOT EXISTS, OR IGNORE): a store of an older release runs
-- it too, gaining the tables and indexes added since, before migrations in
-- schema.go change what its existing tables hold. So an index here must not
-- name a column that a migration adds: the migration makes that index.

-- The platform's watched tables. A rowid table: items run to a few hundred
-- bytes, too large for WITHOUT ROWID, which suits small rows (stores made
-- with it keep it).
CREATE TABLE IF NOT EXISTS items (
	region TEXT NOT NULL, tbl TEXT NOT NULL, k TEXT NOT NULL, item TEXT NOT NULL,
	UNIQUE (region, tbl, k));

-- Their change stream. (delivered: stores made before the stream cursor
-- marked each delivered record; migration 1 starts the cursor after them.)
CREATE TABLE IF NOT EXISTS stream (
	seq INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, tbl TEXT NOT NULL,
	event TEXT NOT NULL, k TEXT NOT NULL, old TEXT, new TEXT, at TEXT NOT NULL,
	delivered INTEGER NOT NULL DEFAULT 0);

-- What the stream pump has delivered, as one cursor, the last delivered seq:
-- marking a batch delivered is one small write, not a rewrite of each of its
-- records.
CREATE TABLE IF NOT EXISTS stream_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT OR IGNORE INTO stream_cursor(id, seq) VALUES (1, 0);

-- S3 object metadata.
CREATE TABLE IF NOT EXISTS objects (
	region TEXT NOT NULL, bucket TEXT NOT NULL, k TEXT NOT NULL, metadata TEXT NOT NULL,
	last_modified TEXT NOT NULL, PRIMARY KEY (region, bucket, k)) WITHOUT ROWID;

-- The catalog of every region.
CREATE TABLE IF NOT EXISTS catalog (
	region TEXT NOT NULL, source TEXT NOT NULL, k TEXT NOT NULL, source_kind TEXT NOT NULL,
	subject_ref TEXT NOT NULL, category TEXT NOT NULL, contract TEXT NOT NULL,
	origin_region TEXT NOT NULL, home_region TEXT NOT NULL, jurisdiction TEXT NOT NULL,
	status TEXT NOT NULL, policy_version TEXT NOT NULL, tagged_at TEXT NOT NULL,
	retain_until TEXT NOT NULL, erasure TEXT NOT NULL DEFAULT '', reapplied INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (region, source, k)) WITHOUT ROWID;
-- Its indexes (due dates, subjects, contracts) are in catalog_indexes.sql.

-- Legal holds, indexed by what they cover (for HoldsOn), and contract ends.
CREATE TABLE IF NOT EXISTS holds (
	hold_id TEXT PRIMARY KEY, subject_ref TEXT NOT NULL, source TEXT NOT NULL, k TEXT NOT NULL,
	reason TEXT NOT NULL, set_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS holds_subject ON holds (subject_ref) WHERE subject_ref != '';
CREATE INDEX IF NOT EXISTS holds_record ON holds (k, source) WHERE k != '';
CREATE TABLE IF NOT EXISTS contracts (contract TEXT PRIMARY KEY, ended_at TEXT NOT NULL);
-- The subjects erased under a GDPR Art. 17 request, by keyed reference.
CREATE TABLE IF NOT EXISTS erased (
	region TEXT NOT NULL, subject_ref TEXT NOT NULL, request_id TEXT NOT NULL, erased_at TEXT NOT NULL,
	PRIMARY KEY (region, subject_ref)) WITHOUT ROWID;

-- The hash-chained ledger of every region.
CREATE TABLE IF NOT EXISTS ledger (
	region TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, time TEXT NOT NULL, kind TEXT NOT NULL,
	source TEXT NOT NULL, record TEXT NOT NULL, subject_ref TEXT NOT NULL, category TEXT NOT NULL,
	from_region TEXT NOT NULL, from_country TEXT NOT NULL, to_region TEXT NOT NULL, to_country TEXT NOT NULL,
	importer TEXT NOT NULL, mechanism TEXT NOT NULL, reference TEXT NOT NULL, decision TEXT NOT NULL,
	policy_version TEXT NOT NULL, actor TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
	exposed_ms INTEGER, -- NULL: not measured (a backfilled record, an older entry)
	PRIMARY KEY (region, seq));
CREATE UNIQUE INDEX IF NOT EXISTS ledger_id ON ledger (region, id);
CREATE INDEX IF NOT EXISTS ledger_time ON ledger (time, region, seq);
-- Each chain's Merkle tree: the stored hashes (golang.org/x/mod/sumdb/tlog)
-- the entry at seq added, packed, written with the entry (ledger.TreeNodes).
CREATE TABLE IF NOT EXISTS ledger_tree (
	region TEXT NOT NULL, seq INTEGER NOT NULL, nodes BLOB NOT NULL,
	PRIMARY KEY (region, seq)) WITHOUT ROWID;

-- What the local runtime could not process (a dead-letter queue on AWS).
CREATE TABLE IF NOT EXISTS dead_letters (
	id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, function TEXT NOT NULL, region TEXT NOT NULL,
	item TEXT NOT NULL, reason TEXT NOT NULL, payload TEXT NOT NULL DEFAULT '');

-- Backfills: where each stands, per source, region and segment of its scan
-- (the sealed cursor of its next page, its figures and failures as JSON),
-- and the last one completed per source and region (coverage).
CREATE TABLE IF NOT EXISTS backfill_checkpoints (
	region TEXT NOT NULL, source TEXT NOT NULL, segment INTEGER NOT NULL, mode TEXT NOT NULL, export TEXT NOT NULL,
	cursor TEXT NOT NULL, done INTEGER NOT NULL, pages INTEGER NOT NULL, counts TEXT NOT NULL, failures TEXT NOT NULL,
	started_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (region, source, segment));
CREATE TABLE IF NOT EXISTS backfill_coverage (
	region TEXT NOT NULL, source TEXT NOT NULL, mode TEXT NOT NULL, completed_at TEXT NOT NULL,
	PRIMARY KEY (region, source)) WITHOUT ROWID;
