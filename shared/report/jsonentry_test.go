package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

func entryOf(s string, seq int64, nanos int64) ledger.Entry {
	return ledger.Entry{Seq: seq, ID: s, Time: time.Unix(1795334400, nanos).UTC(), Kind: ledger.Kind(s), Region: s, Source: s, Record: s,
		SubjectRef: s, Category: s, FromRegion: s, FromCountry: s, ToRegion: s, ToCountry: s, Importer: s, Mechanism: s, Reference: s,
		Decision: s, PolicyVersion: s, Actor: s, PrevHash: s, Hash: s}
}

func checkEntryJSON(t *testing.T, e ledger.Entry) {
	t.Helper()
	want, err := json.MarshalIndent(&e, "    ", "  ")
	if err != nil {
		t.Skip(err) // a time encoding/json refuses
	}
	if got := appendEntryJSON(nil, &e); string(got) != string(want) {
		t.Fatalf("expect encoding/json's bytes:\n%s\ngot:\n%s", want, got)
	}
}

func TestEntryJSON(t *testing.T) {
	cases := map[string]string{
		"empty": "", "plain": "Acme Inc", "html": `<script>&"x"</script>`, "controls": "\x00\x01\b\f\n\r\t\x1f\x7f",
		"backslash": `C:\path\`, "unicode": "Zürich 東京 🇪🇺", "separators": "a\u2028b\u2029c", "invalid UTF-8": "a\xffb\xc3",
		"surrogate-ish": "\xed\xa0\x80",
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) { checkEntryJSON(t, entryOf(s, 42, 123456789)) })
	}
	checkEntryJSON(t, entryOf("x", -7, 0))
}

func FuzzEntryJSON(f *testing.F) {
	for _, s := range []string{"", "Acme Inc", "<&>", "\x00\u2028\xff", "é"} {
		f.Add(s, int64(1), int64(5))
	}
	f.Fuzz(func(t *testing.T, s string, seq, nanos int64) {
		checkEntryJSON(t, entryOf(s, seq, nanos%1e9))
	})
}
