package ledger_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ledger"
)

var receipt = ledger.Entry{ID: "del_3f1c", Time: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Kind: ledger.KindDeletion,
	Region: "eu-central-1", Source: "users", Record: "rec_241501b3cbb35257a111ae87ab0c6ec6", SubjectRef: "sub_0e797da432b115bd0eb6ade1f4938c45",
	Category: "profile", FromRegion: "eu-central-1", Reference: "retention of profile: 25mo from created, due 2026-11-21T12:00:00Z",
	Decision: "deleted", PolicyVersion: "2026-11-01", Actor: "retention"}

func TestJSONIsEncodingJSONs(t *testing.T) {
	cases := map[string]ledger.Entry{
		"receipt":         receipt,
		"zero":            {},
		"stored":          {Seq: 42, ID: "x", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), PrevHash: ledger.GenesisHash, Hash: "ab"},
		"html characters": {ID: "a<b>&c", Reference: `say "hi" \ bye`},
		"non-ASCII":       {Importer: "Société Générale", Reference: "\u2028\xff"},
		"local time":      {Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))},
		"negative seq":    {Seq: -7},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			want, werr := json.Marshal(e)
			got, gerr := e.AppendJSON(nil)
			if (werr != nil) != (gerr != nil) || !bytes.Equal(want, got) {
				t.Fatalf("expect json.Marshal's %s (%v), got %s (%v)", want, werr, got, gerr)
			}
			back, err := ledger.DecodeJSON(got)
			if err != nil {
				t.Fatal(err)
			}
			var ref ledger.Entry
			json.Unmarshal(got, &ref)
			if d := cmp.Diff(ref, back); d != "" {
				t.Fatalf("decoded (-json.Unmarshal +DecodeJSON):\n%s", d)
			}
		})
	}
}

func TestDecodeJSONFallsBackLikeEncodingJSON(t *testing.T) {
	cases := map[string]string{
		"other case":       `{"ID":"a","Kind":"deletion"}`,
		"unknown member":   `{"id":"a","extra":[1,{"x":null}]}`,
		"null":             `{"id":null,"seq":null,"time":null}`,
		"escaped":          `{"id":"a\u0041\n","\u0072egion":"eu"}`,
		"seq float":        `{"seq":1.5}`,
		"seq string":       `{"seq":"5"}`,
		"seq too big":      `{"seq":99999999999999999999}`,
		"bad time":         `{"time":"yesterday"}`,
		"time number":      `{"time":5}`,
		"duplicate":        `{"id":"a","id":"b"}`,
		"trailing":         `{"id":"a"} x`,
		"not an object":    `["id"]`,
		"truncated":        `{"id":"a"`,
		"empty":            ``,
		"string for kind":  `{"kind":7}`,
		"space everywhere": " {\n \"id\" : \"a\" ,\t\"seq\":3 } ",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			checkDecode(t, []byte(in))
		})
	}
}

func checkDecode(t *testing.T, in []byte) {
	t.Helper()
	var want ledger.Entry
	werr := json.Unmarshal(in, &want)
	got, gerr := ledger.DecodeJSON(in)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%q: expect error %v, got %v", in, werr, gerr)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%q: decoded (-json.Unmarshal +DecodeJSON):\n%s", in, d)
	}
	if werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: expect encoding/json's error %q, got %q", in, werr, gerr)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	good, _ := json.Marshal(receipt)
	f.Add(good)
	f.Add([]byte(`{"seq":1,"time":"2026-11-22T12:00:00.123+01:00","id":"x\u00e9"}`))
	f.Add([]byte(`{"Seq":1,"hash":"\ud800"}`))
	f.Fuzz(checkDecode)
}

func FuzzAppendJSON(f *testing.F) {
	f.Add(int64(0), int64(1795166043), "del_3f1c", "deletion", "retention of profile: 25mo", "sub_x", true)
	f.Add(int64(-1), int64(-62135596800), "a<b>", "\xff", "\u2028", `"\`, false)
	f.Add(int64(9), int64(253402300800), "", "", "", "", true)
	f.Fuzz(func(t *testing.T, seq, unix int64, id, kind, reference, subject string, utc bool) {
		at := time.Unix(unix, unix%1000).UTC()
		if !utc {
			at = at.In(time.FixedZone("X", int(unix%50000)))
		}
		e := ledger.Entry{Seq: seq, ID: id, Time: at, Kind: ledger.Kind(kind), Region: "eu-west-1", Reference: reference,
			SubjectRef: subject, Importer: id + reference, Hash: subject}
		want, werr := json.Marshal(e)
		got, gerr := e.AppendJSON([]byte("prefix"))
		if (werr != nil) != (gerr != nil) || werr == nil && !bytes.Equal(append([]byte("prefix"), want...), got) {
			t.Fatalf("expect json.Marshal's %s (%v), got %s (%v)", want, werr, got, gerr)
		}
	})
}

// BenchmarkJSON compares the receipt's trip through the ledger queue,
// encoded and decoded, with encoding/json's.
func BenchmarkJSON(b *testing.B) {
	body, _ := json.Marshal(receipt)
	b.Run("encode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(receipt)
		}
	})
	b.Run("encode/AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			receipt.AppendJSON(nil)
		}
	})
	b.Run("decode/encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e ledger.Entry
			json.Unmarshal(body, &e)
		}
	})
	b.Run("decode/DecodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ledger.DecodeJSON(body)
		}
	})
}

func indentEntry(s string, seq int64, nanos int64) ledger.Entry {
	return ledger.Entry{Seq: seq, ID: s, Time: time.Unix(1795334400, nanos).UTC(), Kind: ledger.Kind(s), Region: s, Source: s, Record: s,
		SubjectRef: s, Category: s, FromRegion: s, FromCountry: s, ToRegion: s, ToCountry: s, Importer: s, Mechanism: s, Reference: s,
		Decision: s, PolicyVersion: s, Actor: s, PrevHash: s, Hash: s}
}

func checkIndentJSON(t *testing.T, e ledger.Entry) {
	t.Helper()
	want, err := json.MarshalIndent(&e, "    ", "  ")
	if err != nil {
		t.Skip(err) // a time encoding/json refuses
	}
	if got, err := e.AppendJSONIndent(nil, "    ", "  "); err != nil || string(got) != string(want) {
		t.Fatalf("expect encoding/json's bytes:\n%s\ngot:\n%s (%v)", want, got, err)
	}
}

func TestAppendJSONIndent(t *testing.T) {
	cases := map[string]string{
		"empty": "", "plain": "Acme Inc", "html": `<script>&"x"</script>`, "controls": "\x00\x01\b\f\n\r\t\x1f\x7f",
		"backslash": `C:\path\`, "unicode": "Zürich 東京 🇪🇺", "separators": "a\u2028b\u2029c", "invalid UTF-8": "a\xffb\xc3",
		"surrogate-ish": "\xed\xa0\x80",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) { checkIndentJSON(t, indentEntry(s, 42, 123456789)) })
	}
	checkIndentJSON(t, indentEntry("x", -7, 0))
}

func FuzzAppendJSONIndent(f *testing.F) {
	for _, s := range []string{"", "Acme Inc", "<&>", "\x00\u2028\xff", "é"} {
		f.Add(s, int64(1), int64(5))
	}
	f.Fuzz(func(t *testing.T, s string, seq, nanos int64) {
		checkIndentJSON(t, indentEntry(s, seq, nanos%1e9))
	})
}
