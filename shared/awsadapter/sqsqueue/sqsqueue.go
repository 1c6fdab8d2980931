// Package sqsqueue is the SQS adapter of the functions' LedgerQueue: entry
// drafts to the ledger's FIFO queue, one message group per region chain.
package sqsqueue

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/ledger"
)

// SendMessageBatchAPI is the part of the SQS client the ledger queue uses.
type SendMessageBatchAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ SendMessageBatchAPI = (*sqs.Client)(nil)

// LedgerQueue sends entry drafts to the ledger's FIFO queue.
type LedgerQueue struct {
	API SendMessageBatchAPI
	URL string
}

// Send implements the functions' LedgerQueue: one message group per region
// chain (order within a chain), the entry id as deduplication id (a retried
// send within SQS's five-minute window is dropped; the ledger's own id check
// covers the rest).
func (q *LedgerQueue) Send(ctx context.Context, entries ...ledger.Entry) error {
	reqs := make([]sqstypes.SendMessageBatchRequestEntry, 0, len(entries))
	for i, e := range entries {
		body, err := e.AppendJSON(nil)
		if err != nil {
			return fmt.Errorf("send ledger entry %s: %w", e.ID, err)
		}
		reqs = append(reqs, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(string(body)),
			MessageGroupId: aws.String(e.Region), MessageDeduplicationId: aws.String(e.ID)})
	}
	for len(reqs) > 0 {
		// FIFO order within a group: a failed entry and every later one of
		// the chunk are sent again, in order.
		chunk := reqs[:min(10, len(reqs))]
		reqs = reqs[len(chunk):]
		for attempt := 0; len(chunk) > 0; attempt++ {
			if attempt > 0 {
				if err := awsadapter.Backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := q.API.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: chunk})
			if err != nil {
				return fmt.Errorf("send to ledger queue: %w", err)
			}
			if len(out.Failed) == 0 {
				break
			}
			first := len(chunk)
			var reasons []string
			for _, f := range out.Failed {
				for i, c := range chunk {
					if aws.ToString(c.Id) == aws.ToString(f.Id) && i < first {
						first = i
					}
				}
				reasons = append(reasons, aws.ToString(f.Code)+" "+aws.ToString(f.Message))
			}
			if attempt == awsadapter.Retries {
				return fmt.Errorf("send to ledger queue: %d entries failed after %d attempts: %s", len(out.Failed), attempt+1, strings.Join(reasons, "; "))
			}
			chunk = chunk[first:]
		}
	}
	return nil
}
