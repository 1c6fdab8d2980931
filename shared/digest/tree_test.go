package digest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
)

// A version 2 digest signs its tree head twice: in its own signing input
// and as a C2SP checkpoint that a plain signed-note verifier opens with the
// ed25519 public key.
func TestDigestSignsTheTreeHead(t *testing.T) {
	f := newFixture(t)
	f.chain.append(t, 7)
	d := f.write(t, false)
	if d.Version != 2 || d.TreeSize != 7 {
		t.Fatalf("expect a version 2 digest of a tree of 7, got version %d size %d", d.Version, d.TreeSize)
	}
	want, err := ledger.Tree{Nodes: f.chain}.Root(context.Background(), region, 7)
	if err != nil {
		t.Fatal(err)
	}
	if d.RootHash != base64.StdEncoding.EncodeToString(want[:]) {
		t.Fatalf("expect root %v, got %s", want, d.RootHash)
	}
	vkey, _ := note.NewEd25519VerifierKey(f.signer.KeyID(), f.signer.Public())
	v, _ := note.NewVerifier(vkey)
	n, err := note.Open([]byte(d.Checkpoint), note.VerifierList(v))
	if err != nil {
		t.Fatalf("expect a checkpoint note opens with the public key, got %v", err)
	}
	if wantText := "residency/" + region + "\n7\n" + d.RootHash + "\n"; n.Text != wantText {
		t.Fatalf("expect checkpoint text %q, got %q", wantText, n.Text)
	}
	// The signature covers the tree head: another root fails.
	forged := *d
	forged.RootHash = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if err := f.keys.Verify(&forged); err == nil {
		t.Fatal("expect a digest with another root hash to fail its signature")
	}
}

// Version 1 digests (before the tree) keep verifying, and the first
// version 2 digest after them extends them.
func TestVersion1DigestsKeepVerifying(t *testing.T) {
	f := newFixture(t)
	f.chain.append(t, 4)
	f.now = f.now.Add(time.Hour)
	v1 := &digest.Digest{Version: 1, Region: region, FromSeq: 1, ToSeq: 4, HeadHash: f.chain.entries[3].Hash, Time: f.now,
		Algorithm: f.signer.Algorithm(), KeyID: f.signer.KeyID()}
	sig, _ := f.signer.Sign(context.Background(), v1.SigningInput())
	v1.Signature = base64.StdEncoding.EncodeToString(sig)
	if err := f.dir.Put(context.Background(), v1); err != nil {
		t.Fatal(err)
	}
	f.chain.append(t, 3)
	if d := f.write(t, false); d.Version != 2 || d.PrevSignature != v1.Signature || d.FromSeq != 5 {
		t.Fatalf("expect a version 2 digest after the version 1 one, got %+v", d)
	}
	f.chain.append(t, 2)
	f.write(t, false)
	c := digest.Checker{Source: f.dir, Keys: f.keys, Tree: f.chain}
	r, err := c.Check(context.Background(), region)
	if err != nil || r.Problem != "" || r.Digests != 3 || r.SignedSeq != 9 {
		t.Fatalf("expect 3 digests verified to seq 9, got %+v (%v)", r, err)
	}
	if _, err := f.verify(t); err != nil {
		t.Fatalf("expect the chain to verify against v1 and v2 digests, got %v", err)
	}
}

// Every pair of digests, not only consecutive ones, is consistent.
func TestConsistencyAcrossEveryDigestPair(t *testing.T) {
	f := newFixture(t)
	var ds []*digest.Digest
	for _, n := range []int{1, 1, 2, 5, 8, 13, 1, 0} {
		f.chain.append(t, n)
		ds = append(ds, f.write(t, true))
	}
	ctx := context.Background()
	tree := ledger.Tree{Nodes: f.chain}
	for i, a := range ds {
		for _, b := range ds[i+1:] {
			p, err := tree.ProveConsistency(ctx, region, a.TreeSize, b.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			ra, _ := a.Root()
			rb, _ := b.Root()
			if err := tlog.CheckTree(p, b.TreeSize, rb, a.TreeSize, ra); err != nil {
				t.Fatalf("sizes %d to %d: %v", a.TreeSize, b.TreeSize, err)
			}
			pr, err := (&digest.Prover{Source: f.dir, Chain: f.chain, Keys: f.keys}).ProveConsistency(ctx, region, a.TreeSize, b.TreeSize)
			if err != nil {
				t.Fatal(err)
			}
			if err := digest.CheckProof(pr, f.keys); err != nil {
				t.Fatalf("consistency proof from %d to %d: %v", a.TreeSize, b.TreeSize, err)
			}
		}
	}
	c := digest.Checker{Source: f.dir, Keys: f.keys, Tree: f.chain}
	if r, err := c.Check(ctx, region); err != nil || r.Problem != "" {
		t.Fatalf("expect the digests consistent, got %+v (%v)", r, err)
	}
}

// A past entry rewritten and the chain re-hashed from it on, its tree
// recomputed: the store's tree no longer proves consistent with the one a
// digest signed, and the tree rebuilt from the entries differs too.
func TestRewrittenPastIsCaught(t *testing.T) {
	f := newFixture(t)
	f.digests(t, 6, 6, 2)
	// Rewrite seq 3 and everything after, consistently.
	c := f.chain
	c.rewrite(2)
	c.nodes = nil
	ch := digest.Checker{Source: f.dir, Keys: f.keys, Tree: c}
	r, err := ch.Check(context.Background(), region)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Problem, "not consistent") || r.ProblemSeq != 6 {
		t.Fatalf("expect the second digest's tree head not consistent with the first's (problem at seq 6), got %q at %d", r.Problem, r.ProblemSeq)
	}
	// Without the store's tree, the tree rebuilt from the entries fails
	// at the first signed size.
	ch.Tree = nil
	r, _ = ch.Check(context.Background(), region)
	v := ledger.NewVerifier(region)
	r.Anchor(v)
	for i := range c.entries {
		v.Add(&c.entries[i])
	}
	var b *ledger.BreakError
	if err := v.Close(); !errors.As(err, &b) || b.Seq != 6 {
		t.Fatalf("expect a break at seq 6, got %v", err)
	}
}

