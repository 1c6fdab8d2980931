package router

import (
	"encoding/json"
	"testing"

	"github.com/residency-dev/residency/shared/record"
)

func TestSameData(t *testing.T) {
	base := func() record.Item {
		return record.Item{"pk": "u1", "age": json.Number("42"), "tags": []any{"a", "b"}, "addr": map[string]any{"city": "Lyon"}}
	}
	with := func(f func(record.Item)) record.Item { it := base(); f(it); return it }
	for _, c := range []struct {
		name string
		a, b record.Item
		want bool
	}{
		{"the same", base(), base(), true},
		{"but for the tag and the quarantine bookkeeping", base(), with(func(it record.Item) {
			it[record.TagAttribute] = map[string]any{"home_region": "eu-west-1"}
			it[quarantineSourceAttr] = "users"
		}), true},
		{"a number read back as another type", base(), with(func(it record.Item) { it["age"] = 42.0 }), true},
		{"another value", base(), with(func(it record.Item) { it["age"] = json.Number("43") }), false},
		{"a nested value", base(), with(func(it record.Item) { it["addr"] = map[string]any{"city": "Lille"} }), false},
		{"an attribute missing", base(), with(func(it record.Item) { delete(it, "tags") }), false},
		{"an attribute more", base(), with(func(it record.Item) { it["x"] = "" }), false},
		{"an attribute more, with the tag", with(func(it record.Item) { it[record.TagAttribute] = "t" }), with(func(it record.Item) { it["x"] = "" }), false},
	} {
		if got := sameData(c.a, c.b); got != c.want {
			t.Errorf("%s: expect sameData %v, got %v", c.name, c.want, got)
		}
		if got := sameData(c.b, c.a); got != c.want {
			t.Errorf("%s (the other way): expect sameData %v, got %v", c.name, c.want, got)
		}
	}
}
