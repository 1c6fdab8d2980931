package report_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// evidence is a store whose eu-central-1 chain is signed by a digest up to
// seq 4, with one entry appended after it, and the digest checker that
// verifies it.
type evidence struct {
	st      *sqlitestore.Store
	checker *digest.Checker
	signer  *digest.Ed25519Signer
	signed  *digest.Digest
	opt     report.Options
}

func newEvidence(t *testing.T) *evidence {
	t.Helper()
	ctx := context.Background()
	st := registerStore(t) // 4 entries in eu-central-1
	keyPath := filepath.Join(t.TempDir(), "digest.key")
	signer, err := digest.LoadSigningKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(digest.PublicKeyPath(keyPath))
	if err != nil {
		t.Fatal(err)
	}
	keys := digest.Keys{}
	if err := keys.AddPEM("", pub); err != nil {
		t.Fatal(err)
	}
	dir := digest.Dir{Path: filepath.Join(t.TempDir(), "digests")}
	signedAt := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	w := &digest.Writer{Signer: signer, Store: dir, Chain: st, Now: func() time.Time { return signedAt }}
	d, err := w.Write(ctx, "eu-central-1", false)
	if err != nil || d == nil || d.ToSeq != 4 {
		t.Fatalf("expect a digest to seq 4, got %+v, %v", d, err)
	}
	// One entry after the digest: the head is ahead of what is signed.
	if _, err := st.Append(ctx, "eu-central-1", []ledger.Entry{{ID: "5", Time: at.Add(time.Hour), Kind: ledger.KindTransfer,
		Region: "eu-central-1", FromCountry: "DE", ToCountry: "JP", Importer: "T KK", Mechanism: "adequacy", Reference: "2019/419",
		Category: "events", Decision: "allowed", Actor: "router"}}); err != nil {
		t.Fatal(err)
	}
	c := &digest.Checker{Source: dir, Keys: keys, Tree: st}
	return &evidence{st: st, checker: c, signer: signer, signed: d,
		opt: report.Options{Now: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Policy: policy.MustExample(), Catalog: st, Digests: c}}
}

func (ev *evidence) render(t *testing.T, format string, opt report.Options) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := report.Render(context.Background(), ev.st, report.Query{}, format, &b, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// entryHash is the hash of region's entry at seq, read from the store.
func (ev *evidence) entryHash(t *testing.T, region string, seq int64) string {
	t.Helper()
	var hash string
	if err := ev.st.ScanChainAfter(context.Background(), region, seq-1, 1, func(e *ledger.Entry) error {
		hash = e.Hash
		return nil
	}); err != nil || hash == "" {
		t.Fatalf("expect %s's entry at seq %d, got %v", region, seq, err)
	}
	return hash
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// The report is evidence: its header names the policy's hash, the digest
// key (id and fingerprint) and, per region, the head and the newest signed
// digest (seq, head hash, time, key), in full, in every format.
func TestReportCarriesTheEvidence(t *testing.T) {
	ev := newEvidence(t)
	policyHash := sha256Hex(policy.Example) // the built-in example: its embedded bytes
	der, err := x509.MarshalPKIXPublicKey(ev.signer.Public())
	if err != nil {
		t.Fatal(err)
	}
	keyID, fingerprint := ev.signer.KeyID(), "sha256:"+sha256Hex(der)
	signedHash, headHash := ev.entryHash(t, "eu-central-1", 4), ev.entryHash(t, "eu-central-1", 5)
	signedAt := ev.signed.Time.UTC().Format(time.RFC3339)

	t.Run("json", func(t *testing.T) {
		var h report.Header
		if err := json.Unmarshal([]byte(ev.render(t, "json", ev.opt)), &h); err != nil {
			t.Fatal(err)
		}
		if h.PolicySHA256 != policyHash {
			t.Errorf("expect policy_sha256 %s, got %q", policyHash, h.PolicySHA256)
		}
		if d := cmp.Diff([]digest.KeyInfo{{ID: keyID, Algorithm: digest.AlgEd25519, Fingerprint: fingerprint}}, h.DigestKeys); d != "" {
			t.Errorf("digest_keys (-want +got):\n%s", d)
		}
		var eu *report.ChainStatus
		for i := range h.Ledger.Chains {
			if h.Ledger.Chains[i].Region == "eu-central-1" {
				eu = &h.Ledger.Chains[i]
			}
		}
		if eu == nil {
			t.Fatalf("expect eu-central-1 in the chains, got %+v", h.Ledger.Chains)
		}
		if eu.SignedSeq != 4 || eu.SignedHash != signedHash || eu.SignedKeyID != keyID || eu.SignedAt == nil || !eu.SignedAt.Equal(ev.signed.Time) {
			t.Errorf("expect eu-central-1 signed to seq 4, hash %s, at %s, by %s; got %+v", signedHash, signedAt, keyID, eu)
		}
		if eu.Head.Seq != 5 || eu.Head.Hash != headHash || !eu.Verified {
			t.Errorf("expect eu-central-1 intact to seq 5, hash %s; got %+v", headHash, eu)
		}
	})
	t.Run("table", func(t *testing.T) {
		out := ev.render(t, "table", ev.opt)
		for _, want := range []string{
			"Policy file SHA-256: " + policyHash + "\n",
			"  " + keyID + "  " + digest.AlgEd25519 + "  " + fingerprint + "\n",
			"  eu-central-1: 5 entries, intact\n",
			"    head:   seq 5, hash " + headHash + "\n",
			fmt.Sprintf("newest digest: seq 4, hash %s, at %s, key %s\n", signedHash, signedAt, keyID),
			"  us-east-1: 0 entries, intact\n    head:   none (no entries)\n    signed: no signed digest",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("expect %q in the table:\n%s", want, out)
			}
		}
	})
	t.Run("html", func(t *testing.T) {
		page := ev.render(t, "html", ev.opt)
		for _, want := range []string{
			`<span class="ref" id="policy-sha256">` + policyHash + `</span>`,
			`<span class="ref">` + keyID + `</span>`,
			`<span class="ref">` + fingerprint + `</span>`,
			`seq 5, hash <span class="ref">` + headHash + `</span>`,
			`seq 4, hash <span class="ref">` + signedHash + `</span>,<br>signed <span class="t">` + signedAt + `</span> by key <span class="ref">` + keyID + `</span>`,
			"1 newer entries await the next digest.",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("expect %q in the page", want)
			}
		}
		// Every entry's hash is in the entries table in full.
		for seq := int64(1); seq <= 5; seq++ {
			if h := ev.entryHash(t, "eu-central-1", seq); !strings.Contains(page, `<span class="ref">`+h+`</span>`) {
				t.Errorf("expect the entry at seq %d's hash %s in full", seq, h)
			}
		}
	})
}

