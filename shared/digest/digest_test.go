package digest_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/storetest"
)

const region = "eu-central-1"

// chain is an in-memory ledger chain. Its tree's stored hashes are
// computed from the entries when first read after nodes is reset (as a
// store would have them, or as someone who rewrote the chain would
// recompute them).
type chain struct {
	entries []ledger.Entry
	nodes   map[int64][]byte
	at      time.Time // when set, the time of the entries appended
}

func (c *chain) Chains(context.Context) ([]string, error) { return []string{region}, nil }

func (c *chain) ReadTreeNodes(_ context.Context, r string, seqs []int64) ([][]byte, error) {
	if len(c.nodes) != len(c.entries) {
		c.nodes = map[int64][]byte{}
		b := ledger.NewTreeBuilder(func(seqs []int64) ([][]byte, error) { return nil, errors.New("unreachable") })
		for _, e := range c.entries {
			n, err := b.Add(e.Seq, e.Hash)
			if err != nil {
				return nil, err
			}
			c.nodes[e.Seq] = n
		}
	}
	out := make([][]byte, len(seqs))
	for i, s := range seqs {
		out[i] = c.nodes[s]
	}
	return out, nil
}

// rewrite rewrites every entry from index from on, consistently
// (storetest.RewritePast): the chain alone still verifies.
func (c *chain) rewrite(from int) {
	copy(c.entries[from:], storetest.RewritePast(c.entries, from))
}

func (c *chain) append(t *testing.T, n int) {
	t.Helper()
	head := ledger.Head{}
	if len(c.entries) > 0 {
		last := c.entries[len(c.entries)-1]
		head = ledger.Head{Seq: last.Seq, Hash: last.Hash}
	}
	for i := 0; i < n; i++ {
		var e ledger.Entry
		at := time.Date(2026, 11, 22, 10, 0, i, 0, time.UTC)
		if !c.at.IsZero() {
			at = c.at.Add(time.Duration(i) * time.Second)
		}
		e, head = ledger.Link(head, ledger.Entry{ID: ledger.ID(ledger.KindTransfer, region, time.Now().String(), string(rune('a'+i))),
			Time: at, Kind: ledger.KindTransfer, Region: region, Actor: "router"})
		c.entries = append(c.entries, e)
	}
}

func (c *chain) ScanChainAfter(_ context.Context, r string, after int64, limit int, fn func(*ledger.Entry) error) error {
	n := 0
	for i := range c.entries {
		if c.entries[i].Region != r || c.entries[i].Seq <= after {
			continue
		}
		if limit > 0 && n == limit {
			return nil
		}
		n++
		e := c.entries[i]
		if err := fn(&e); err != nil {
			return err
		}
	}
	return nil
}

