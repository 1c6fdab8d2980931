package sqlitestore

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSetMember(t *testing.T) {
	cases := map[string]struct{ obj, want string }{
		"replace":          {`{"a":1,"residency":{"x":1},"z":[2]}`, `{"a":1,"residency":"V","z":[2]}`},
		"insert sorted":    {`{"a":1,"name":"n","z":{"q":"r"}}`, `{"a":1,"name":"n","residency":"V","z":{"q":"r"}}`},
		"insert first":     {`{"z":1}`, `{"residency":"V","z":1}`},
		"append":           {`{"a":1}`, `{"a":1,"residency":"V"}`},
		"empty":            {`{}`, `{"residency":"V"}`},
		"spaces":           {` { "a" : 1 , "residency" : null } `, ` { "a" : 1 , "residency" : "V" } `},
		"escaped name":     {`{"resid\u0065ncy":1}`, `{"resid\u0065ncy":"V"}`},
		"every duplicate":  {`{"residency":1,"residency":2}`, `{"residency":"V","residency":"V"}`},
		"nested untouched": {`{"m":{"residency":1}}`, `{"m":{"residency":1},"residency":"V"}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := setMember([]byte("x"), []byte(c.obj), "residency", []byte(`"V"`))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "x"+c.want {
				t.Fatalf("expect %s, got %s", "x"+c.want, got)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"a":}`, `{"a":1}x`, ``, `{"a" 1}`} {
		if _, err := setMember(nil, []byte(bad), "residency", []byte(`1`)); !errors.Is(err, errSyntax) {
			t.Errorf("%q: expect errSyntax, got %v", bad, err)
		}
	}
	if _, err := setMember(nil, []byte(`{}`), `a"b`, []byte(`1`)); err == nil {
		t.Error("expect a name that needs escaping refused, got nil")
	}
}

// FuzzSetMember: on a JSON object, setMember gives the object with the
// member set (as encoding/json reads both), and keeps encoding/json's sorted
// output sorted; on anything else it fails with errSyntax.
func FuzzSetMember(f *testing.F) {
	for _, s := range []string{`{"a":1,"residency":{"x":1},"z":[2]}`, `{}`, `{"b":"\u00e9"}`, `[1]`, `{"residency":1,"residency":2}`, `{"a":{"b":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		value := []byte(`{"status":"compliant"}`)
		got, err := setMember(nil, obj, "residency", value)
		var m map[string]any
		if json.Unmarshal(obj, &m) != nil || m == nil {
			if err == nil {
				t.Fatalf("expect an error for %q, got %s", obj, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("expect %q updated, got %v", obj, err)
		}
		var back map[string]any
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("expect JSON, got %v: %s", err, got)
		}
		m["residency"] = map[string]any{"status": "compliant"}
		if d := cmp.Diff(m, back); d != "" {
			t.Fatalf("(-want +got):\n%s", d)
		}
		// What encoding/json wrote stays what encoding/json would write.
		sorted, _ := json.Marshal(back)
		delete(back, "residency")
		before, _ := json.Marshal(back)
		if again, err := setMember(nil, before, "residency", value); err != nil || string(again) != string(sorted) {
			t.Fatalf("expect %s, got %s (%v)", sorted, again, err)
		}
	})
}

// FuzzSetMembers: setting two members in one pass gives the object that
// setting them one after the other gives, errors included.
func FuzzSetMembers(f *testing.F) {
	for _, s := range []string{`{"a":1,"residency":{"x":1},"z":[2]}`, `{}`, `{"expires_at":1}`, `{"z":1,"m":2}`, `[1]`,
		`{"residency":1,"expires_at":2,"residency":3}`, `{"b":"\u00e9","f":{}}`, `{"a" 1}`} {
		f.Add([]byte(s), "expires_at")
	}
	f.Fuzz(func(t *testing.T, obj []byte, name string) {
		if name >= "residency" || checkName(name) != nil {
			return
		}
		tag, ttl := []byte(`{"status":"compliant"}`), []byte(`1859529600`)
		once, err := setMembers([]byte("x"), obj, []member{{name: name, value: ttl}, {name: "residency", value: tag}})
		first, err1 := setMember(nil, obj, "residency", tag)
		var twice []byte
		if err1 == nil {
			twice, err1 = setMember([]byte("x"), first, name, ttl)
		}
		if (err == nil) != (err1 == nil) {
			t.Fatalf("%q: expect error %v, got %v", obj, err1, err)
		}
		if err == nil && string(once) != string(twice) {
			t.Fatalf("%q: expect %s, got %s", obj, twice, once)
		}
	})
}
