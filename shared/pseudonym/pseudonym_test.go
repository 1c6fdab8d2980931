package pseudonym

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/record"
)

var refPattern = regexp.MustCompile(`^(sub|rec)_[0-9a-f]{32}$`)

func TestRefs(t *testing.T) {
	k1, err := New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := New(bytes.Repeat([]byte{2}, 32))
	cases := map[string]struct {
		a, b  string
		equal bool
	}{
		"same subject same key":       {k1.Subject("u-1001"), k1.Subject("u-1001"), true},
		"other subject":               {k1.Subject("u-1001"), k1.Subject("u-1002"), false},
		"other key":                   {k1.Subject("u-1001"), k2.Subject("u-1001"), false},
		"record key order irrelevant": {k1.Record("users", record.Key{"pk": "A", "sk": "B"}), k1.Record("users", record.Key{"sk": "B", "pk": "A"}), true},
		"record in other source":      {k1.Record("users", record.Key{"pk": "A"}), k1.Record("orders", record.Key{"pk": "A"}), false},
		"subject vs record domain":    {k1.Subject(`{"pk":"A"}`), strings.Replace(k1.Record("", record.Key{"pk": "A"}), "rec_", "sub_", 1), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, r := range []string{c.a, c.b} {
				if !refPattern.MatchString(r) {
					t.Fatalf("expect a reference like sub_<32 hex>, got %q", r)
				}
			}
			if (c.a == c.b) != c.equal {
				t.Fatalf("expect equal=%v, got %q and %q", c.equal, c.a, c.b)
			}
		})
	}
	if k1.Subject("") != "" {
		t.Fatalf("expect empty reference for empty id")
	}
	if strings.Contains(k1.Subject("u-1001"), "1001") && !refPattern.MatchString(k1.Subject("u-1001")) {
		t.Fatalf("reference leaks the identifier")
	}
}

// References are what ledgers, catalogs and reports already hold: their
// construction, HMAC-SHA256 under the key of the domain, a zero byte and
// the value, cut to 128 bits in hex, must never change, whatever the code
// that computes them.
func TestRefsAreTheHMACOfTheirDomain(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	k, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	want := func(prefix, domain, value string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(domain + "\x00" + value))
		return prefix + hex.EncodeToString(m.Sum(nil)[:16])
	}
	for _, id := range []string{"u-1001", "é", strings.Repeat("x", 300)} {
		if got, w := k.Subject(id), want("sub_", "subject", id); got != w {
			t.Errorf("Subject(%q) = %s, want %s", id, got, w)
		}
		key := record.Key{"pk": "USER#" + id, "sk": "PROFILE"}
		if got, w := k.Record("users", key), want("rec_", "record\x00users", key.String()); got != w {
			t.Errorf("Record(users, %v) = %s, want %s", key, got, w)
		}
	}
	// A pinned value: the same key and input give it on any machine.
	if got := k.Subject("u-1001"); got != pinnedSubject {
		t.Errorf("Subject(u-1001) under 32 bytes of 7 = %s, want %s", got, pinnedSubject)
	}
}

// pinnedSubject is the reference of u-1001 under 32 bytes of 7, computed
// apart from this package (Python's hmac module).
const pinnedSubject = "sub_4cb870c5ecbbdece1c50a156153a88e8"

func TestNewRejectsShortKey(t *testing.T) {
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("expect an error for a 16-byte key, got nil")
	}
}

func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "residency.key")
	k1, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("expect mode 0600, got %v", st.Mode().Perm())
	}
	k2, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Fatal("expect the same key on the second load")
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	os.WriteFile(bad, []byte("zz\n"), 0o600)
	if _, err := LoadKeyFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("expect an error naming %s, got %v", bad, err)
	}
}

func TestSecretRedacts(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("x", "subject", Secret("claire.martin@example.fr"))
	if strings.Contains(buf.String(), "claire") {
		t.Fatalf("expect the value redacted, got %s", buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["subject"] != "[redacted]" {
		t.Fatalf("expect subject [redacted], got %v (%v)", m["subject"], err)
	}
}

func BenchmarkSubject(b *testing.B) {
	k, _ := New(bytes.Repeat([]byte{1}, 32))
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Subject("u-1001")
	}
}

func TestSealOpen(t *testing.T) {
	k, _ := New(bytes.Repeat([]byte{1}, 32))
	other, _ := New(bytes.Repeat([]byte{2}, 32))
	secret := []byte(`{"pk":"USER#u-1001","sk":"PROFILE"}`)
	a, b := k.Seal(secret), k.Seal(secret)
	if a == b {
		t.Fatal("expect a fresh nonce each time")
	}
	if strings.Contains(a, "u-1001") || strings.Contains(a, "USER") {
		t.Fatalf("expect nothing readable, got %s", a)
	}
	if got, err := k.Open(a); err != nil || string(got) != string(secret) {
		t.Fatalf("expect the sealed text back, got %q (%v)", got, err)
	}
	for name, s := range map[string]string{"other key": other.Seal(secret), "altered": a[:len(a)-2] + "AA", "not base64": "!!", "short": "AA"} {
		if _, err := k.Open(s); !errors.Is(err, ErrUnsealed) {
			t.Errorf("%s: expect ErrUnsealed, got %v", name, err)
		}
	}
}
