package sqlitestore

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/residency-dev/residency/shared/record"
)

// TestTagItemIsWhatUpdateTagsStores: for an item written in one go with its
// tag (TagItem) and one tagged in the table (UpdateTags), the same text,
// whether the write sets a TTL, removes one the item has or has not, or
// names none.
func TestTagItemIsWhatUpdateTagsStores(t *testing.T) {
	ctx := context.Background()
	tag := record.Tag{OriginRegion: "eu-central-1", HomeRegion: "eu-central-1", Jurisdiction: "EU", Status: record.StatusCompliant,
		PolicyVersion: "v1", TaggedAt: "2026-11-20T09:00:00Z", RetainUntil: "2028-11-20T09:00:00Z"}
	items := map[string]record.Item{
		"plain":    {"pk": "USER#1", "name": "Ada", "z": json.Number("2")},
		"with TTL": {"pk": "USER#1", "expires_at": json.Number("1"), "residency": map[string]any{"status": "old"}},
	}
	writes := map[string]record.TagWrite{
		"no TTL":      {Tag: tag},
		"TTL set":     {Tag: tag, TTLAttribute: "expires_at", TTL: 1859529600},
		"TTL removed": {Tag: tag, TTLAttribute: "expires_at"},
		"TTL after":   {Tag: tag, TTLAttribute: "ttl", TTL: 1859529600},
	}
	for in, it := range items {
		for wn, w := range writes {
			t.Run(in+"/"+wn, func(t *testing.T) {
				s := testStore(t)
				key := record.Key{"pk": "USER#1"}
				w.Key = key
				if err := s.PutItem(ctx, "eu-central-1", "users", key, it, false); err != nil {
					t.Fatal(err)
				}
				if errs, err := s.UpdateTags(ctx, "eu-central-1", "users", []record.TagWrite{w}); err != nil || errs[0] != nil {
					t.Fatalf("update tags: %v %v", err, errs)
				}
				var stored string
				if err := s.db.QueryRow(`SELECT item FROM items`).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				plain, err := it.AppendJSON(nil)
				if err != nil {
					t.Fatal(err)
				}
				got, err := TagItem(nil, plain, w)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != stored {
					t.Errorf("expect %s, got %s", stored, got)
				}
				back, err := decodeItem(stored)
				if err != nil {
					t.Fatal(err)
				}
				if stored, ok := record.TagOf(back); !ok || stored != tag {
					t.Errorf("expect the tag %+v stored, got %+v in %s", tag, stored, got)
				}
				if w.TTLAttribute != "" {
					v, has := back[w.TTLAttribute]
					if want := json.Number(strconv.FormatInt(w.TTL, 10)); w.TTL != 0 && v != want {
						t.Errorf("expect %s %s, got %v", w.TTLAttribute, want, v)
					}
					if w.TTL == 0 && has {
						t.Errorf("expect no %s, got %v", w.TTLAttribute, v)
					}
				}
				for name, v := range it {
					if name != record.TagAttribute && name != w.TTLAttribute && !reflect.DeepEqual(back[name], v) {
						t.Errorf("expect %s %v kept, got %s", name, v, stored)
					}
				}
			})
		}
	}
}
