package digest

import (
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// A certificate holds the deletions made on the request and nothing else
// that names it: the request's own entry and an Object Lock hold (the
// object was not deleted) are no receipts.
func TestReceiptsOfARequest(t *testing.T) {
	ref := ledger.ErasureReference("dsr-1")
	cases := map[string]struct {
		e    ledger.Entry
		want bool
	}{
		"receipt":            {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ref}, true},
		"re-applied receipt": {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ref + ", re-applied"}, true},
		"the request itself": {ledger.Entry{Kind: ledger.KindDeletion, Decision: ledger.DecisionErasureRequested,
			Reference: ledger.ErasureRequestReference("dsr-1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), 2)}, false},
		"object lock hold": {ledger.Entry{Kind: ledger.KindDeletion, Decision: ledger.DecisionHeldByObjectLock, Reference: ref}, false},
		"another request":  {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ledger.ErasureReference("dsr-10")}, false},
		"not a deletion":   {ledger.Entry{Kind: ledger.KindRelocation, Reference: ref}, false},
		// An S3 object's receipt says how many versions went.
		"S3 object receipt":            {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ref + "; 2 object versions deleted"}, true},
		"re-applied S3 object receipt": {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ref + ", re-applied; 1 object version deleted"}, true},
		// Request ids may hold ',' and ';': "dsr-1,2" is another request.
		"a request whose id goes on":                   {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ledger.ErasureReference("dsr-1,2")}, false},
		"a request whose id goes on after a semicolon": {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ledger.ErasureReference("dsr-1; 2")}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := namesRequest(&c.e, "dsr-1"); got != c.want {
				t.Fatalf("expect %v, got %v", c.want, got)
			}
		})
	}
}
