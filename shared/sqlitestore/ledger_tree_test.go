package sqlitestore_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/storetest"
)

// TestTree runs the tree contract; a store "made before the tree" is one
// whose ledger_tree rows are gone and whose schema version is 3: opening it
// runs migration 4, which computes them from the entries.
func TestTree(t *testing.T) {
	paths := map[storetest.TreeStore]string{}
	openAt := func(t *testing.T, path string) *sqlitestore.Store {
		s, err := sqlitestore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if paths[s] != "" {
				s.Close()
			}
		})
		paths[s] = path
		return s
	}
	storetest.RunTree(t, func(t *testing.T) storetest.TreeStore {
		return openAt(t, filepath.Join(t.TempDir(), "store.db"))
	}, func(t *testing.T, s storetest.TreeStore, region string) storetest.TreeStore {
		path := paths[s]
		s.(*sqlitestore.Store).Close()
		paths[s] = "" // closed
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), `DELETE FROM ledger_tree WHERE region = ?; PRAGMA user_version = 3`, region); err != nil {
			t.Fatal(err)
		}
		var n int
		db.QueryRow(`SELECT count(*) FROM ledger_tree`).Scan(&n)
		if n != 0 {
			t.Fatalf("expect no stored hashes left, got %d", n)
		}
		db.Close()
		return openAt(t, path)
	})
}
