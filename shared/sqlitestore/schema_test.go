package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/residency-dev/residency/shared/sqlitestore"
)

// A store made before the stream cursor marked each delivered record; it
// opens with the cursor after them.
func TestStreamCursorOfAnOlderStore(t *testing.T) {
	path := olderStore(t, `CREATE TABLE stream (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, region TEXT NOT NULL, tbl TEXT NOT NULL,
		event TEXT NOT NULL, k TEXT NOT NULL, old TEXT, new TEXT, at TEXT NOT NULL,
		delivered INTEGER NOT NULL DEFAULT 0);
	CREATE INDEX stream_pending ON stream (delivered, seq);
	INSERT INTO stream(region,tbl,event,k,new,at,delivered) VALUES
		('eu-west-1','users','INSERT','{"pk":"A"}','{"pk":"A"}','2026-11-20T10:00:00.000000000Z',1),
		('eu-west-1','users','INSERT','{"pk":"B"}','{"pk":"B"}','2026-11-20T10:00:00.000000000Z',1),
		('eu-west-1','users','INSERT','{"pk":"C"}','{"pk":"C"}','2026-11-20T10:00:00.000000000Z',0);`)
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	recs, err := s.PendingStreamRaw(ctx, 10)
	if err != nil || len(recs) != 1 || recs[0].Key != `{"pk":"C"}` {
		t.Fatalf("expect only C pending, got %+v (%v)", recs, err)
	}
	if err := s.MarkDelivered(ctx, recs[0].Seq); err != nil {
		t.Fatal(err)
	}
	// Marking an older seq never moves the cursor back.
	if err := s.MarkDelivered(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.PendingStream(ctx, 10); len(recs) != 0 {
		t.Fatalf("expect nothing pending, got %d", len(recs))
	}
	// Reopening keeps the cursor.
	s.Close()
	if s, err = sqlitestore.Open(path); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.PendingStream(ctx, 10); len(recs) != 0 {
		t.Fatalf("expect nothing pending after reopening, got %d", len(recs))
	}
}

// A store made before catalog entries carried an erasure mark opens with
// the column added: its entries read back unmarked and can be marked.
func TestCatalogOfAnOlderStoreGetsTheErasureMark(t *testing.T) {
	path := olderStore(t, `CREATE TABLE catalog (
		region TEXT NOT NULL, source TEXT NOT NULL, k TEXT NOT NULL, source_kind TEXT NOT NULL,
		subject_ref TEXT NOT NULL, category TEXT NOT NULL, contract TEXT NOT NULL,
		origin_region TEXT NOT NULL, home_region TEXT NOT NULL, jurisdiction TEXT NOT NULL,
		status TEXT NOT NULL, policy_version TEXT NOT NULL, tagged_at TEXT NOT NULL,
		retain_until TEXT NOT NULL, PRIMARY KEY (region, source, k)) WITHOUT ROWID;
	INSERT INTO catalog VALUES ('eu-west-1','users','{"pk":"A"}','table','sub_a','profile','','eu-west-1','eu-west-1','GB',
		'compliant','v1','2026-11-20T10:00:00.000000000Z','2028-12-20T10:00:00Z');`)
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	es, err := s.EntriesBySubject(ctx, "eu-west-1", "sub_a")
	if err != nil || len(es) != 1 || es[0].Erasure != "" || es[0].Category != "profile" {
		s.Close()
		t.Fatalf("expect the old entry, unmarked, got %+v (%v)", es, err)
	}
	es[0].Erasure = "dsr-1"
	err = s.PutEntries(ctx, es)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	// Reopened, the column is there already and the mark kept.
	if s, err = sqlitestore.Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.EntriesBySubject(ctx, "eu-west-1", "sub_a"); err != nil || len(got) != 1 || got[0].Erasure != "dsr-1" {
		t.Fatalf("expect the entry marked for dsr-1, got %+v (%v)", got, err)
	}
}

// olderStore makes a store file as an older release left it, with schema
// (and its rows), and returns its path.
func olderStore(t *testing.T, schema string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	return path
}

// A store of schema version 4 has dead letters without their payload; it
// opens with the column added: old letters read back without one, new
// ones keep theirs.
func TestDeadLettersOfAnOlderStoreGetThePayload(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v4.db")
	s, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`ALTER TABLE dead_letters DROP COLUMN payload;
		INSERT INTO dead_letters(at,function,region,item,reason) VALUES('2026-11-20T10:00:00.000000000Z','router','eu-west-1','Record Ingest e-1','bad');
		PRAGMA user_version = 4`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err = sqlitestore.Open(path); err != nil {
		t.Fatalf("expect the version 4 store to open, got %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AddDeadLetter(ctx, sqlitestore.DeadLetter{Function: "tagger", Region: "eu-west-1", Item: "S3 event", Reason: "worse", Payload: []byte(`{"Records":[]}`)}); err != nil {
		t.Fatal(err)
	}
	letters, err := s.DeadLetters(ctx)
	if err != nil || len(letters) != 2 {
		t.Fatalf("expect 2 dead letters, got %d (%v)", len(letters), err)
	}
	if letters[0].Payload != nil || string(letters[1].Payload) != `{"Records":[]}` {
		t.Fatalf("expect no payload on the old letter and the new one's, got %q and %q", letters[0].Payload, letters[1].Payload)
	}
	if err := s.UpdateDeadLetter(ctx, letters[0].ID, letters[0].At, "still bad"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeadLetter(ctx, letters[1].ID); err != nil {
		t.Fatal(err)
	}
	if letters, _ = s.DeadLetters(ctx); len(letters) != 1 || letters[0].Reason != "still bad" {
		t.Fatalf("expect the old letter alone with its new reason, got %+v", letters)
	}
	if err := s.UpdateDeadLetter(ctx, 999, letters[0].At, "x"); err == nil {
		t.Fatal("expect updating a missing letter to fail")
	}
}
