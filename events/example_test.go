package events_test

import (
	"errors"
	"fmt"

	"github.com/residency-dev/residency/events"
)

func ExampleDecode() {
	detail := []byte(`{"contract": "acct-77", "ended_at": 1795219200, "tenant": "ignored"}`)
	d, err := events.Decode[events.ContractEndedDetail](detail)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Contract, d.EndedAt.Format("2006-01-02 15:04 MST"))

	_, err = events.Decode[events.ContractEndedDetail]([]byte(`{"ended_at": "2026-11-21T00:00:00Z"}`))
	fmt.Println(errors.Is(err, events.ErrInvalid), err)
	// Output:
	// acct-77 2026-11-21 00:00 UTC
	// true invalid event: missing required field "contract"
}

func ExampleDecodeDetail() {
	d, err := events.DecodeDetail(events.ErasureRequested, []byte(`{"request_id": "dsr-2026-1142", "subject_id": "u-1004", "received_at": "2026-11-21T16:30:00+01:00"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	e := d.(*events.ErasureRequestedDetail)
	fmt.Println(e.RequestID, e.ReceivedAt.Time)
	// Output: dsr-2026-1142 2026-11-21 15:30:00 +0000 UTC
}
