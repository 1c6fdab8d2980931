package local

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/record"
)

// TestReadAheadReadsEachPageOnce: pages come back in order, each read once
// (the one read ahead is used) and prepared for the tagger there, a caller
// that asks for another cursor gets that page (read then, unprepared), and
// wait leaves no read running.
func TestReadAheadReadsEachPageOnce(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	preparedFor := map[*tagger.PreparedPage]string{} // -> the page's cursor
	prepare := func(items []record.Item) *tagger.PreparedPage {
		mu.Lock()
		defer mu.Unlock()
		pp := new(tagger.PreparedPage)
		preparedFor[pp] = items[0]["page"].(string)
		return pp
	}
	src := func(_ context.Context, cursor string, limit int, _ preparer) (sourcePage, error) {
		mu.Lock()
		reads[cursor]++
		mu.Unlock()
		n, _ := strconv.Atoi(cursor)
		next := ""
		if n+1 < 5 {
			next = strconv.Itoa(n + 1)
		}
		return sourcePage{items: []record.Item{{"page": cursor, "limit": limit}}, next: next}, nil
	}
	a := &readAhead{read: src}
	ctx := context.Background()
	cursor := "0"
	for i := 0; cursor != ""; i++ {
		pg, err := a.page(ctx, cursor, 10, prepare)
		if err != nil || pg.items[0]["page"] != cursor {
			t.Fatalf("page %s: expect its own item, got %v, %v", cursor, pg.items, err)
		}
		mu.Lock()
		got, ok := preparedFor[pg.prepared]
		mu.Unlock()
		// The first page, and the one the caller went back to, were read
		// there and then; every other was read, and prepared, ahead.
		if ahead := i != 0 && i != 2; ahead != (pg.prepared != nil) || (ahead && (!ok || got != cursor)) {
			t.Errorf("page %s (call %d): expect prepared ahead %v, got a page prepared for %q", cursor, i, ahead, got)
		}
		next := pg.next
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
