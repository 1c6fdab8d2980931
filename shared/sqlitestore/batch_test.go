package sqlitestore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

func TestReplayWritesApplyInOrderWithoutStream(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	a, b := record.Key{"pk": "A"}, record.Key{"pk": "B"}
	err := s.ReplayWrites(ctx, []sqlitestore.ReplayedWrite{
		{Region: "eu-west-1", Table: "users", Key: a, Item: []byte(`{"pk":"A","v":"1"}`)},
		{Region: "eu-west-1", Table: "users", Key: b, Item: []byte(`{"pk":"B"}`)},
		{Region: "eu-west-1", Table: "users", Key: a, Item: []byte(`{"pk":"A","v":"2"}`)}, // the later write wins
		{Region: "eu-west-1", Table: "users", Key: b},                                     // deleted
		{Region: "eu-west-1", Table: "users", Key: record.Key{"pk": "never"}},             // deleting nothing is no error
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetItem(ctx, "eu-west-1", "users", a)
	if err != nil || got.String("v") != "2" {
		t.Fatalf("expect A at v2, got %v (%v)", got, err)
	}
	if _, err := s.GetItem(ctx, "eu-west-1", "users", b); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect B deleted, got %v", err)
	}
	if recs, _ := s.PendingStreamRaw(ctx, 10); len(recs) != 0 {
		t.Fatalf("expect no stream record for replayed writes, got %d", len(recs))
	}
}

// UpdateTags sets the tag in the stored text: the item reads back as if
// decoded, set and encoded, and the stream gets the MODIFY with both images.
func TestUpdateTagsKeepsTheRestOfTheItem(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	item := record.Item{"pk": "A", "n": json.Number("12345678901234567890"), "nested": map[string]any{"residency": "not the tag"},
		"z": []any{"x", nil}, "esc": "a\"<b>&\u00e9"}
	if err := s.PutItem(ctx, "eu-west-1", "users", record.Key{"pk": "A"}, item, false); err != nil {
		t.Fatal(err)
	}
	old := record.Tag{OriginRegion: "us-east-1", Status: record.StatusViolation}
	tag := record.Tag{OriginRegion: "eu-west-1", Jurisdiction: "EEA", HomeRegion: "eu-west-1", Status: record.StatusCompliant,
		PolicyVersion: "2026-11-01", TaggedAt: "2026-11-20T10:00:00Z", RetainUntil: "2028-12-20T09:00:00Z"}
	for _, tg := range []record.Tag{old, tag} { // first added, then replaced
		errs, err := s.UpdateTags(ctx, "eu-west-1", "users", []record.TagWrite{{Key: record.Key{"pk": "A"}, Tag: tg},
			{Key: record.Key{"pk": "gone"}, Tag: tg}})
		if err != nil || errs[0] != nil || !errors.Is(errs[1], record.ErrNotFound) {
			t.Fatalf("expect A tagged and gone not found, got %v %v", errs, err)
		}
	}
	got, err := s.GetItem(ctx, "eu-west-1", "users", record.Key{"pk": "A"})
	if err != nil {
		t.Fatal(err)
	}
	want := record.Item{}
	for k, v := range item {
		want[k] = v
	}
	want[record.TagAttribute] = tag.Map()
	if d := cmp.Diff(normalize(t, want), normalize(t, got)); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	recs, err := s.PendingStream(ctx, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("expect INSERT and two MODIFY, got %d (%v)", len(recs), err)
	}
	if m := recs[2]; m.Event != "MODIFY" || m.Old[record.TagAttribute] == nil || m.New.String("esc") != item.String("esc") {
		t.Fatalf("expect the second tag write's MODIFY with both images, got %+v", m)
	}
	if prev, _ := record.TagOf(recs[2].Old); prev.Status != record.StatusViolation {
		t.Fatalf("expect the old image to hold the first tag, got %+v", prev)
	}
}

// normalize is the item as JSON reads it back.
func normalize(t *testing.T, it record.Item) map[string]any {
	b, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

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
