package group_test

import (
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
