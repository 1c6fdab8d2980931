package reports_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/digest"
)

// GET /v1/proof answers the proof `residency prove` writes; it checks with
// the public key alone.
func TestProofRoute(t *testing.T) {
	h := setup(t)
	signer, keys, dir := localDigests(t)
	signEU(t, h, signer, dir)
	if resp := get(t, h, "/v1/proof", map[string]string{"region": "eu-central-1", "seq": "2"}); resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("expect 501 without digests, got %d", resp.StatusCode)
	}
	h.Digests = &digest.Checker{Source: dir, Keys: keys}
	resp := get(t, h, "/v1/proof", map[string]string{"region": "eu-central-1", "seq": "2"})
	var p digest.Proof
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(resp.Body), &p) != nil {
		t.Fatalf("expect a proof, got %d %s", resp.StatusCode, resp.Body)
	}
	if err := digest.CheckProof(&p, keys); err != nil || p.Entry.Seq != 2 {
		t.Fatalf("expect a valid proof of seq 2, got %v", err)
	}
	cases := map[string]struct {
		q      map[string]string
		status int
		body   string
	}{
		"unsigned seq":  {map[string]string{"region": "eu-central-1", "seq": "3"}, http.StatusNotFound, "signs 2 entries"},
		"bad seq":       {map[string]string{"region": "eu-central-1", "seq": "x"}, http.StatusBadRequest, "seq must be a positive integer"},
		"no region":     {map[string]string{"seq": "1"}, http.StatusBadRequest, "missing region"},
		"both kinds":    {map[string]string{"region": "eu-central-1", "seq": "1", "from_size": "1"}, http.StatusBadRequest, "give seq"},
		"consistency":   {map[string]string{"region": "eu-central-1", "from_size": "2"}, http.StatusOK, `"type": "consistency"`},
		"unsigned size": {map[string]string{"region": "eu-central-1", "from_size": "1"}, http.StatusNotFound, "no digest"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := get(t, h, "/v1/proof", c.q)
			if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.body) {
				t.Fatalf("expect %d with %q, got %d %s", c.status, c.body, resp.StatusCode, resp.Body)
			}
		})
	}
}
