package sqsqueue

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/residency-dev/residency/shared/ledger"
)

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
