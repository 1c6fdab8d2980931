package sqlitestore_test

import (
	"context"
	"encoding/json"
	"errors"
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
