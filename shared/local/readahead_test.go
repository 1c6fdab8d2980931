package local

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// TestReadAheadReadsEachPageOnce: pages come back in order, each read once
// (the one read ahead is used), a caller that asks for another cursor gets
// that page, and wait leaves no read running.
func TestReadAheadReadsEachPageOnce(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	src := func(_ context.Context, cursor string, limit int) ([]record.Item, []sqlitestore.ReplayedWrite, string, error) {
		mu.Lock()
		reads[cursor]++
		mu.Unlock()
		n, _ := strconv.Atoi(cursor)
		next := ""
		if n+1 < 5 {
			next = strconv.Itoa(n + 1)
		}
		return []record.Item{{"page": cursor, "limit": limit}}, nil, next, nil
	}
	a := &readAhead{read: src}
	ctx := context.Background()
	cursor := "0"
	for i := 0; cursor != ""; i++ {
		items, _, next, err := a.page(ctx, cursor, 10)
		if err != nil || items[0]["page"] != cursor {
			t.Fatalf("page %s: expect its own item, got %v, %v", cursor, items, err)
		}
		if i == 1 {
			next = "1" // the caller goes back: that page is read again
		}
		cursor = next
	}
	a.wait()
	if a.next != nil {
		t.Fatal("expect no read left after wait")
	}
	want := map[string]int{"0": 1, "1": 2, "2": 2, "3": 1, "4": 1}
	mu.Lock()
	defer mu.Unlock()
	for c, n := range want {
		if reads[c] != n {
			t.Errorf("cursor %s: expect %d reads, got %d (all: %v)", c, n, reads[c], reads)
		}
	}
}
