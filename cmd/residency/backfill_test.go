package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// TestBackfill: records that predate Residency (in the tables, with no
// stream record) are tagged by a backfill; a misplaced one is relocated, an
// expired one is swept with a receipt, a malformed one fails alone by its
// reference, and a second backfill writes nothing.
func TestBackfill(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	st, err := sqlitestore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	put := func(region, pk, user, country, created string) sqlitestore.ReplayedWrite {
		item := map[string]any{"pk": pk, "sk": "PROFILE", "country": country, "created_at": created}
		if user != "" {
			item["user_id"] = user
		}
		b, _ := json.Marshal(item)
		return sqlitestore.ReplayedWrite{Region: region, Table: "users", Key: record.Key{"pk": pk, "sk": "PROFILE"}, Item: b}
	}
	if err := st.ReplayWrites(context.Background(), []sqlitestore.ReplayedWrite{
		put("us-east-1", "USER#u-8001", "u-8001", "FR", "2026-10-01T00:00:00Z"), // an EEA subject in the US for years
		put("us-east-1", "USER#u-8002", "u-8002", "US", "2023-01-01T00:00:00Z"), // past its 25 months
		put("eu-central-1", "USER#u-8003", "u-8003", "DE", "2026-10-01T00:00:00Z"),
		put("eu-central-1", "USER#u-8004", "", "DE", "2026-10-01T00:00:00Z"), // no subject id
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	type result struct {
		Region, Table                        string
		Items, Tagged, Unchanged, Violations int
		Failed                               []struct{ Record, Reason string }
	}
	backfill := func(progress string) map[string]result {
		t.Helper()
		code, out, errs := cli(t, "backfill", "--db", db, "--now", "2026-11-22T12:00:00Z")
		var rs []result
		if code != 0 || json.Unmarshal([]byte(out), &rs) != nil {
			t.Fatalf("expect the backfill's JSON, got %d %s %s", code, out, errs)
		}
		if !strings.Contains(errs, progress) {
			t.Errorf("expect a progress line a page, got %s", errs)
		}
		m := map[string]result{}
		for _, r := range rs {
			m[r.Region] = r
		}
		return m
	}
	first := backfill("backfill us-east-1/users: 2 records (2 tagged, 0 unchanged, 1 violations, 0 failed)")
	if r := first["us-east-1"]; r.Items != 2 || r.Tagged != 2 || r.Violations != 1 || len(r.Failed) != 0 {
		t.Errorf("expect us-east-1's two records tagged, one violation, got %+v", r)
	}
	if r := first["eu-central-1"]; r.Items != 2 || r.Tagged != 1 || len(r.Failed) != 1 ||
		!strings.HasPrefix(r.Failed[0].Record, "rec_") || !strings.Contains(r.Failed[0].Reason, `"user_id" missing`) {
		t.Errorf("expect one tagged and one failed by reference, got %+v", r)
	}
	// The misplaced record went home (its copy's tag echoes there).
	second := backfill("backfill eu-central-1/users: 3 records (0 tagged, 2 unchanged, 0 violations, 1 failed)")
	for region, r := range second {
		if r.Tagged != 0 || r.Violations != 0 {
			t.Errorf("%s: expect a second backfill to write nothing, got %+v", region, r)
		}
	}
	code, out, errs := cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "csv", "--kind", "violation,relocation")
	if code != 0 || !strings.Contains(out, ",violation,us-east-1,users,") || !strings.Contains(out, ",relocated,") {
		t.Fatalf("expect the misplaced record's violation and relocation, got %d %s %s", code, out, errs)
	}
	code, out, errs = cli(t, "sweep", "--db", db, "--now", "2026-11-22T12:00:00Z")
	if code != 0 || !strings.Contains(out, `"deleted": 1`) {
		t.Fatalf("expect the expired record swept, got %d %s %s", code, out, errs)
	}
}