type fixture struct {
	chain  *chain
	dir    digest.Dir
	signer *digest.Ed25519Signer
	keys   digest.Keys
	w      *digest.Writer
	now    time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tmp := t.TempDir()
	signer, err := digest.LoadSigningKey(filepath.Join(tmp, "digest.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(digest.PublicKeyPath(filepath.Join(tmp, "digest.key")))
	if err != nil {
		t.Fatal(err)
	}
	keys := digest.Keys{}
	if err := keys.AddPEM("", pub); err != nil {
		t.Fatal(err)
	}
	f := &fixture{chain: &chain{}, dir: digest.Dir{Path: filepath.Join(tmp, "digests")}, signer: signer, keys: keys,
		now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	f.w = &digest.Writer{Signer: signer, Store: f.dir, Chain: f.chain, Now: func() time.Time { return f.now }}
	return f
}

// digests appends sizes[i] entries to the chain and writes a digest of
// them, for each i in turn.
func (f *fixture) digests(t *testing.T, sizes ...int) {
	t.Helper()
	for _, n := range sizes {
		f.chain.append(t, n)
		f.write(t, false)
	}
}

func (f *fixture) write(t *testing.T, always bool) *digest.Digest {
	t.Helper()
	f.now = f.now.Add(time.Hour)
	d, err := f.w.Write(context.Background(), region, always)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// verify runs the chain through a verifier anchored by the digests, as
// `residency verify` does.
func (f *fixture) verify(t *testing.T) (digest.Result, error) {
	t.Helper()
	c := digest.Checker{Source: f.dir, Keys: f.keys}
	r, err := c.Check(context.Background(), region)
	if err != nil {
		t.Fatal(err)
	}
	v := ledger.NewVerifier(region)
	r.Anchor(v)
	for i := range f.chain.entries {
		v.Add(&f.chain.entries[i])
	}
	return r, v.Close()
}

func TestWriterChainsDigests(t *testing.T) {
	f := newFixture(t)
	if d := f.write(t, false); d != nil {
		t.Fatalf("digest of an empty chain without always: %+v", d)
	}
	f.chain.append(t, 5)
	d1 := f.write(t, false)
	if d1 == nil || d1.FromSeq != 1 || d1.ToSeq != 5 || d1.HeadHash != f.chain.entries[4].Hash || d1.PrevSignature != "" {
		t.Fatalf("first digest %+v", d1)
	}
	if d := f.write(t, false); d != nil {
		t.Fatalf("digest with nothing new: %+v", d)
	}
	f.chain.append(t, 3)
	d2 := f.write(t, false)
	if d2.FromSeq != 6 || d2.ToSeq != 8 || d2.PrevSignature != d1.Signature || d2.KeyID != f.signer.KeyID() {
		t.Fatalf("second digest %+v", d2)
	}
	d3 := f.write(t, true) // the hourly digest, nothing new
	if d3 == nil || d3.FromSeq != 9 || d3.ToSeq != 8 || d3.PrevSignature != d2.Signature {
		t.Fatalf("hourly digest with nothing new: %+v", d3)
	}
	r, err := f.verify(t)
	if err != nil || r.Problem != "" || r.Digests != 3 || r.SignedSeq != 8 {
		t.Fatalf("verify: %v, %+v", err, r)
	}
	// What the newest digest vouches for: the head hash at its seq, and the
	// key that signed it.
	if r.SignedHash != f.chain.entries[7].Hash || r.SignedKeyID != f.signer.KeyID() || !r.SignedAt.Equal(d3.Time) {
		t.Fatalf("expect signed hash %s by %s at %s, got %q by %q at %s", f.chain.entries[7].Hash, f.signer.KeyID(), d3.Time,
			r.SignedHash, r.SignedKeyID, r.SignedAt)
	}
	// The files are read-only and named in time order.
	names, _ := filepath.Glob(filepath.Join(f.dir.Path, region, "*.json"))
	if len(names) != 3 {
		t.Fatalf("files %v", names)
	}
	st, _ := os.Stat(names[0])
	if st.Mode().Perm()&0o222 != 0 {
		t.Errorf("digest file mode %v, want read-only", st.Mode())
	}
	if err := f.dir.Put(context.Background(), d3); err == nil {
		t.Error("Put overwrote an existing digest")
	}
}

func TestWriterKeepsTimesIncreasing(t *testing.T) {
	f := newFixture(t)
	f.chain.append(t, 1)
	f.w.Now = func() time.Time { return f.now } // a fixed clock
	d1, err := f.w.Write(context.Background(), region, false)
	if err != nil {
		t.Fatal(err)
	}
	f.chain.append(t, 1)
	d2, err := f.w.Write(context.Background(), region, false)
	if err != nil {
		t.Fatal(err)
	}
	if !d2.Time.After(d1.Time) {
		t.Fatalf("times %v then %v", d1.Time, d2.Time)
	}
	if _, err := f.verify(t); err != nil {
		t.Fatal(err)
	}
}

func TestWriterRefusesATamperedChain(t *testing.T) {
	cases := map[string]func(c *chain){
		"signed head edited": func(c *chain) {
			c.entries[4].Importer = "someone"
			c.entries[4].Hash, _ = c.entries[4].ComputeHash(nil)
		},
		"tail truncated":    func(c *chain) { c.entries = c.entries[:3] },
		"new entry edited":  func(c *chain) { c.entries[6].Decision = "allowed" },
		"new entry missing": func(c *chain) { c.entries = append(c.entries[:5], c.entries[6:]...) },
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.digests(t, 5)
			f.chain.append(t, 3)
			tamper(f.chain)
			_, err := f.w.Write(context.Background(), region, true)
			if !errors.Is(err, digest.ErrRefused) {
				t.Fatalf("Write: %v, want ErrRefused", err)
			}
		})
	}
}

func TestVerifyWithDigests(t *testing.T) {
	cases := map[string]struct {
		tamper  func(t *testing.T, f *fixture)
		seq     int64
		problem string // in the digests; else in the chain
		reason  string
	}{
		"intact": {tamper: func(*testing.T, *fixture) {}},
		"truncated tail": {
			tamper: func(_ *testing.T, f *fixture) { f.chain.entries = f.chain.entries[:9] },
			seq:    10, reason: "truncated tail",
		},
		"all entries dropped": {
			tamper: func(_ *testing.T, f *fixture) { f.chain.entries = nil },
			seq:    1, reason: "truncated tail",
		},
		"tail rewritten consistently": {
			tamper: func(_ *testing.T, f *fixture) { f.chain.rewrite(6) },
			seq:    8, reason: "signed",
		},
		"middle digest removed": {
			tamper: func(t *testing.T, f *fixture) { removeDigest(t, f, 1) },
			seq:    6, problem: "was removed or replaced",
		},
		"oldest digest removed": {
			tamper: func(t *testing.T, f *fixture) { removeDigest(t, f, 0) },
			seq:    1, problem: "older digests were removed",
		},
		"digest edited": {
			tamper: func(t *testing.T, f *fixture) {
				editDigest(t, f, 1, func(d *digest.Digest) { d.ToSeq = 6 })
			},
			seq: 6, problem: "signature does not verify",
		},
		"digest signed by another key": {
			tamper: func(t *testing.T, f *fixture) {
				editDigest(t, f, 1, func(d *digest.Digest) { d.KeyID = "ed25519:0000" })
			},
			seq: 6, problem: "not a trusted digest key",
		},
		"digest not JSON": {
			tamper: func(t *testing.T, f *fixture) {
				p := digestPath(t, f, 1)
				os.Chmod(p, 0o644)
				if err := os.WriteFile(p, []byte("{"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			seq: 6, problem: "malformed digest",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.digests(t, 5, 3, 2)
			tc.tamper(t, f)
			r, err := f.verify(t)
			if tc.problem != "" {
				if !strings.Contains(r.Problem, tc.problem) || r.ProblemSeq != tc.seq {
					t.Fatalf("problem %q at seq %d, want %q at seq %d", r.Problem, r.ProblemSeq, tc.problem, tc.seq)
				}
				return
			}
			if r.Problem != "" {
				t.Fatalf("digest problem %q", r.Problem)
			}
			if tc.seq == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var b *ledger.BreakError
			if !errors.As(err, &b) || b.Seq != tc.seq || !strings.Contains(b.Reason, tc.reason) {
				t.Fatalf("verify: %v, want a break at seq %d (%s)", err, tc.seq, tc.reason)
			}
		})
	}
}

func digestPath(t *testing.T, f *fixture, i int) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(f.dir.Path, region, "*.json"))
	if err != nil || len(names) <= i {
		t.Fatalf("digests %v: %v", names, err)
	}
	return names[i]
}

func removeDigest(t *testing.T, f *fixture, i int) {
	t.Helper()
	if err := os.Remove(digestPath(t, f, i)); err != nil {
		t.Fatal(err)
	}
}

func editDigest(t *testing.T, f *fixture, i int, edit func(*digest.Digest)) {
	t.Helper()
	p := digestPath(t, f, i)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var d digest.Digest
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	edit(&d)
	b, _ = json.Marshal(d)
	os.Chmod(p, 0o644)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSigningKeyReloadsTheSameKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "k", "digest.key")
	a, err := digest.LoadSigningKey(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := digest.LoadSigningKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() || !strings.HasPrefix(a.KeyID(), "ed25519:") {
		t.Fatalf("key ids %q, %q", a.KeyID(), b.KeyID())
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode())
	}
	if err := os.WriteFile(p+"2", []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := digest.LoadSigningKey(p + "2"); err == nil || !strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("bad key file: %v", err)
	}
}

// ecdsaSigner signs as KMS does with an ECC_NIST_P256 key and
// ECDSA_SHA_256: an ASN.1 DER signature over the SHA-256 of the message.
type ecdsaSigner struct{ key *ecdsa.PrivateKey }

func (s ecdsaSigner) Algorithm() string { return digest.AlgECDSASHA256 }
func (s ecdsaSigner) KeyID() string {
	return "arn:aws:kms:eu-central-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}
func (s ecdsaSigner) Sign(_ context.Context, msg []byte) ([]byte, error) {
	sum := sha256.Sum256(msg)
	return ecdsa.SignASN1(rand.Reader, s.key, sum[:])
}
func (s ecdsaSigner) PublicKey(context.Context) (crypto.PublicKey, error) {
	return &s.key.PublicKey, nil
}

// Keys.List names each key by id, algorithm and fingerprint: the SHA-256 of
// its PKIX DER encoding, which an auditor recomputes from the public key.
func TestKeysList(t *testing.T) {
	f := newFixture(t)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	const arn = "arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	if err := f.keys.AddDER(arn, der); err != nil {
		t.Fatal(err)
	}
	edDER, _ := x509.MarshalPKIXPublicKey(f.signer.Public())
	fp := func(b []byte) string { s := sha256.Sum256(b); return "sha256:" + hex.EncodeToString(s[:]) }
	want := []digest.KeyInfo{
		{ID: arn, Algorithm: digest.AlgECDSASHA256, Fingerprint: fp(der)},
		{ID: f.signer.KeyID(), Algorithm: digest.AlgEd25519, Fingerprint: fp(edDER)},
	}
	got, err := f.keys.List()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("keys (-want +got):\n%s", d)
	}
	// The local key id is the fingerprint's first half.
	if id := f.signer.KeyID(); !strings.HasPrefix(want[1].Fingerprint, "sha256:"+strings.TrimPrefix(id, "ed25519:")) {
		t.Errorf("expect key id %s to start the fingerprint %s", id, want[1].Fingerprint)
	}
}

