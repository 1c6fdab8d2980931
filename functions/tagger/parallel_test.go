package tagger_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/record"
)

// A page large enough for its pure work to be spread over the cores (its
// keyed references, readings and decisions, see group.Parallel) gives what
// the same records give one page each, in the same order: tags, events,
// ledger drafts, figures and failures, the failing records in the middle
// of the chunks included.
func TestBackfillPageSpreadOverTheCoresIsItsRecordsOneByOne(t *testing.T) {
	ctx := context.Background()
	// The first has no key: it fails by its position, "item 0".
	items := []record.Item{{"sk": "PROFILE", "user_id": "no-key"}}
	for i := range 300 {
		it := record.Item{"pk": fmt.Sprintf("USER#p-%03d", i), "sk": "PROFILE", "user_id": fmt.Sprintf("p-%03d", i),
			"country": []string{"US", "FR", "GB", "JP", "DE"}[i%5], "created_at": "2026-11-01T00:00:00Z", "account_id": fmt.Sprintf("acct-%d", i%7)}
		switch {
		case i%37 == 0:
			delete(it, "user_id") // cannot be tagged: fails alone
		case i%53 == 0:
			it["created_at"] = "not a time"
		case i%41 == 0:
			it["created_at"] = "2023-01-01T00:00:00Z" // past its retention: tagged due
		}
		items = append(items, it)
	}
	run := func(pageSize int) ([]tagger.BackfillResult, []record.Tag, any, any) {
		h, st, sk := setup(t, "us-east-1")
		for _, it := range items {
			if it["pk"] == nil {
				continue
			}
			if err := st.PutItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"}, it, false); err != nil {
				t.Fatal(err)
			}
		}
		var results []tagger.BackfillResult
		total := tagger.BackfillResult{Failed: []tagger.BackfillFailure{}}
		for start := 0; start < len(items); start += pageSize {
			res, err := h.Backfill(ctx, "us-east-1", "users", items[start:min(len(items), start+pageSize)])
			if err != nil {
				t.Fatal(err)
			}
			total.Add(res)
		}
		results = append(results, total)
		var tags []record.Tag
		for _, it := range items {
			if it["pk"] == nil {
				continue
			}
			got, err := st.GetItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"})
			if err != nil {
				t.Fatal(err)
			}
			tag, _ := record.TagOf(got)
			tags = append(tags, tag)
		}
		return results, tags, sk.Events, sk.Entries
	}
	pageRes, pageTags, pageEvents, pageEntries := run(len(items))
	oneRes, oneTags, oneEvents, oneEntries := run(1)
	if pageRes[0].Tagged == 0 || pageRes[0].Violations == 0 || len(pageRes[0].Failed) < 10 {
		t.Fatalf("expect tagged records, violations and failures, got %+v", pageRes[0])
	}
	for name, d := range map[string]string{
		"figures and failures": cmp.Diff(oneRes, pageRes),
		"tags":                 cmp.Diff(oneTags, pageTags),
		// A sealed key is encrypted with a fresh nonce each time.
		"events":        cmp.Diff(oneEvents, pageEvents, cmpopts.IgnoreFields(events.ResidencyViolationDetail{}, "RecordSealed")),
		"ledger drafts": cmp.Diff(oneEntries, pageEntries),
	} {
		if d != "" {
			t.Errorf("expect the page's %s to be its records' one by one (-one +page):\n%s", name, d)
		}
	}
}
