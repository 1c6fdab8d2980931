package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/record"
)

func TestKeyString(t *testing.T) {
	cases := map[string]struct {
		key  record.Key
		want string
	}{
		"nil":             {nil, `{}`},
		"empty":           {record.Key{}, `{}`},
		"one attribute":   {record.Key{"pk": "USER#u-1001"}, `{"pk":"USER#u-1001"}`},
		"sorted":          {record.Key{"sk": "PROFILE", "pk": "USER#u-1001"}, `{"pk":"USER#u-1001","sk":"PROFILE"}`},
		"numbers":         {record.Key{"id": float64(42), "n": json.Number("7"), "i": 3}, `{"i":3,"id":42,"n":7}`},
		"escaped":         {record.Key{"a\"b": "x\ny", "é": "<&>"}, `{"a\"b":"x\ny","é":"\u003c\u0026\u003e"}`},
		"not json":        {record.Key{"f": math.NaN()}, `{"f":"NaN"}`},
		"float precision": {record.Key{"f": 0.1}, `{"f":0.1}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.key.String(); got != c.want {
				t.Errorf("expect %s, got %s", c.want, got)
			}
		})
	}
}

func TestKeyStringOrderIndependent(t *testing.T) {
	names := []string{"pk", "sk", "tenant", "bucket", "z", "a"}
	var first string
	for shift := range names {
		k := record.Key{}
		for i := range names {
			n := names[(i+shift)%len(names)]
			k[n] = "v-" + n
		}
		got := k.String()
		if shift == 0 {
			first = got
			continue
		}
		if got != first {
			t.Errorf("insertion from %q: expect %s, got %s", names[shift], first, got)
		}
	}
	if want := `{"a":"v-a","bucket":"v-bucket","pk":"v-pk","sk":"v-sk","tenant":"v-tenant","z":"v-z"}`; first != want {
		t.Errorf("expect %s, got %s", want, first)
	}
	// The same key, its number decoded as float64 or json.Number, gives the
	// same string.
	if a, b := (record.Key{"id": float64(42)}).String(), (record.Key{"id": json.Number("42")}).String(); a != b {
		t.Errorf("expect float64 and json.Number keys to agree, got %s and %s", a, b)
	}
}

func TestParseKeyRoundTrip(t *testing.T) {
	cases := map[string]record.Key{
		"empty":     {},
		"strings":   {"pk": "USER#u-1001", "sk": "PROFILE"},
		"number":    {"order_id": json.Number("1001"), "tenant": "acme"},
		"38 digits": {"n": json.Number("12345678901234567890123456789012345678")},
		"unicode":   {"pk": "USER#léa-favre", "sk": "ÜBER<&>"},
		"escapes":   {"pk": "a\"b\\c\n\t"},
		"fraction":  {"v": json.Number("12.5")},
	}
	for name, k := range cases {
		t.Run(name, func(t *testing.T) {
			s := k.String()
			got, err := record.ParseKey(s)
			if err != nil {
				t.Fatalf("expect %s to parse, got %v", s, err)
			}
			if len(k) == 0 {
				k = record.Key{}
			}
			if diff := cmp.Diff(k, got); diff != "" {
				t.Errorf("expect the key back, got diff (-want +got):\n%s", diff)
			}
			if again := got.String(); again != s {
				t.Errorf("expect %s, got %s", s, again)
			}
		})
	}
}

func TestParseKeyErrors(t *testing.T) {
	for name, s := range map[string]string{
		"empty":     ``,
		"array":     `["pk"]`,
		"string":    `"USER#u-1001"`,
		"truncated": `{"pk":"USER#u-1001"`,
		"trailing":  `{"pk":"x"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if k, err := record.ParseKey(s); !errors.Is(err, record.ErrInvalid) {
				t.Errorf("expect an ErrInvalid, got %v and %v", k, err)
			}
		})
	}
}

func TestKeyOf(t *testing.T) {
	item := record.Item{
		"pk": "USER#u-1001", "sk": "PROFILE", "n": float64(7), "num": json.Number("8"), "i": 9, "i64": int64(10),
		"null": nil, "bool": true, "map": map[string]any{"a": 1}, "list": []any{"a"},
	}
	cases := map[string]struct {
		names []string
		want  record.Key
		err   string // in the error; "" for none
	}{
		"strings":         {names: []string{"pk", "sk"}, want: record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}},
		"numbers":         {names: []string{"n", "num", "i", "i64"}, want: record.Key{"n": float64(7), "num": json.Number("8"), "i": 9, "i64": int64(10)}},
		"no names":        {names: nil, err: "no key attributes"},
		"missing":         {names: []string{"pk", "tenant"}, err: `"tenant" missing`},
		"null":            {names: []string{"null"}, err: `"null" missing`},
		"bool":            {names: []string{"pk", "bool"}, err: `"bool" must be a string or number, got bool`},
		"map":             {names: []string{"map"}, err: `"map" must be a string or number`},
		"list":            {names: []string{"list"}, err: `"list" must be a string or number`},
		"first bad named": {names: []string{"missing-1", "bool"}, err: `"missing-1"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := record.KeyOf(item, c.names)
			if c.err != "" {
				if !errors.Is(err, record.ErrInvalid) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("expect an ErrInvalid with %q, got %v", c.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("expect the key, got diff (-want +got):\n%s", diff)
			}
		})
	}
}

func TestItemString(t *testing.T) {
	item := record.Item{
		"s": "u-1001", "empty": "", "f": float64(1795166043), "frac": 0.25, "big": 1e21, "num": json.Number("12345678901234567890"),
		"null": nil, "bool": true, "map": map[string]any{}, "int": 5,
	}
	cases := map[string]struct{ name, want string }{
		"string":       {"s", "u-1001"},
		"empty string": {"empty", ""},
		"float":        {"f", "1795166043"},
		"fraction":     {"frac", "0.25"},
		"no exponent":  {"big", "1000000000000000000000"},
		"json number":  {"num", "12345678901234567890"},
		"missing":      {"nope", ""},
		"null":         {"null", ""},
		"bool":         {"bool", ""},
		"map":          {"map", ""},
		"no name":      {"", ""},
		"go int":       {"int", "5"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := item.String(c.name); got != c.want {
				t.Errorf("expect %q, got %q", c.want, got)
			}
		})
	}
}

func TestItemTime(t *testing.T) {
	want := time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	item := record.Item{
		"rfc": "2026-11-20T09:14:03Z", "epoch": float64(1795166043), "num": json.Number("1795166043"),
		"null": nil, "bad": "soon", "bool": false,
	}
	cases := map[string]struct {
		name string
		want time.Time
		err  bool
	}{
		"rfc 3339":    {name: "rfc", want: want},
		"epoch":       {name: "epoch", want: want},
		"json number": {name: "num", want: want},
		"missing":     {name: "created_at"},
		"null":        {name: "null"},
		"no name":     {name: ""},
		"bad":         {name: "bad", err: true},
		"bool":        {name: "bool", err: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := item.Time(c.name)
			if c.err {
				if !errors.Is(err, record.ErrInvalid) || !strings.Contains(err.Error(), `attribute "`+c.name+`"`) {
					t.Fatalf("expect an ErrInvalid naming the attribute, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect %s, got error %v", c.want, err)
			}
			if !got.Equal(c.want) {
				t.Errorf("expect %s, got %s", c.want, got)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	cases := map[string]struct {
		in   any
		want time.Time
		err  bool
	}{
		"rfc 3339":              {in: "2026-11-20T09:14:03Z", want: want},
		"rfc 3339 offset":       {in: "2026-11-20T11:14:03+02:00", want: want},
		"rfc 3339 nanoseconds":  {in: "2026-11-20T09:14:03.000000001Z", want: want.Add(time.Nanosecond)},
		"numeric string":        {in: "1795166043", want: want},
		"numeric string float":  {in: "1795166043.5", want: want.Add(500 * time.Millisecond)},
		"float64":               {in: float64(1795166043), want: want},
		"json number":           {in: json.Number("1795166043"), want: want},
		"int":                   {in: 1795166043, want: want},
		"int64":                 {in: int64(1795166043), want: want},
		"time":                  {in: want.In(time.FixedZone("X", 3600)), want: want},
		"epoch zero":            {in: float64(0), want: time.Unix(0, 0)},
		"last epoch second":     {in: int64(253402300799), want: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		"empty":                 {in: "", err: true},
		"garbage":               {in: "yesterday", err: true},
		"date only":             {in: "2026-11-20", err: true},
		"milliseconds":          {in: float64(1795166043000), err: true},
		"milliseconds number":   {in: json.Number("1795166043000"), err: true},
		"milliseconds string":   {in: "1795166043000", err: true},
		"negative":              {in: -1, err: true},
		"nan":                   {in: math.NaN(), err: true},
		"inf":                   {in: math.Inf(1), err: true},
		"nan string":            {in: "NaN", err: true},
		"bad json number":       {in: json.Number("12abc"), err: true},
		"out of range number":   {in: json.Number("1e400"), err: true},
		"nil":                   {in: nil, err: true},
		"bool":                  {in: true, err: true},
		"map":                   {in: map[string]any{"s": 1}, err: true},
		"uint (not a contract)": {in: uint(1), err: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := record.ParseTime(c.in)
			if c.err {
				if !errors.Is(err, record.ErrInvalid) {
					t.Fatalf("expect an ErrInvalid, got %s and %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect %s, got error %v", c.want, err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("expect %s in UTC, got %s", c.want.UTC(), got)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	cases := map[string]struct {
		in   time.Time
		want string
	}{
		"zero":     {time.Time{}, ""},
		"utc":      {time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC), "2026-11-20T09:14:03Z"},
		"offset":   {time.Date(2026, 11, 20, 10, 14, 3, 0, time.FixedZone("CET", 3600)), "2026-11-20T09:14:03Z"},
		"fraction": {time.Date(2026, 11, 20, 9, 14, 3, 999999999, time.UTC), "2026-11-20T09:14:03Z"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := record.FormatTime(c.in); got != c.want {
				t.Errorf("expect %q, got %q", c.want, got)
			}
		})
	}
}

func fullTag() record.Tag {
	return record.Tag{
		OriginRegion: "us-east-1", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Status: record.StatusViolation,
		PolicyVersion: "2026-11-01", TaggedAt: "2026-11-20T09:14:04Z", RetainUntil: "2028-12-20T09:14:03Z",
	}
}

func TestTagSameAs(t *testing.T) {
	base := fullTag()
	typ := reflect.TypeFor[record.Tag]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			other := base
			reflect.ValueOf(&other).Elem().Field(i).SetString("changed")
			want := f.Name == "TaggedAt"
			if got := base.SameAs(other); got != want {
				t.Errorf("expect SameAs %v when only %s differs, got %v", want, f.Name, got)
			}
			if got := other.SameAs(base); got != want {
				t.Errorf("expect SameAs to be symmetric (%v), got %v", want, got)
			}
		})
	}
	t.Run("identical", func(t *testing.T) {
		if !base.SameAs(base) {
			t.Error("expect a tag to be the same as itself, got false")
		}
	})
	t.Run("receivers unchanged", func(t *testing.T) {
		a, b := fullTag(), fullTag()
		b.TaggedAt = "2026-11-21T00:00:00Z"
		if !a.SameAs(b) {
			t.Error("expect tags differing only in tagged_at to be the same")
		}
		if a.TaggedAt != fullTag().TaggedAt || b.TaggedAt != "2026-11-21T00:00:00Z" {
			t.Errorf("expect SameAs to leave its tags alone, got %q and %q", a.TaggedAt, b.TaggedAt)
		}
	})
}

func TestTagMapRoundTrip(t *testing.T) {
	withoutRetention := fullTag()
	withoutRetention.RetainUntil = ""
	cases := map[string]struct {
		tag  record.Tag
		keys int
	}{
		"full":              {fullTag(), 7},
		"without retention": {withoutRetention, 6},
		"zero":              {record.Tag{}, 6},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			m := c.tag.Map()
			if len(m) != c.keys {
				t.Errorf("expect %d attributes, got %d: %v", c.keys, len(m), m)
			}
			got, ok := record.TagOf(record.Item{record.TagAttribute: m, "pk": "USER#u-1001"})
			if !ok {
				t.Fatal("expect a tag, got none")
			}
			if diff := cmp.Diff(c.tag, got); diff != "" {
				t.Errorf("expect the tag back, got diff (-want +got):\n%s", diff)
			}
			// Map's names are the JSON names of Tag.
			var viaJSON map[string]any
			if err := json.Unmarshal(mustJSON(t, c.tag), &viaJSON); err != nil {
				t.Fatalf("expect JSON, got %v", err)
			}
			if diff := cmp.Diff(viaJSON, m); diff != "" {
				t.Errorf("expect Map to equal the JSON encoding, got diff (-json +Map):\n%s", diff)
			}
		})
	}
}

func TestTagOf(t *testing.T) {
	cases := map[string]struct {
		item record.Item
		want record.Tag
		ok   bool
	}{
		"no tag":        {record.Item{"pk": "x"}, record.Tag{}, false},
		"nil item":      {nil, record.Tag{}, false},
		"not a map":     {record.Item{record.TagAttribute: "compliant"}, record.Tag{}, false},
		"typed map":     {record.Item{record.TagAttribute: map[string]string{"status": "compliant"}}, record.Tag{}, false},
		"empty map":     {record.Item{record.TagAttribute: map[string]any{}}, record.Tag{}, true},
		"wrong types":   {record.Item{record.TagAttribute: map[string]any{"status": 1, "home_region": "eu-west-1"}}, record.Tag{HomeRegion: "eu-west-1"}, true},
		"unknown field": {record.Item{record.TagAttribute: map[string]any{"status": "relocated", "extra": "x"}}, record.Tag{Status: record.StatusRelocated}, true},
		"decoded json":  {itemFromJSON(t, `{"residency":{"origin_region":"eu-west-1","status":"compliant","tagged_at":"2026-11-20T11:30:01Z"}}`), record.Tag{OriginRegion: "eu-west-1", Status: "compliant", TaggedAt: "2026-11-20T11:30:01Z"}, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := record.TagOf(c.item)
			if ok != c.ok {
				t.Fatalf("expect ok %v, got %v", c.ok, ok)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("expect the tag, got diff (-want +got):\n%s", diff)
			}
		})
	}
}

func itemFromJSON(t *testing.T, s string) record.Item {
	t.Helper()
	var it record.Item
	if err := json.Unmarshal([]byte(s), &it); err != nil {
		t.Fatalf("expect JSON, got %v", err)
	}
	return it
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("expect %T to encode, got %v", v, err)
	}
	return b
}

// FuzzParseTime: ParseTime never panics; it fails with ErrInvalid or returns
// a UTC time; epoch seconds stay within 1970..9999; and a time of years
// 0001..9999 formats with FormatTime to a string that parses back to it at
// second precision.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-20T09:14:03Z", "2026-11-20T10:14:03.123456789+01:00", "1795166043", "1795166043.5",
		"1795166043000", "-1", "NaN", "1e400", "", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00",
		"0x1p30", "253402300799", "253402300800",
	} {
		f.Add(s, 0.0)
	}
	f.Add("", 1795166043.25)
	f.Add("", 1e12)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		check := func(in any, numeric bool) {
			got, err := record.ParseTime(in)
			if err != nil {
				if !errors.Is(err, record.ErrInvalid) {
					t.Fatalf("ParseTime(%#v): expect an ErrInvalid, got %v", in, err)
				}
				return
			}
			if got.Location() != time.UTC {
				t.Fatalf("ParseTime(%#v): expect UTC, got %s", in, got.Location())
			}
			if numeric && (got.Before(time.Unix(0, 0)) || got.Year() > 9999) {
				t.Fatalf("ParseTime(%#v): expect epoch seconds within 1970..9999, got %s", in, got)
			}
			if y := got.Year(); y < 1 || y > 9999 || got.IsZero() {
				return
			}
			back, err := record.ParseTime(record.FormatTime(got))
			if err != nil {
				t.Fatalf("ParseTime(%#v) = %s: expect its format to parse, got %v", in, got, err)
			}
			if want := got.Truncate(time.Second); !back.Equal(want) {
				t.Fatalf("ParseTime(%#v): expect %s back, got %s", in, want, back)
			}
		}
		check(s, false)
		check(json.Number(s), true)
		check(x, true)
	})
}

// FuzzKeyString checks the canonical key encoding against its definition:
// a JSON object with sorted names, each name and value as json.Marshal
// writes it. Ledger ids and store keys are made of it: not a byte may move.
func FuzzKeyString(f *testing.F) {
	for _, s := range []string{"USER#u-1001", "", "a<b>&c", "é", "\x00\x7f", `q"\`, "\u2028", "\xff"} {
		f.Add("pk", s, "sk", "PROFILE")
	}
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		k := record.Key{n1: v1, n2: v2, "n": 42.5}
		names := []string{}
		for n := range k {
			names = append(names, n)
		}
		sort.Strings(names)
		want := "{"
		for i, n := range names {
			if i > 0 {
				want += ","
			}
			nb, _ := json.Marshal(n)
			vb, _ := json.Marshal(k[n])
			want += string(nb) + ":" + string(vb)
		}
		want += "}"
		if got := k.String(); got != want {
			t.Fatalf("key %q: expect %s, got %s", k, want, got)
		}
	})
}