// Inclusion proofs: valid for every entry; a tampered entry, path, size or
// checkpoint, or another key, fails with a reason.
func TestInclusionProofs(t *testing.T) {
	f := newFixture(t)
	f.chain.append(t, 11)
	f.write(t, false)
	ctx := context.Background()
	prover := &digest.Prover{Source: f.dir, Chain: f.chain, Keys: f.keys}
	for seq := int64(1); seq <= 11; seq++ {
		p, err := prover.ProveEntry(ctx, region, seq)
		if err != nil {
			t.Fatal(err)
		}
		if err := digest.CheckProof(p, f.keys); err != nil {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	f.chain.append(t, 1)
	if _, err := prover.ProveEntry(ctx, region, 12); !errors.Is(err, digest.ErrNotSigned) {
		t.Fatalf("expect ErrNotSigned for an entry after the newest checkpoint, got %v", err)
	}
	other := newFixture(t)
	otherNote, _ := digest.SignCheckpoint(ctx, other.signer, digest.Checkpoint{Origin: "residency/" + region, Size: 11})
	cases := map[string]struct {
		tamper func(p *digest.Proof)
		keys   digest.Keys
		reason string
	}{
		"entry field": {tamper: func(p *digest.Proof) { p.Entry.Decision = "denied" }, reason: "the entry was altered"},
		"entry re-hashed": {tamper: func(p *digest.Proof) {
			p.Entry.Decision = "denied"
			p.Entry.Hash, _ = p.Entry.ComputeHash(nil)
		}, reason: "audit path leads elsewhere"},
		"path hash": {tamper: func(p *digest.Proof) {
			b, _ := base64.StdEncoding.DecodeString(p.AuditPath[0])
			b[0] ^= 1
			p.AuditPath[0] = base64.StdEncoding.EncodeToString(b)
		}, reason: "audit path leads elsewhere"},
		"tree size":                 {tamper: func(p *digest.Proof) { p.TreeSize = 12 }, reason: "signs a tree of 11 entries"},
		"forged checkpoint":         {tamper: func(p *digest.Proof) { p.Checkpoint = strings.Replace(p.Checkpoint, "\n11\n", "\n12\n", 1) }, reason: "checkpoint"},
		"checkpoint of another key": {tamper: func(p *digest.Proof) { p.Checkpoint = otherNote }, reason: "another key signed it"},
		"another key":               {keys: other.keys, tamper: func(*digest.Proof) {}, reason: "not a trusted digest key"},
		"other region":              {tamper: func(p *digest.Proof) { p.Region = "us-east-1" }, reason: "is not region us-east-1's log"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := prover.ProveEntry(ctx, region, 5)
			if err != nil {
				t.Fatal(err)
			}
			tc.tamper(p)
			keys := f.keys
			if tc.keys != nil {
				keys = tc.keys
			}
			err = digest.CheckProof(p, keys)
			if !errors.Is(err, digest.ErrInvalidProof) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("expect an invalid proof saying %q, got %v", tc.reason, err)
			}
		})
	}
}

// On AWS the checkpoint is signed with the KMS key's ECDSA P-256 (signed-note
// type 0x02): it opens with that key only.
func TestECDSACheckpoint(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := ecdsaSigner{key}
	ctx := context.Background()
	cp := digest.Checkpoint{Origin: "acme/" + region, Size: 3, Root: tlog.RecordHash([]byte("x"))}
	signed, err := digest.SignCheckpoint(ctx, s, cp)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keys := digest.Keys{}
	keys.AddDER(s.KeyID(), der)
	got, err := keys.OpenCheckpoint(signed, s.KeyID())
	if err != nil || got != cp {
		t.Fatalf("expect %+v, got %+v (%v)", cp, got, err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ = x509.MarshalPKIXPublicKey(&other.PublicKey)
	keys = digest.Keys{}
	keys.AddDER(s.KeyID(), der)
	if _, err := keys.OpenCheckpoint(signed, s.KeyID()); err == nil {
		t.Fatal("expect a checkpoint to fail with another ECDSA key of the same name")
	}
}

// FuzzCheckProof: any proof file either fails to parse or check with a
// reason, or checks; none panics.
func FuzzCheckProof(f *testing.F) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer := digest.NewEd25519Signer(priv)
	keys := digest.Keys{signer.KeyID(): signer.Public()}
	f.Add([]byte(`{"type":"inclusion","region":"eu-central-1","leaf_index":-1,"tree_size":0,"root_hash":"","key_id":"x","signing_algorithm":"ed25519","key_fingerprint":""}`))
	f.Add([]byte(`{"type":"consistency","region":"r","from_size":5,"tree_size":2,"checkpoint":"a\n1\nAA==\n\n— x AAAA\n"}`))
	f.Add([]byte(`{"type":"inclusion","entry":{"seq":1},"audit_path":["!!"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := digest.ParseProof(b)
		if err != nil {
			return
		}
		if err := digest.CheckProof(p, keys); err != nil && !errors.Is(err, digest.ErrInvalidProof) {
			t.Fatalf("expect ErrInvalidProof, got %v", err)
		}
	})
}
