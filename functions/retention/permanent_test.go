package retention_test

import (
	"errors"
	"testing"

	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/record"
)

// With a dead-letter sink, an event the retention function cannot act on
// is kept with its reason and acknowledged, not failed for a retry; without
// one it fails as before, so nothing is lost.
func TestPermanentFailuresAreDeadLettered(t *testing.T) {
	invalid := map[string]string{ // dead-lettered item -> event
		"Something Else e-1":    `{"detail-type":"Something Else","source":"x","id":"e-1","region":"eu-central-1","detail":{}}`,
		"Legal Hold Set e-2":    `{"detail-type":"Legal Hold Set","source":"x","id":"e-2","region":"eu-central-1","detail":{"hold_id":"h-1"}}`,
		"Erasure Requested e-3": `{"detail-type":"Erasure Requested","source":"x","id":"e-3","region":"eu-central-1","detail":{"request_id":"r-1"}}`,
	}
	for item, payload := range invalid {
		t.Run(item, func(t *testing.T) {
			h, _, sk := setup(t)
			dl := &fakes.DeadLetters{}
			h.DeadLetters = dl
			if _, err := h.Invoke(t.Context(), []byte(payload)); err != nil {
				t.Fatalf("expect the event acknowledged, got %v", err)
			}
			if len(dl.Letters) != 1 || dl.Letters[0].Item != item || dl.Letters[0].Function != retention.Actor || !errors.Is(dl.Letters[0].Err, record.ErrPermanent) {
				t.Fatalf("expect %q dead-lettered with a permanent reason, got %+v", item, dl.Letters)
			}
			if len(sk.Entries)+len(sk.Events) != 0 {
				t.Fatalf("expect no side effects, got %+v", sk)
			}
			h.DeadLetters = nil
			if _, err := h.Invoke(t.Context(), []byte(payload)); !errors.Is(err, record.ErrPermanent) {
				t.Fatalf("expect a permanent error without a sink, got %v", err)
			}
		})
	}
}