// References are never cut short: the HTML page wraps them instead, and a
// print stylesheet keeps the printed page readable.
func TestHTMLPrintsReferencesInFull(t *testing.T) {
	ev := newEvidence(t)
	page := ev.render(t, "html", ev.opt)
	if strings.Contains(page, "\u2026") || strings.Contains(page, "<abbr") {
		t.Error("expect no shortened reference (an ellipsis or an abbr) in the page")
	}
	if m := regexp.MustCompile(`(?m)^\.ref \{[^}]*overflow-wrap: anywhere;`).FindString(page); m == "" {
		t.Error("expect the .ref rule to wrap anywhere (overflow-wrap: anywhere)")
	}
	i := strings.Index(page, "@media print {")
	if i < 0 {
		t.Fatal("expect a print stylesheet (@media print)")
	}
	print := page[i:strings.Index(page, "</style>")]
	for _, want := range []string{
		"background: #fff",                    // no dark or tinted backgrounds
		".scroll { overflow: visible; }",      // the entries table is not clipped
		"overflow-wrap: anywhere",             // cells wrap rather than overflow
		"thead { display: table-header-group", // headers repeat on each page
		"break-inside: avoid",                 // rows are not split across pages
		"h2 ~ h2 { break-before: page",        // each section starts a page
	} {
		if !strings.Contains(print, want) {
			t.Errorf("expect %q in the print stylesheet:\n%s", want, print)
		}
	}
	for _, dark := range regexp.MustCompile(`background: #([0-9a-f]{3,6})`).FindAllStringSubmatch(print, -1) {
		if dark[1] != "fff" && dark[1] != "ffffff" {
			t.Errorf("expect only white backgrounds in print, got #%s", dark[1])
		}
	}
}

// Without digests, the report names no digest key and says the digests
// were not checked; without a policy, no policy hash.
func TestReportWithoutDigestsNamesNoKey(t *testing.T) {
	ev := newEvidence(t)
	opt := ev.opt
	opt.Digests = nil
	var h report.Header
	if err := json.Unmarshal([]byte(ev.render(t, "json", opt)), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.DigestKeys) != 0 || h.PolicySHA256 == "" {
		t.Errorf("expect no digest key and the policy hash, got %+v %q", h.DigestKeys, h.PolicySHA256)
	}
	if page := ev.render(t, "html", opt); !strings.Contains(page, "The signed digests were not checked for this report") ||
		strings.Contains(page, "Digest key") {
		t.Error("html: expect the note that digests were not checked, and no key table")
	}
	if out := ev.render(t, "table", opt); !strings.Contains(out, "    signed: digests not checked\n") || strings.Contains(out, "Digest keys") {
		t.Errorf("table: expect digests not checked, and no key, got:\n%s", out)
	}
	opt.Policy = nil
	for _, format := range []string{"json", "table", "html"} {
		if out := ev.render(t, format, opt); strings.Contains(out, sha256Hex(policy.Example)) {
			t.Errorf("%s: expect no policy hash without a policy", format)
		}
	}
}
