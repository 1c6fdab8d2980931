// Package sqlitetest opens embedded stores for tests: one fresh store in the
// test's temporary directory, closed when the test ends.
package sqlitetest

import (
	"path/filepath"
	"testing"

	"github.com/residency-dev/residency/shared/sqlitestore"
)

// Open opens a new embedded store in tb's temporary directory and closes it
// when tb's test ends; it fails the test when the store does not open.
func Open(tb testing.TB) *sqlitestore.Store {
	tb.Helper()
	st, err := sqlitestore.Open(filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatalf("open the embedded store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