func TestTagJSONIsTheMapsJSON(t *testing.T) {
	for _, tag := range []record.Tag{
		{},
		{OriginRegion: "us-east-1", Jurisdiction: "EU", HomeRegion: "eu-west-1", Status: "misplaced", PolicyVersion: "2026-11-01", TaggedAt: "2026-11-20T10:00:00Z"},
		{OriginRegion: "eu-west-1", Jurisdiction: "EU", HomeRegion: "eu-west-1", Status: "compliant", PolicyVersion: `v"<&>'é\u2028`, TaggedAt: "t", RetainUntil: "2029-01-01T00:00:00Z"},
	} {
		want, err := json.Marshal(tag.Map())
		if err != nil {
			t.Fatal(err)
		}
		got, err := tag.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("expect the tag's JSON to be its map's\n got %s\nwant %s", got, want)
		}
	}
}

// FuzzItemAppendJSON: Item.AppendJSON writes what json.Marshal writes, and
// fails where it fails, for any item decoded from JSON (with UseNumber)
// and for values of other types.
func FuzzItemAppendJSON(f *testing.F) {
	for _, s := range []string{`{"pk":"USER#u-1","n":1.5e3,"l":[true,false,null,{"b":"<&>","a":"\u2028\ud83d"}],"m":{}}`,
		`{}`, "{\"\xff\":\"\xfe\"}", `{"z":[],"a":{"y":{"x":-0}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var it record.Item
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if d.Decode(&it) != nil {
			return
		}
		it2 := record.Item{"decoded": map[string]any(it), "float": 1.5e-7, "int": 42, "bytes": []byte("x"), "nilmap": map[string]any(nil),
			"nillist": []any(nil), "empty": json.Number("")}
		it3 := record.Item{"decoded": map[string]any(it), "bad": json.Number("1x")}
		for _, v := range []record.Item{it, it2, it3} {
			want, werr := json.Marshal(v)
			got, gerr := v.AppendJSON([]byte("prefix"))
			if (werr == nil) != (gerr == nil) {
				t.Fatalf("expect the error json.Marshal gives (%v), got %v", werr, gerr)
			}
			if werr == nil && string(got) != "prefix"+string(want) {
				t.Fatalf("expect %s, got %s", want, got[len("prefix"):])
			}
		}
	})
}
