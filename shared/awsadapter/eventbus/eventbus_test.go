package eventbus

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/residency-dev/residency/events"
)

// flakyBus fails the given entry indexes of each call a number of times.
type flakyBus struct {
	failures int // how many calls fail their first entry
	calls    [][]string
}

func (f *flakyBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	var types []string
	out := &eventbridge.PutEventsOutput{}
	for i, e := range in.Entries {
		types = append(types, aws.ToString(e.DetailType))
		r := ebtypes.PutEventsResultEntry{EventId: aws.String("id")}
		if i == 0 && f.failures > 0 {
			r = ebtypes.PutEventsResultEntry{ErrorCode: aws.String("ThrottlingException"), ErrorMessage: aws.String("slow down")}
			out.FailedEntryCount++
		}
		out.Entries = append(out.Entries, r)
	}
	if out.FailedEntryCount > 0 {
		f.failures--
	}
	f.calls = append(f.calls, types)
	return out, nil
}

func outs(n int) []events.Out {
	var evs []events.Out
	for i := range n {
		evs = append(evs, events.Out{DetailType: fmt.Sprintf("T%d", i), Detail: &events.ContractEndedDetail{Contract: "c"}})
	}
	return evs
}

func TestBusBatchesAndRetriesFailedEntries(t *testing.T) {
	f := &flakyBus{failures: 2}
	b := &Bus{API: f, Name: "residency"}
	if err := b.Publish(context.Background(), "eu-central-1", outs(12)...); err != nil {
		t.Fatal(err)
	}
	// 10 + the failed first entry twice more, then the last 2.
	want := []string{"T0,T1,T2,T3,T4,T5,T6,T7,T8,T9", "T0", "T0", "T10,T11"}
	var got []string
	for _, c := range f.calls {
		got = append(got, strings.Join(c, ","))
	}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("expect calls %v, got %v", want, got)
	}
	f = &flakyBus{failures: 100}
	err := (&Bus{API: f, Name: "residency"}).Publish(context.Background(), "eu-central-1", outs(1)...)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("expect an error naming the failure after the retries, got %v", err)
	}
}
