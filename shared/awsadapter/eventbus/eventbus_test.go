package eventbus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/residency-dev/residency/events"
)

// flakyBus fails the entry T0 a number of times.
type flakyBus struct {
	mu       sync.Mutex
	failures int // how many calls fail their entry T0
	calls    [][]string
}

func (f *flakyBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var types []string
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		types = append(types, aws.ToString(e.DetailType))
		r := ebtypes.PutEventsResultEntry{EventId: aws.String("id")}
		if aws.ToString(e.DetailType) == "T0" && f.failures > 0 {
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
	// 10 and the last 2 (at once, in either order), and the failed entry
	// twice more.
	want := []string{"T0", "T0", "T0,T1,T2,T3,T4,T5,T6,T7,T8,T9", "T10,T11"}
	var got []string
	for _, c := range f.calls {
		got = append(got, strings.Join(c, ","))
	}
	slices.Sort(got)
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("expect calls %v, got %v", want, got)
	}
	f = &flakyBus{failures: 100}
	err := (&Bus{API: f, Name: "residency"}).Publish(context.Background(), "eu-central-1", outs(1)...)
	if err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Fatalf("expect an error naming the failure after the retries, got %v", err)
	}
}

// slowBus answers each call after a while, counting the calls in flight.
type slowBus struct {
	mu             sync.Mutex
	inFlight, most int
	entries        int
}

func (s *slowBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	s.mu.Lock()
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	s.entries += len(in.Entries)
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	out := &eventbridge.PutEventsOutput{}
	for range in.Entries {
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	return out, nil
}

func TestBusSendsBatchesSideBySide(t *testing.T) {
	s := &slowBus{}
	if err := (&Bus{API: s, Name: "residency"}).Publish(context.Background(), "eu-central-1", outs(1000)...); err != nil {
		t.Fatal(err)
	}
	// A stream batch of 1,000 events is 100 PutEvents, at most
	// putEventsInFlight at once, and several at once.
	if s.entries != 1000 || s.most > putEventsInFlight || s.most < 2 {
		t.Errorf("expect 1000 entries sent at most %d calls at once (and more than one), got %d entries, %d at once", putEventsInFlight, s.entries, s.most)
	}
}

// A failing batch fails the Publish, whatever the others do.
func TestBusFailsWithAFailingBatch(t *testing.T) {
	f := &failingBus{}
	err := (&Bus{API: f, Name: "residency"}).Publish(context.Background(), "eu-central-1", outs(35)...)
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Errorf("expect the failing batch's error, got %v", err)
	}
}

// failingBus fails the batch that holds T20.
type failingBus struct{}

func (failingBus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if aws.ToString(e.DetailType) == "T20" {
			return nil, fmt.Errorf("access denied")
		}
		out.Entries = append(out.Entries, ebtypes.PutEventsResultEntry{EventId: aws.String("id")})
	}
	return out, nil
}
