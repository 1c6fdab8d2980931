package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// catalogIndexNames lists the indexes of the catalog table in the store
// file at path, read with a connection of the test's own.
func catalogIndexNames(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_schema WHERE type='index' AND tbl_name='catalog' AND sql IS NOT NULL ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// TestCatalogIndexesDroppedForABulkLoad: while a bulk load has the
// catalog's due, subject and contract indexes dropped, the sweep's,
// erasure's and contract end's queries find the same entries (by scanning); BuildCatalogIndexes, or
// opening the store after a load killed before it, builds them again.
func TestCatalogIndexesDroppedForABulkLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulk.db")
	st, err := sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"catalog_contract", "catalog_due", "catalog_subject"}
	if got := catalogIndexNames(t, path); !slices.Equal(got, all) {
		t.Fatalf("expect a new store's catalog indexed by %v, got %v", all, got)
	}
	tagged := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var entries []catalog.Entry
	for i := range 20 {
		entries = append(entries, catalog.Entry{Region: "us-east-1", Source: "users", SourceKind: catalog.SourceTable,
			Key: record.Key{"user_id": string(rune('a' + i))}, SubjectRef: []string{"sub_x", "sub_y"}[i%2], Category: "profile",
			Contract: []string{"", "acct-1", "acct-2"}[i%3], OriginRegion: "us-east-1", HomeRegion: "us-east-1", Jurisdiction: "US", Status: "compliant", PolicyVersion: "v1",
			TaggedAt: tagged, RetainUntil: tagged.AddDate(0, 0, i)})
	}
	if err := st.PutEntries(ctx, entries); err != nil {
		t.Fatal(err)
	}
	query := func() (due, subject, contract int) {
		t.Helper()
		d, _, err := st.DueEntries(ctx, "us-east-1", tagged.AddDate(0, 0, 10), catalog.Cursor{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.EntriesBySubject(ctx, "us-east-1", "sub_y")
		if err != nil {
			t.Fatal(err)
		}
		c, err := st.EntriesByContract(ctx, "us-east-1", "acct-1")
		if err != nil {
			t.Fatal(err)
		}
		return len(d), len(s), len(c)
	}
	due, subject, contract := query()
	if due == 0 || subject != 10 || contract != 7 {
		t.Fatalf("expect due entries, 10 of sub_y and 7 of acct-1, got %d, %d and %d", due, subject, contract)
	}

	if err := st.DropCatalogIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if got := catalogIndexNames(t, path); len(got) != 0 {
		t.Fatalf("expect no index on the catalog while loading, got %v", got)
	}
	if d, s, c := query(); d != due || s != subject || c != contract {
		t.Fatalf("expect the same answers without the indexes, got %d, %d and %d, want %d, %d and %d", d, s, c, due, subject, contract)
	}
	if err := st.BuildCatalogIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if got := catalogIndexNames(t, path); !slices.Equal(got, all) {
		t.Fatalf("expect the indexes built again, got %v", got)
	}

	// A load killed before it built them: the next Open does.
	if err := st.DropCatalogIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = sqlitestore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := catalogIndexNames(t, path); !slices.Equal(got, all) {
		t.Fatalf("expect Open to build the missing indexes, got %v", got)
	}
	if d, s, c := query(); d != due || s != subject || c != contract {
		t.Fatalf("expect the same answers after, got %d, %d and %d", d, s, c)
	}
}
