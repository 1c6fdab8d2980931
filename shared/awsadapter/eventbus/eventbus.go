// Package eventbus is the EventBridge adapter of the functions' Publisher:
// PutEvents in batches of 10, sending failed entries again with backoff.
package eventbus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

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

// Publish implements the functions' Publisher: PutEvents in batches of 10,
// sending failed entries again with backoff; the error names the entries
// that still failed.
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
	for len(entries) > 0 {
		chunk := entries[:min(10, len(entries))]
		entries = entries[len(chunk):]
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
				break
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
	}
	return nil
}
