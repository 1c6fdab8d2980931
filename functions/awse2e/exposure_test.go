package awse2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/ledger"
)

// streamEvents polls the us-east-1 users stream (the test's own poller)
// until a record of eventName shows, at most about 5 s, and returns the
// batch and when it was seen.
func (w *world) streamUntil(eventName string) (lambdaevents.DynamoDBEvent, time.Time) {
	for range 100 {
		var ev lambdaevents.DynamoDBEvent
		if err := json.Unmarshal(w.streamBatch(), &ev); err != nil {
			w.t.Fatal(err)
		}
		for _, r := range ev.Records {
			if r.EventName == eventName {
				return ev, time.Now()
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("expect a %s on the stream within 5 s", eventName)
	return lambdaevents.DynamoDBEvent{}, time.Time{}
}

// The exposure of a misplaced write, measured: from the write to the
// moment the test's own stream poller sees the REMOVE of the misplaced
// copy in us-east-1. The relocation entry's exposed_ms lies within what
// the test measured: at least the stream's REMOVE time less its INSERT
// time, at most the wall clock from before the write to after the REMOVE
// was seen (plus 1 s: the stream's times may be whole seconds).
func TestExposureIsMeasured(t *testing.T) {
	w := setup(t)
	start := time.Now()
	w.put(map[string]string{"pk": "USER#u-7001", "sk": "PROFILE", "user_id": "u-7001", "country": "FR", "created_at": "2026-11-20T09:14:03Z"})
	ins, _ := w.streamUntil("INSERT")
	insertAt := ins.Records[0].Change.ApproximateCreationDateTime.Time
	payload, _ := json.Marshal(ins)
	w.invoke(w.tagger.Invoke, payload)
	echo, _ := w.streamUntil("MODIFY")
	payload, _ = json.Marshal(echo)
	w.invoke(w.tagger.Invoke, payload)
	violations := w.receive(w.violations)
	if len(violations.Records) != 1 {
		t.Fatalf("expect one violation, got %d", len(violations.Records))
	}
	if !strings.Contains(violations.Records[0].Body, `"written_at"`) {
		t.Fatalf("expect the violation to carry written_at, got %s", violations.Records[0].Body)
	}
	w.invoke(w.router.Invoke, []byte(violations.Records[0].Body))
	rm, goneSeen := w.streamUntil("REMOVE")
	removeAt := rm.Records[len(rm.Records)-1].Change.ApproximateCreationDateTime.Time
	w.flushLedger()

	var rel *ledger.Entry
	for _, e := range w.chain() {
		if e.Kind == ledger.KindRelocation {
			rel = &e
		}
	}
	if rel == nil || rel.ExposedMS == nil {
		t.Fatalf("expect a relocation entry with exposed_ms, got %+v", rel)
	}
	wall := goneSeen.Sub(start)
	lower := removeAt.Sub(insertAt).Milliseconds()
	upper := (wall + time.Second).Milliseconds()
	t.Logf("exposure: write -> gone from us-east-1 measured %v by the wall clock (stream INSERT %s, REMOVE %s); ledger exposed_ms %d",
		wall.Round(time.Millisecond), insertAt.Format(time.RFC3339Nano), removeAt.Format(time.RFC3339Nano), *rel.ExposedMS)
	if got := *rel.ExposedMS; got < lower || got > upper {
		t.Fatalf("expect exposed_ms within the measured [%d, %d] ms, got %d", lower, upper, got)
	}
}
