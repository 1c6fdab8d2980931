package group_test

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/group"
)

type item struct{ region, table, key string }

func byTable(it item) [2]string { return [2]string{it.region, it.table} }

func TestBy(t *testing.T) {
	a1, a2 := item{"eu", "users", "1"}, item{"eu", "users", "2"}
	b1, b2 := item{"us", "users", "3"}, item{"us", "users", "4"}
	c1 := item{"eu", "orders", "5"}
	for _, c := range []struct {
		name string
		in   []item
		want [][]item
	}{
		{"none", nil, nil},
		{"one group", []item{a1, a2}, [][]item{{a1, a2}}},
		{"in the order keys first appear, each in the batch's order", []item{b1, a1, c1, b2, a2}, [][]item{{b1, b2}, {a1, a2}, {c1}}},
	} {
		if d := cmp.Diff(c.want, group.By(c.in, byTable), cmp.AllowUnexported(item{})); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, d)
		}
	}
	// One group is the batch itself.
	in := []item{a1, a2}
	if g := group.By(in, byTable); &g[0][0] != &in[0] {
		t.Errorf("expect one group to be the batch, not a copy")
	}
}

func TestParallel(t *testing.T) {
	for _, c := range []struct{ n, grain int }{{0, 10}, {1, 10}, {19, 10}, {20, 10}, {1000, 64}, {1001, 1}, {5, 0}} {
		seen := make([]int, c.n)
		var calls atomic.Int32
		group.Parallel(c.n, c.grain, func(lo, hi int) {
			calls.Add(1)
			if lo >= hi {
				t.Errorf("n=%d grain=%d: empty chunk [%d, %d)", c.n, c.grain, lo, hi)
			}
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, s := range seen {
			if s != 1 {
				t.Fatalf("n=%d grain=%d: element %d covered %d times, want once", c.n, c.grain, i, s)
			}
		}
		chunks := int(calls.Load())
		if max := runtime.GOMAXPROCS(0); chunks > max {
			t.Errorf("n=%d grain=%d: %d chunks on %d cores", c.n, c.grain, chunks, max)
		}
		if want := min(runtime.GOMAXPROCS(0), c.n/max(c.grain, 1)); want > 1 && chunks != want {
			t.Errorf("n=%d grain=%d: %d chunks, want %d (one a core)", c.n, c.grain, chunks, want)
		}
		if c.n == 0 && chunks != 0 {
			t.Errorf("n=0: f called %d times, want never", chunks)
		}
		if c.grain > 0 && c.n > 0 && chunks > 1 && c.n/chunks < c.grain {
			t.Errorf("n=%d grain=%d: %d chunks hold fewer than a grain each", c.n, c.grain, chunks)
		}
	}
}
