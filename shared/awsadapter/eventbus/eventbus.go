// Package eventbus is the EventBridge adapter of the functions' Publisher:
// PutEvents in batches of 10, several at once, sending failed entries
// again with backoff.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/awsadapter"
)

// PutEventsAPI is the part of the EventBridge client the bus uses.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ PutEventsAPI = (*eventbridge.Client)(nil)

// Bus publishes on one region's residency event bus.
type Bus struct {
	API  PutEventsAPI
	Name string
}

// putEventsInFlight is how many PutEvents calls of one Publish run at
// once: a stream batch's Record Tagged events are most of a tagger
// invocation's time when sent one chunk after another (docs/capacity.md,
// the first bottleneck at 1x), and a region's PutEvents quota (2,400 to
// 10,000 requests/s) is far above what a few shards' taggers send.
const putEventsInFlight = 8

// Publish implements the functions' Publisher: PutEvents in batches of 10,
// putEventsInFlight at once, sending failed entries again with backoff;
// the error names the entries that still failed. EventBridge keeps no
// order between events, so neither do the batches.
func (b *Bus) Publish(ctx context.Context, region string, evs ...events.Out) error {
	entries := make([]ebtypes.PutEventsRequestEntry, 0, len(evs))
	for _, e := range evs {
		detail, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("publish %s: %w", e.DetailType, err)
		}
		entries = append(entries, ebtypes.PutEventsRequestEntry{EventBusName: aws.String(b.Name), Source: aws.String(events.Source),
			DetailType: aws.String(e.DetailType), Detail: aws.String(string(detail))})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(putEventsInFlight)
	for start := 0; start < len(entries); start += 10 {
		chunk := entries[start:min(start+10, len(entries))]
		g.Go(func() error { return b.put(gctx, chunk) })
	}
	return g.Wait()
}

// put sends one batch of at most 10 entries, and its failed entries again
// with backoff.
func (b *Bus) put(ctx context.Context, chunk []ebtypes.PutEventsRequestEntry) error {
	for attempt := 0; len(chunk) > 0; attempt++ {
		if attempt > 0 {
			if err := awsadapter.Backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := b.API.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: chunk})
		if err != nil {
			return fmt.Errorf("put events on %s: %w", b.Name, err)
		}
		if out.FailedEntryCount == 0 {
			return nil
		}
		var failed []ebtypes.PutEventsRequestEntry
		var reasons []string
		for i, r := range out.Entries {
			if r.ErrorCode != nil && i < len(chunk) {
				failed = append(failed, chunk[i])
				reasons = append(reasons, aws.ToString(chunk[i].DetailType)+": "+aws.ToString(r.ErrorCode)+" "+aws.ToString(r.ErrorMessage))
			}
		}
		if attempt == awsadapter.Retries {
			return fmt.Errorf("put events on %s: %d entries failed after %d attempts: %s", b.Name, len(failed), attempt+1, strings.Join(reasons, "; "))
		}
		chunk = failed
	}
	return nil
}
