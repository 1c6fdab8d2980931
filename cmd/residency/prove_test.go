package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/storetest"
)

// signTwice replays the samples, then a transfer and a sweep, so that
// eu-central-1 has two signed digests.
func signTwice(t *testing.T) string {
	t.Helper()
	db := runSamples(t)
	ev := filepath.Join(t.TempDir(), "transfer.json")
	b, _ := os.ReadFile("events/samples/eventbridge-transfer-requested-scc.json")
	os.WriteFile(ev, bytes.Replace(b, []byte("tr-5001"), []byte("tr-9001"), 1), 0o644)
	if code, _, errs := cli(t, "invoke", "router", ev, "--db", db, "--region", "eu-central-1"); code != 0 {
		t.Fatalf("invoke: %d %s", code, errs)
	}
	if code, _, errs := cli(t, "sweep", "--db", db, "--now", "2026-11-22T13:00:00Z"); code != 0 {
		t.Fatalf("sweep: %d %s", code, errs)
	}
	return db
}

// An auditor checks a proof with the proof file and the public key, in a
// folder that holds nothing else; tampering fails with exit 3 and a reason.
func TestProveAndCheckProof(t *testing.T) {
	db := signTwice(t)
	dir := t.TempDir()
	proof, pub := filepath.Join(dir, "proof.json"), filepath.Join(dir, "digest.pub")
	if code, out, errs := cli(t, "prove", "--db", db, "--region", "eu-central-1", "--seq", "3", "--out", proof); code != 0 {
		t.Fatalf("prove: %d %s %s", code, out, errs)
	}
	code, key, errs := cli(t, "digest-key", "--public", "--db", db)
	if code != 0 || !strings.HasPrefix(key, "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("digest-key --public: %d %q %s", code, key, errs)
	}
	os.WriteFile(pub, []byte(key), 0o644)
	raw, _ := os.ReadFile(proof)
	var p digest.Proof
	if err := json.Unmarshal(raw, &p); err != nil || p.Type != "inclusion" || p.Entry == nil || p.Entry.Seq != 3 || p.LeafIndex != 2 ||
		len(p.AuditPath) == 0 || !strings.Contains(p.Checkpoint, "residency/eu-central-1\n") || !strings.HasPrefix(p.KeyFingerprint, "sha256:") {
		t.Fatalf("expect an inclusion proof of seq 3, got %s (%v)", raw, err)
	}

	t.Chdir(dir) // no store, no digests here: only the two files
	code, out, errs := cli(t, "check-proof", "proof.json", "--public-key", "digest.pub")
	if code != 0 || !strings.HasPrefix(out, "valid: eu-central-1 seq 3") {
		t.Fatalf("expect a valid proof, got %d %q %s", code, out, errs)
	}
	if names, _ := os.ReadDir("."); len(names) != 2 {
		t.Fatalf("expect check-proof to leave the folder as it was, got %v", names)
	}

	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	otherKey, err := digest.LoadSigningKey(filepath.Join(other, "k"))
	if err != nil {
		t.Fatal(err)
	}
	forgedNote, _ := digest.SignCheckpoint(context.Background(), otherKey, digest.Checkpoint{Origin: "residency/eu-central-1", Size: p.TreeSize})
	cases := map[string]struct {
		edit   func(p *digest.Proof)
		key    string
		reason string
	}{
		"entry field":       {edit: func(p *digest.Proof) { p.Entry.Mechanism = "forged" }, reason: "the entry was altered"},
		"path hash":         {edit: func(p *digest.Proof) { p.AuditPath[0] = p.RootHash }, reason: "audit path leads elsewhere"},
		"tree size":         {edit: func(p *digest.Proof) { p.TreeSize++ }, reason: "signs a tree of"},
		"forged checkpoint": {edit: func(p *digest.Proof) { p.Checkpoint = forgedNote }, reason: "another key signed it"},
		"another key":       {edit: func(*digest.Proof) {}, key: digest.PublicKeyPath(filepath.Join(other, "k")), reason: "not a trusted digest key"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			q := p
			e := *p.Entry
			q.Entry, q.AuditPath = &e, append([]string(nil), p.AuditPath...)
			tc.edit(&q)
			b, _ := json.Marshal(q)
			f := filepath.Join(t.TempDir(), "proof.json")
			os.WriteFile(f, b, 0o644)
			key := pub
			if tc.key != "" {
				key = tc.key
			}
			code, _, errs := cli(t, "check-proof", f, "--public-key", key)
			if code != exitBroken || !strings.Contains(errs, tc.reason) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Fatalf("expect exit 3 and one line saying %q, got %d %q", tc.reason, code, errs)
			}
		})
	}
}

