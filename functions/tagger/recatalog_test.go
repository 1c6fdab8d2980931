package tagger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// failingCatalog fails its first PutEntries: the page's tags are written,
// its catalog entries are not.
type failingCatalog struct {
	*sqlitestore.Store
	failed bool
}

func (c *failingCatalog) PutEntries(ctx context.Context, es []catalog.Entry) error {
	if !c.failed {
		c.failed = true
		return errors.New("throttled")
	}
	return c.Store.PutEntries(ctx, es)
}

// A backfill page that failed after its tag writes, before its catalog
// writes, is retried: its records, whose tags are now current, are
// catalogued and their violations logged, not skipped as unchanged. A
// third pass writes nothing.
func TestBackfillRetryCataloguesWhatAFailedPageTagged(t *testing.T) {
	h, st, sk := setup(t, "us-east-1")
	ctx := context.Background()
	cat := &failingCatalog{Store: st}
	h.Catalog = cat
	var items []record.Item
	for i := range 10 {
		country := "US"
		if i%5 == 0 {
			country = "FR" // misplaced in us-east-1
		}
		it := record.Item{"pk": fmt.Sprintf("USER#b-%d", i), "sk": "PROFILE", "user_id": fmt.Sprintf("b-%d", i), "country": country,
			"created_at": "2026-11-01T00:00:00Z"}
		if err := st.PutItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"}, it, false); err != nil {
			t.Fatal(err)
		}
		items = append(items, it)
	}
	read := func() []record.Item { // as a scan page reads them: with their tags
		var out []record.Item
		for _, it := range items {
			got, err := st.GetItem(ctx, "us-east-1", "users", record.Key{"pk": it["pk"], "sk": "PROFILE"})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, got)
		}
		return out
	}
	if _, err := h.Backfill(ctx, "us-east-1", "users", read()); err == nil {
		t.Fatal("expect the page to fail at its catalog write")
	}
	if n, _ := st.CountEntries(ctx, "us-east-1"); n != 0 {
		t.Fatalf("expect no catalog entry after the failure, got %d", n)
	}

	res, err := h.Backfill(ctx, "us-east-1", "users", read())
	if err != nil {
		t.Fatal(err)
	}
	if res.Recatalogued != 10 || res.Unchanged != 0 || res.Violations != 2 {
		t.Fatalf("expect the retry to catalog all 10 and log the 2 violations, got %+v", res)
	}
	if n, _ := st.CountEntries(ctx, "us-east-1"); n != 10 {
		t.Fatalf("expect 10 catalog entries, got %d", n)
	}
	violations := 0
	for _, e := range sk.Entries {
		if e.Kind == ledger.KindViolation {
			violations++
		}
	}
	if violations != 2 {
		t.Fatalf("expect 2 violation entries sent, got %d", violations)
	}

	sent := len(sk.Entries)
	again, err := h.Backfill(ctx, "us-east-1", "users", read())
	if err != nil || again.Unchanged != 10 || again.Recatalogued != 0 || again.Tagged != 0 || len(sk.Entries) != sent {
		t.Fatalf("expect a third pass to change nothing, got %+v (%v), %d entries sent", again, err, len(sk.Entries)-sent)
	}
}