func TestECDSADigests(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	s := ecdsaSigner{key}
	f.w.Signer = s
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keys := digest.Keys{}
	if err := keys.AddDER("", der); err == nil {
		t.Error("an ECDSA key without its key id was accepted")
	}
	if err := keys.AddDER(s.KeyID(), der); err != nil {
		t.Fatal(err)
	}
	f.keys = keys
	f.chain.append(t, 2)
	d := f.write(t, false)
	if d.Algorithm != digest.AlgECDSASHA256 {
		t.Fatalf("algorithm %q", d.Algorithm)
	}
	if r, err := f.verify(t); err != nil || r.Problem != "" || r.SignedSeq != 2 {
		t.Fatalf("verify: %v %+v", err, r)
	}
	// The same signature under another algorithm name does not pass.
	d.Algorithm = digest.AlgEd25519
	if err := keys.Verify(d); err == nil {
		t.Error("algorithm mismatch accepted")
	}
	d.Algorithm = digest.AlgECDSASHA256
	sig, _ := base64.StdEncoding.DecodeString(d.Signature)
	sig[len(sig)-1] ^= 1
	d.Signature = base64.StdEncoding.EncodeToString(sig)
	if err := keys.Verify(d); err == nil {
		t.Error("altered signature accepted")
	}
}
