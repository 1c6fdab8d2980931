package record_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/residency-dev/residency/events"
	fnledger "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

func TestInvalidIsPermanent(t *testing.T) {
	cases := map[string]error{
		"record": record.ErrInvalid, "ledger": ledger.ErrInvalid, "events": events.ErrInvalid, "tagger": tagger.ErrInvalid,
		"router": router.ErrInvalid, "retention": retention.ErrInvalid, "ledger function": fnledger.ErrInvalid,
	}
	for name, sentinel := range cases {
		t.Run(name, func(t *testing.T) {
			err := fmt.Errorf("handle e-1: %w", fmt.Errorf("%w: subject id missing", sentinel))
			if !errors.Is(err, record.ErrPermanent) || !errors.Is(err, sentinel) {
				t.Fatalf("expect %v of kind ErrPermanent and still itself, got %v", sentinel, err)
			}
		})
	}
	if errors.Is(record.ErrNotFound, record.ErrPermanent) || errors.Is(record.Permanent("a"), record.Permanent("a")) {
		t.Fatal("expect ErrNotFound transient and each Permanent sentinel distinct")
	}
}
