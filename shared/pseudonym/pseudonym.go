package pseudonym

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/residency-dev/residency/shared/record"
)

// MinKeySize is the smallest HMAC key accepted, in bytes.
const MinKeySize = 32

// Prefixes of the references this package makes.
const (
	SubjectPrefix = "sub_"
	RecordPrefix  = "rec_"
)

// Keyer computes references with one secret key. It is safe for concurrent use.
type Keyer struct {
	pool sync.Pool
	seal cipher.AEAD // AES-256-GCM under a key derived from the secret (Seal, Open)
}

// New returns a Keyer for key, which must hold at least MinKeySize bytes.
func New(key []byte) (*Keyer, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("pseudonym key: %d bytes, need at least %d", len(key), MinKeySize)
	}
	k := append([]byte(nil), key...)
	// The sealing key is the HMAC of a label of its own: a reference never
	// equals it, and it never leaves the process.
	m := hmac.New(sha256.New, k)
	m.Write([]byte("residency seal v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	return &Keyer{pool: sync.Pool{New: func() any { return &mac{h: hmac.New(sha256.New, k)} }}, seal: aead}, nil
}

// Seal encrypts and authenticates b (AES-256-GCM, a random nonce) under a
// key derived from the secret, as URL-safe text: for what must travel
// through logs or a state machine's history and come back, such as a
// backfill's cursor, which holds a record key.
func (k *Keyer) Seal(b []byte) string {
	nonce := make([]byte, k.seal.NonceSize(), k.seal.NonceSize()+len(b)+k.seal.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand does not fail (Go 1.24+)
	}
	return base64.RawURLEncoding.EncodeToString(k.seal.Seal(nonce, nonce, b, nil))
}

// ErrUnsealed marks text that Open cannot authenticate: not sealed with
// this key, or altered.
var ErrUnsealed = errors.New("not sealed with this key")

// Open returns what Seal sealed as s.
func (k *Keyer) Open(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < k.seal.NonceSize() {
		return nil, ErrUnsealed
	}
	out, err := k.seal.Open(nil, b[:k.seal.NonceSize()], b[k.seal.NonceSize():], nil)
	if err != nil {
		return nil, ErrUnsealed
	}
	return out, nil
}

// mac is a pooled HMAC with the buffer its input is gathered in.
type mac struct {
	h   hash.Hash
	in  []byte
	sum [sha256.Size]byte
}

func (k *Keyer) ref(prefix, domain, value string) string {
	m := k.pool.Get().(*mac)
	m.h.Reset()
	// One write of domain, 0, value: the bytes a reference has always
	// been the HMAC of.
	m.in = append(append(append(m.in[:0], domain...), 0), value...)
	m.h.Write(m.in)
	out := m.h.Sum(m.sum[:0])
	// 128 bits are plenty to tell subjects apart and keep the reference
	// short: prefix and 32 hex digits, made in one string.
	var ref [4 + 2*16]byte // room for the package's prefixes
	r := string(hex.AppendEncode(append(ref[:0], prefix...), out[:16]))
	k.pool.Put(m)
	return r
}

// Subject returns the reference of a subject identifier, "sub_" and 32 hex
// digits. The empty identifier has the empty reference.
func (k *Keyer) Subject(id string) string {
	if id == "" {
		return ""
	}
	return k.ref(SubjectPrefix, "subject", id)
}

// Record returns the reference of a record key within a source, "rec_" and
// 32 hex digits. Record keys often embed a subject (USER#u-1001), so they are
// never written in the clear either.
func (k *Keyer) Record(source string, key record.Key) string {
	if len(key) == 0 {
		return ""
	}
	return k.ref(RecordPrefix, "record\x00"+source, key.String())
}

// LoadKeyFile reads the hex-encoded key at path, creating it with a fresh
// random key (mode 0600) when it does not exist yet.
func LoadKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, MinKeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate key %s: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create key %s: %w", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadKeyFile(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("create key %s: %w", path, err)
		}
		_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return nil, fmt.Errorf("write key %s: %w", path, werr)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key %s: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("key file %s: not hex: %w", path, err)
	}
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("key file %s: %d bytes, need at least %d", path, len(key), MinKeySize)
	}
	return key, nil
}

// Secret wraps a value that may hold personal data so that structured logs
// print it redacted.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the value out of fmt output too.
func (Secret) String() string { return "[redacted]" }