func TestProveConsistency(t *testing.T) {
	db := signTwice(t)
	ds, err := digest.Dir{Path: db + ".digests"}.List(context.Background(), "eu-central-1")
	if err != nil || len(ds) < 2 {
		t.Fatalf("expect two digests, got %d (%v)", len(ds), err)
	}
	proof := filepath.Join(t.TempDir(), "c.json")
	from := ds[0].TreeSize
	code, out, errs := cli(t, "prove", "--db", db, "--consistency", "--region", "eu-central-1", "--from-size", itoa(from), "--out", proof)
	if code != 0 {
		t.Fatalf("prove --consistency: %d %s %s", code, out, errs)
	}
	pub := digest.PublicKeyPath(filepath.Join(filepath.Dir(db), "residency-digest.key"))
	if code, out, errs := cli(t, "check-proof", proof, "--public-key", pub); code != 0 || !strings.Contains(out, "extends its tree of") {
		t.Fatalf("expect a valid consistency proof, got %d %s %s", code, out, errs)
	}
	unsigned := int64(1)
	for _, d := range ds {
		if d.TreeSize == unsigned {
			unsigned++
		}
	}
	if code, _, errs := cli(t, "prove", "--db", db, "--consistency", "--region", "eu-central-1", "--from-size", itoa(unsigned)); code == 0 || !strings.Contains(errs, "no digest") {
		t.Fatalf("expect no proof from an unsigned size, got %d %s", code, errs)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A past entry rewritten, the chain re-hashed from it on and its tree
// recomputed: verify fails (exit 3).
func TestVerifyCatchesARewrittenPast(t *testing.T) {
	db := signTwice(t)
	const region = "eu-central-1"
	ctx := context.Background()
	var entries []ledger.Entry
	withStore(t, db, func(st *sqlitestore.Store) error {
		return st.ScanChain(ctx, region, func(e *ledger.Entry) error { entries = append(entries, *e); return nil })
	})
	sqldb, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range storetest.RewritePast(entries, 1) {
		if _, err := sqldb.Exec(`UPDATE ledger SET decision=?, prev_hash=?, hash=? WHERE region=? AND seq=?`, e.Decision, e.PrevHash, e.Hash, region, e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sqldb.Exec(`DELETE FROM ledger_tree WHERE region=?`, region); err != nil {
		t.Fatal(err)
	}
	sqldb.Close()
	withStore(t, db, func(st *sqlitestore.Store) error { return st.BackfillTree(ctx, region) })
	code, out, _ := cli(t, "verify", "--db", db)
	if code != exitBroken || !strings.Contains(out, region+": BROKEN") || !strings.Contains(out, "is not consistent with") {
		t.Fatalf("expect verify to fail for a rewritten past, got %d %s", code, out)
	}
}

// An erasure certificate holds the request's receipts with their proofs; an
// auditor checks it with the public key alone, and an altered one fails.
func TestCertificateOfAnErasure(t *testing.T) {
	db := signTwice(t)
	dir := t.TempDir()
	cert, pub := filepath.Join(dir, "cert.json"), filepath.Join(dir, "digest.pub")
	if code, out, errs := cli(t, "certificate", "--db", db, "--request", "dsr-2026-1142", "--out", cert); code != 0 || !strings.Contains(out, "erasure request dsr-2026-1142") {
		t.Fatalf("certificate: %d %s %s", code, out, errs)
	}
	_, key, _ := cli(t, "digest-key", "--public", "--db", db)
	os.WriteFile(pub, []byte(key), 0o644)
	raw, _ := os.ReadFile(cert)
	var c digest.Certificate
	if err := json.Unmarshal(raw, &c); err != nil || c.Type != digest.CertificateType || c.RequestID != "dsr-2026-1142" ||
		!strings.HasPrefix(c.SubjectRef, "sub_") || len(c.Receipts) == 0 {
		t.Fatalf("expect a certificate of dsr-2026-1142 with receipts, got %s (%v)", raw, err)
	}
	for _, r := range c.Receipts {
		if r.Entry.Kind != ledger.KindDeletion || !strings.HasPrefix(r.Entry.Reference, "GDPR Art. 17 erasure request dsr-2026-1142") {
			t.Fatalf("expect only the request's deletion receipts, got %+v", r.Entry)
		}
	}
	if strings.Contains(string(raw), "u-1004") {
		t.Fatalf("expect no subject id in the certificate, got %s", raw)
	}

	t.Chdir(dir)
	code, out, errs := cli(t, "check-proof", "cert.json", "--public-key", "digest.pub")
	if code != 0 || !strings.HasPrefix(out, "valid: erasure request dsr-2026-1142") {
		t.Fatalf("expect a valid certificate, got %d %q %s", code, out, errs)
	}
	for name, edit := range map[string]func(*digest.Certificate){
		"another subject":  func(c *digest.Certificate) { c.SubjectRef = "sub_00000000000000000000000000000000" },
		"another request":  func(c *digest.Certificate) { c.RequestID = "dsr-9" },
		"no receipt":       func(c *digest.Certificate) { c.Receipts = nil },
		"receipt twice":    func(c *digest.Certificate) { c.Receipts = append(c.Receipts, c.Receipts[0]) },
		"altered receipt":  func(c *digest.Certificate) { c.Receipts[0].Entry.Time = c.Receipts[0].Entry.Time.Add(time.Hour) },
		"a transfer proof": func(c *digest.Certificate) { c.Receipts[0].Entry.Kind = ledger.KindTransfer },
	} {
		t.Run(name, func(t *testing.T) {
			var c digest.Certificate
			json.Unmarshal(raw, &c)
			edit(&c)
			b, _ := json.Marshal(c)
			os.WriteFile("bad.json", b, 0o644)
			if code, out, errs := cli(t, "check-proof", "bad.json", "--public-key", "digest.pub"); code != 3 || !strings.Contains(errs, "invalid proof") {
				t.Fatalf("expect exit 3 naming the invalid proof, got %d %q %s", code, out, errs)
			}
		})
	}
	if code, _, errs := cli(t, "certificate", "--db", db, "--request", "dsr-none"); code != 1 || !strings.Contains(errs, "no deletion receipt names it") {
		t.Fatalf("expect an unknown request to fail, got %d %s", code, errs)
	}
}
