package awsadapter

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/ledger"
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

type flakyQueue struct {
	failID string
	calls  [][]string
}

func (f *flakyQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	var ids []string
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		ids = append(ids, aws.ToString(e.MessageDeduplicationId)+"@"+aws.ToString(e.MessageGroupId))
		if aws.ToString(e.MessageDeduplicationId) == f.failID {
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
		}
	}
	f.failID = "" // fails once
	f.calls = append(f.calls, ids)
	return out, nil
}

func TestLedgerQueueKeepsOrderOnPartialFailure(t *testing.T) {
	f := &flakyQueue{failID: "b"}
	q := &LedgerQueue{API: f, URL: "u"}
	var es []ledger.Entry
	for _, id := range []string{"a", "b", "c"} {
		es = append(es, ledger.Entry{ID: id, Region: "eu-central-1"})
	}
	if err := q.Send(context.Background(), es...); err != nil {
		t.Fatal(err)
	}
	// The failed entry and every later one are sent again, in order.
	got := fmt.Sprint(f.calls)
	if got != "[[a@eu-central-1 b@eu-central-1 c@eu-central-1] [b@eu-central-1 c@eu-central-1]]" {
		t.Fatalf("expect a resend of b and c in order, got %s", got)
	}
}
