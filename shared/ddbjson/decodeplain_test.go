package ddbjson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/record"
)

// wantPlain is the oracle: encoding/json into a record.Item with
// UseNumber (plainItem), refusing trailing data as json.Unmarshal does.
func wantPlain(b []byte) (record.Item, bool) {
	it, err := plainItem(b)
	return it, err == nil && json.Valid(b)
}

var plainSamples = []string{
	`{"pk":"USER#u-1","n":1.5e3,"big":12345678901234567890123456789012345678,"l":[true,false,null,{"a":"b"}],"m":{"x":{"y":[]}}}`,
	`{}`, `null`, ` {"a":1} `, `{"a":1,"a":{"b":2}}`, `{"a\u00e9\ud83d\ude00":"\ud83d"}`, "{\"a\":\"\xff\xfe\"}",
	`[]`, `"x"`, `{"a":01}`, `{"a":1} {}`, `{"a":}`, `{"a":1,}`, `{"a"`, ``, `{"a":[1,2,]}`, `{"a":-0.0e-0}`,
}

func TestDecodePlainAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range plainSamples {
		checkPlain(t, []byte(s))
	}
}

func checkPlain(t *testing.T, b []byte) {
	t.Helper()
	got, err := DecodePlain(b)
	want, ok := wantPlain(b)
	if !ok {
		if err == nil {
			t.Fatalf("%q: expect an error as encoding/json gives, got %v", b, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("%q: expect %v, got error %v", b, want, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%q (-encoding/json +DecodePlain):\n%s", b, d)
	}
}

// FuzzDecodePlain: DecodePlain never panics and gives what encoding/json
// gives, an error where it fails.
func FuzzDecodePlain(f *testing.F) {
	for _, s := range plainSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkPlain(t, b) })
}

func BenchmarkDecodePlain(b *testing.B) {
	item := []byte(`{"address":{"city":"Lyon","country":"FR","line1":"12 rue de la République","zip":"69002"},"consent":true,` +
		`"country":"FR","created_at":"2026-11-20T10:00:00Z","email":"user-4711@example.com","name":"Camille Martin",` +
		`"orders":[{"id":"o-1","total":42.5},{"id":"o-2","total":17}],"pk":"USER#u-4711","plan":"pro","score":1234,` +
		`"residency":{"category":"profile","home_region":"eu-central-1","jurisdiction":"EU","origin_region":"eu-central-1",` +
		`"policy_version":"2026-11-01","retain_until":"2029-11-20T10:00:00Z","status":"compliant","subject_ref":"hmac:1b2c3d","tagged_at":"2026-11-20T10:00:01Z"},"sk":"PROFILE"}`)
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var it record.Item
			d := json.NewDecoder(strings.NewReader(string(item)))
			d.UseNumber()
			if err := d.Decode(&it); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("DecodePlain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodePlain(item); err != nil {
				b.Fatal(err)
			}
		}
	})
}
