package reports_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
)

// brokenLedger holds an entry that does not decode: a permanent failure.
type brokenLedger struct{ report.Ledger }

var errBroken = fmt.Errorf("decode ledger entry 7: %w", ledger.ErrInvalid)

func (brokenLedger) ScanChainAfter(context.Context, string, int64, int, func(*ledger.Entry) error) error {
	return errBroken
}

// A request the reports function cannot serve, for good, is answered (the
// HTTP API's acknowledgement: no function error, so nothing retries it),
// without the internal reason.
func TestPermanentFailuresAreAnswered(t *testing.T) {
	if !errors.Is(errBroken, record.ErrPermanent) {
		t.Fatal("expect ledger.ErrInvalid of kind record.ErrPermanent")
	}
	cases := map[string]struct {
		broken bool
		path   string
		q      map[string]string
		status int
	}{
		"an entry that does not decode": {true, "/v1/verify", nil, http.StatusInternalServerError},
		"a bad query":                   {false, "/v1/report", map[string]string{"limit": "zero"}, http.StatusBadRequest},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := setup(t)
			if c.broken {
				h.Ledger = brokenLedger{h.Ledger}
			}
			resp := get(t, h, c.path, c.q) // fails the test on a function error
			if resp.StatusCode != c.status || strings.Contains(resp.Body, "decode ledger entry") {
				t.Fatalf("expect status %d without the internal reason, got %d %s", c.status, resp.StatusCode, resp.Body)
			}
		})
	}
}
