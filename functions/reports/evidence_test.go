package reports_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// The deployed API's report carries the same evidence as the CLI's: the
// policy's hash, the digest key and its fingerprint, and each region's
// newest signed digest, from the policy and checker the Lambda main loads.
func TestReportCarriesTheEvidence(t *testing.T) {
	h := setup(t)
	signer, keys, dir := localDigests(t)
	d := signEU(t, h, signer, dir)
	h.Digests = &digest.Checker{Source: dir, Keys: keys, Tree: h.Ledger.(*sqlitestore.Store)}
	h.Policy = policy.MustExample()
	resp := get(t, h, "/v1/report", map[string]string{"format": "json"})
	var rep report.Header
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &rep) != nil {
		t.Fatalf("expect a JSON report, got %d %s", resp.StatusCode, resp.Body)
	}
	sum := sha256.Sum256(policy.Example)
	if want := hex.EncodeToString(sum[:]); rep.PolicySHA256 != want {
		t.Errorf("expect policy_sha256 %s, got %q", want, rep.PolicySHA256)
	}
	fp, _ := digest.Fingerprint(signer.Public())
	if len(rep.DigestKeys) != 1 || rep.DigestKeys[0].ID != signer.KeyID() || rep.DigestKeys[0].Fingerprint != fp {
		t.Errorf("expect digest key %s with fingerprint %s, got %+v", signer.KeyID(), fp, rep.DigestKeys)
	}
	var found bool
	for _, c := range rep.Ledger.Chains {
		if c.Region == "eu-central-1" {
			found = true
			if c.SignedSeq != d.ToSeq || c.SignedHash != d.HeadHash || c.SignedKeyID != signer.KeyID() || c.SignedAt == nil {
				t.Errorf("expect eu-central-1 signed to seq %d, hash %s, by %s; got %+v", d.ToSeq, d.HeadHash, signer.KeyID(), c)
			}
		}
	}
	if !found {
		t.Fatalf("expect eu-central-1 in the chains, got %+v", rep.Ledger.Chains)
	}
}
