package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/residency-dev/residency/shared/record"
)

// runItems is the contract of the watched tables: single and batched
// reads, writes, tags and deletions.
func runItems(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	k1 := record.Key{"pk": "USER#1", "sk": "PROFILE"}

	t.Run("items", func(t *testing.T) {
		s := open(t)
		if _, err := s.GetItem(ctx, "eu-central-1", "users", k1); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect ErrNotFound for a missing item, got %v", err)
		}
		item := record.Item{"pk": "USER#1", "sk": "PROFILE", "country": "FR"}
		if err := s.PutItem(ctx, "eu-central-1", "users", k1, item, true); err != nil {
			t.Fatal(err)
		}
		if err := s.PutItem(ctx, "eu-central-1", "users", k1, item, true); !errors.Is(err, record.ErrConditionFailed) {
			t.Fatalf("expect ErrConditionFailed on a second put-if-absent, got %v", err)
		}
		if _, err := s.GetItem(ctx, "us-east-1", "users", k1); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect regions to be separate, got %v", err)
		}
		tag := record.Tag{OriginRegion: "eu-central-1", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Status: record.StatusCompliant,
			PolicyVersion: "v1", TaggedAt: "2026-11-20T09:00:00Z", RetainUntil: "2028-12-20T09:00:00Z"}
		if err := s.UpdateTag(ctx, "eu-central-1", "users", k1, tag); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetItem(ctx, "eu-central-1", "users", k1)
		if err != nil {
			t.Fatal(err)
		}
		if gt, ok := record.TagOf(got); !ok || gt != tag || got.String("country") != "FR" {
			t.Fatalf("expect the tag added and other attributes kept, got %v", got)
		}
		if err := s.UpdateTag(ctx, "eu-central-1", "users", record.Key{"pk": "USER#2", "sk": "PROFILE"}, tag); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect ErrNotFound tagging a missing record (no resurrection), got %v", err)
		}
		k2 := record.Key{"pk": "USER#3", "sk": "PROFILE"}
		s.PutItem(ctx, "eu-central-1", "users", k2, record.Item{"pk": "USER#3", "sk": "PROFILE"}, false)
		errs, err := s.UpdateTags(ctx, "eu-central-1", "users", []record.TagWrite{{Key: k2, Tag: tag}, {Key: record.Key{"pk": "USER#4", "sk": "PROFILE"}, Tag: tag}})
		if err != nil || len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], record.ErrNotFound) {
			t.Fatalf("expect the batch to tag USER#3 and report USER#4 not found, got %v, %v", errs, err)
		}
		if got, _ := s.GetItem(ctx, "eu-central-1", "users", k2); got == nil {
			t.Fatal("expect USER#3 kept")
		} else if gt, _ := record.TagOf(got); gt != tag {
			t.Fatalf("expect USER#3 tagged, got %+v", gt)
		}
		// The TTL backstop: set with the tag, removed with a tag without
		// retention; the record's other attributes stay.
		ttlWrite := record.TagWrite{Key: k2, Tag: tag, TTLAttribute: "expires_at", TTL: 1893456000}
		if errs, err := s.UpdateTags(ctx, "eu-central-1", "users", []record.TagWrite{ttlWrite}); err != nil || errs[0] != nil {
			t.Fatalf("tag with TTL: %v %v", errs, err)
		}
		if got, _ := s.GetItem(ctx, "eu-central-1", "users", k2); got.String("expires_at") != "1893456000" || got.String("sk") != "PROFILE" {
			t.Fatalf("expect expires_at 1893456000 beside the other attributes, got %v", got)
		}
		ttlWrite.TTL = 0
		if errs, err := s.UpdateTags(ctx, "eu-central-1", "users", []record.TagWrite{ttlWrite}); err != nil || errs[0] != nil {
			t.Fatalf("tag without TTL: %v %v", errs, err)
		}
		if got, _ := s.GetItem(ctx, "eu-central-1", "users", k2); got["expires_at"] != nil || got.String("sk") != "PROFILE" {
			t.Fatalf("expect expires_at removed, got %v", got)
		}
		if err := s.DeleteItem(ctx, "eu-central-1", "users", k1, "2030-01-01T00:00:00Z"); !errors.Is(err, record.ErrConditionFailed) {
			t.Fatalf("expect ErrConditionFailed deleting with another retain_until, got %v", err)
		}
		if err := s.DeleteItem(ctx, "eu-central-1", "users", k1, tag.RetainUntil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteItem(ctx, "eu-central-1", "users", k1, ""); !errors.Is(err, record.ErrNotFound) {
			t.Fatalf("expect ErrNotFound deleting twice, got %v", err)
		}
	})

	t.Run("batch delete", func(t *testing.T) {
		s := open(t)
		due := record.Tag{Status: record.StatusCompliant, RetainUntil: "2026-01-01T00:00:00Z"}
		var dels []record.Delete
		for i := range 5 {
			k := record.Key{"pk": fmt.Sprintf("USER#%d", i), "sk": "PROFILE"}
			item := record.Item{"pk": k["pk"], "sk": "PROFILE", record.TagAttribute: due.Map()}
			if i == 3 { // changed since it was found due
				item[record.TagAttribute] = record.Tag{Status: record.StatusCompliant, RetainUntil: "2030-01-01T00:00:00Z"}.Map()
			}
			if i != 2 { // USER#2 is gone already
				if err := s.PutItem(ctx, "eu-central-1", "users", k, item, false); err != nil {
					t.Fatal(err)
				}
			}
			d := record.Delete{Key: k, RetainUntil: due.RetainUntil}
			if i == 4 {
				d.RetainUntil = "" // unconditional, as erasure deletes
			}
			dels = append(dels, d)
		}
		errs, err := s.DeleteItems(ctx, "eu-central-1", "users", dels)
		if err != nil || len(errs) != 5 {
			t.Fatalf("expect 5 outcomes, got %v (%v)", errs, err)
		}
		for i, want := range []error{nil, nil, record.ErrNotFound, record.ErrConditionFailed, nil} {
			if (want == nil) != (errs[i] == nil) || (want != nil && !errors.Is(errs[i], want)) {
				t.Errorf("record %d: expect %v, got %v", i, want, errs[i])
			}
		}
		for i := range 5 {
			_, err := s.GetItem(ctx, "eu-central-1", "users", dels[i].Key)
			if kept := err == nil; kept != (i == 3) {
				t.Errorf("record %d: expect kept=%v, got %v", i, i == 3, err)
			}
		}
	})

	t.Run("batch get and put", func(t *testing.T) {
		s := open(t)
		// Keys of their own: a store under test may share its tables
		// between subtests.
		var keys []record.Key
		var puts []record.Put
		for i := range 150 { // more than one BatchGetItem
			k := record.Key{"pk": fmt.Sprintf("BATCH#%d", i), "sk": "PROFILE"}
			keys = append(keys, k)
			if i%3 != 0 { // every third is absent
				// Unconditional: a conditional put the SDK retries after a
				// lost answer finds its own first write and fails (the router
				// tells that apart by verifying the copy); the condition is
				// tested below, on one key.
				puts = append(puts, record.Put{Key: k, Item: record.Item{"pk": k["pk"], "sk": "PROFILE", "n": fmt.Sprint(i)}})
			}
		}
		errs, err := s.PutItems(ctx, "eu-central-1", "users", puts)
		if err != nil || len(errs) != len(puts) {
			t.Fatalf("expect %d outcomes, got %d (%v)", len(puts), len(errs), err)
		}
		for i, e := range errs {
			if e != nil {
				t.Fatalf("put %d: %v", i, e)
			}
		}
		// Put-if-absent where one is: that put alone fails.
		present := puts[0]
		present.IfAbsent = true
		again := []record.Put{{Key: keys[0], Item: record.Item{"pk": keys[0]["pk"], "sk": "PROFILE"}, IfAbsent: true}, present}
		if errs, err := s.PutItems(ctx, "eu-central-1", "users", again); err != nil || errs[0] != nil || !errors.Is(errs[1], record.ErrConditionFailed) {
			t.Fatalf("expect the absent key written and the present one ErrConditionFailed, got %v (%v)", errs, err)
		}
		// A key twice in one batch, without a condition: both writes succeed.
		twice := record.Key{"pk": "BATCH#twice", "sk": "PROFILE"}
		if errs, err := s.PutItems(ctx, "eu-central-1", "users", []record.Put{
			{Key: twice, Item: record.Item{"pk": "BATCH#twice", "sk": "PROFILE", "n": "a"}},
			{Key: twice, Item: record.Item{"pk": "BATCH#twice", "sk": "PROFILE", "n": "b"}}}); err != nil || errs[0] != nil || errs[1] != nil {
			t.Fatalf("expect a key written twice in one batch, got %v (%v)", errs, err)
		}
		if got, err := s.GetItem(ctx, "eu-central-1", "users", twice); err != nil || (got.String("n") != "a" && got.String("n") != "b") {
			t.Fatalf("expect one of the two writes, got %v (%v)", got, err)
		}
		keys = append(keys, keys[1]) // a key twice: both slots get the item
		got, err := s.GetItems(ctx, "eu-central-1", "users", keys)
		if err != nil || len(got) != len(keys) {
			t.Fatalf("expect %d slots, got %d (%v)", len(keys), len(got), err)
		}
		for i, it := range got[:150] {
			switch {
			case i == 0 && it.String("pk") != "BATCH#0":
				t.Errorf("slot 0: expect the item put second, got %v", it)
			case i != 0 && i%3 == 0 && it != nil:
				t.Errorf("slot %d: expect nil for an absent key, got %v", i, it)
			case i%3 != 0 && it.String("n") != fmt.Sprint(i):
				t.Errorf("slot %d: expect the item under its own key, got %v", i, it)
			}
		}
		if got[150].String("n") != "1" {
			t.Errorf("expect the repeated key's item in its second slot too, got %v", got[150])
		}
		if got, err := s.GetItems(ctx, "us-east-1", "users", keys[:2]); err != nil || got[0] != nil || got[1] != nil {
			t.Fatalf("expect regions to be separate, got %v (%v)", got, err)
		}
	})

}
