package local

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/functions/ledger"
	ledgerpkg "github.com/residency-dev/residency/shared/ledger"
)

// Send implements the functions' LedgerQueue: entries become messages of the
// ledger FIFO queue, one message group per region chain.
func (s *Stack) Send(ctx context.Context, entries ...ledgerpkg.Entry) error {
	s.queue = slices.Grow(s.queue, len(entries))
	for _, e := range entries {
		body, err := e.AppendJSON(nil)
		if err != nil {
			return fmt.Errorf("send ledger entry %s: %w", e.ID, err)
		}
		s.queue = append(s.queue, lambdaevents.SQSMessage{
			MessageId: s.id("msg"), Body: string(body), EventSource: "aws:sqs", AWSRegion: e.Region,
			EventSourceARN: "arn:aws:sqs:" + e.Region + ":000000000000:residency-ledger.fifo",
			Attributes: map[string]string{"MessageGroupId": e.Region, "MessageDeduplicationId": e.ID,
				"SentTimestamp": strconv.FormatInt(s.Now().UnixMilli(), 10)},
		})
	}
	if s.worker != nil {
		for len(s.queue) >= ledgerBatchSize {
			s.worker.hand(s, s.queue[:ledgerBatchSize:ledgerBatchSize])
			s.queue = s.queue[ledgerBatchSize:]
		}
	}
	return nil
}

// ledgerWorker delivers ledger messages to the ledger function on a
// goroutine of its own, as the ledger function consumes its queue on AWS
// while the retention function sends to it: a sweep's receipts are appended
// while it goes on deleting, on the machine's other core. Its group runs one
// delivery at a time, in the order the batches were handed (the FIFO
// queue's order). It counts what it delivered; the stack takes the counts,
// and the failures, when it stops.
type ledgerWorker struct {
	ctx         context.Context
	g           errgroup.Group
	entries     int
	invocations int
	failed      []string // ids of the messages the ledger rejected
	err         error
}

// startLedgerWorker starts a worker; the stack's Send hands it every full
// batch until stopLedgerWorker.
func (s *Stack) startLedgerWorker(ctx context.Context) {
	w := &ledgerWorker{ctx: ctx}
	w.g.SetLimit(1)
	s.worker = w
}

// hand delivers batch after the batches handed before it; it waits while
// one is being delivered.
func (w *ledgerWorker) hand(s *Stack, batch []lambdaevents.SQSMessage) {
	w.g.Go(func() error {
		if w.err != nil {
			return nil // as Drain does, an error stops the deliveries
		}
		w.entries += len(batch)
		w.invocations++
		w.failed, w.err = s.deliverLedger(w.ctx, batch, w.failed)
		return nil
	})
}

// stopLedgerWorker waits for the worker to deliver what it was handed and
// takes its counts and failures; messages sent since its last full batch
// stay queued for Drain.
func (s *Stack) stopLedgerWorker(ctx context.Context) error {
	w := s.worker
	if w == nil {
		return nil
	}
	s.worker = nil
	w.g.Wait()
	s.Stats.LedgerEntries += w.entries
	s.Stats.Delivered["ledger"] += w.invocations
	s.ledgerRejected(ctx, w.failed)
	return w.err
}

// ledgerRejected keeps the messages the ledger function rejected as dead
// letters.
func (s *Stack) ledgerRejected(ctx context.Context, ids []string) {
	for _, id := range ids {
		s.Failed(ctx, "ledger", "", "message "+id, errors.New("ledger rejected the message (see log)"))
	}
}

// deliverLedger invokes the ledger function on one batch of the stack's
// own messages, made by Send: they go to its SQS handler as the Lambda
// runtime would decode them, without a round trip through JSON (`invoke
// ledger` and the tests take the JSON path). It returns failed with the ids
// of the messages the function rejected appended.
func (s *Stack) deliverLedger(ctx context.Context, batch []lambdaevents.SQSMessage, failed []string) ([]string, error) {
	resp, err := s.ledgerFn.HandleSQS(ctx, lambdaevents.SQSEvent{Records: batch})
	if err != nil {
		return failed, fmt.Errorf("ledger: %w", err)
	}
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed, nil
}

// SignDigests signs a digest of every chain, as the ledger function's
// hourly schedule does on AWS: of the chains that grew since their last
// digest, or with always, of every chain.
func (s *Stack) SignDigests(ctx context.Context, always bool) ([]ledger.DigestResult, error) {
	regions, err := s.Store.Chains(ctx)
	if err != nil {
		return nil, err
	}
	if s.Digests != nil {
		// A chain with digests but no entries lost them all: its digest
		// is refused.
		signed, err := s.Digests.Regions(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range signed {
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
	}
	var out []ledger.DigestResult
	for _, r := range regions {
		d, err := s.ledgerFn.Digest(ctx, r, always)
		if err != nil {
			return out, err
		}
		if d != nil {
			out = append(out, *d)
		}
	}
	return out, nil
}
