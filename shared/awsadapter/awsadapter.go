package awsadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// retries is how often failed entries of a batch are sent again.
const retries = 5

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(50<<min(attempt, 5)) * time.Millisecond
	d = d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

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
				if err := backoff(ctx, attempt); err != nil {
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
			if attempt == retries {
				return fmt.Errorf("put events on %s: %d entries failed after %d attempts: %s", b.Name, len(failed), attempt+1, strings.Join(reasons, "; "))
			}
			chunk = failed
		}
	}
	return nil
}

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
		body, err := json.Marshal(e)
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
				if err := backoff(ctx, attempt); err != nil {
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
			if attempt == retries {
				return fmt.Errorf("send to ledger queue: %d entries failed after %d attempts: %s", len(out.Failed), attempt+1, strings.Join(reasons, "; "))
			}
			chunk = chunk[first:]
		}
	}
	return nil
}

// S3API is the part of the S3 client Objects uses.
type S3API interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Objects reads and deletes the watched buckets' objects in one region.
type Objects struct {
	API S3API
}

// HeadObject returns an object's user metadata and last-modified time;
// record.ErrNotFound when it does not exist.
func (o *Objects) HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error) {
	out, err := o.API.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return record.Object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, record.ErrNotFound)
	}
	if err != nil {
		return record.Object{}, fmt.Errorf("head s3://%s/%s: %w", bucket, key, err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return record.Object{Region: region, Bucket: bucket, Key: key, Metadata: meta, LastModified: aws.ToTime(out.LastModified)}, nil
}

// DeleteObject deletes an object (S3 deletes are idempotent: a missing
// object is not an error).
func (o *Objects) DeleteObject(ctx context.Context, region, bucket, key string) error {
	if _, err := o.API.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("delete s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// GenerateMacAPI is the part of the KMS client DeriveKey uses.
type GenerateMacAPI interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, optFns ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

var _ GenerateMacAPI = (*kms.Client)(nil)

// KeyLabel is the message whose KMS HMAC is the pseudonym key. A new label
// makes new references (a key rotation).
const KeyLabel = "residency pseudonym key v1"

// DeriveKey returns the pseudonym key: the HMAC-SHA-256, under the KMS HMAC
// key keyID, of KeyLabel. The KMS key never leaves KMS; the derived key is
// known only to roles allowed kms:GenerateMac on it, and is derived once per
// cold start instead of one KMS call per reference.
func DeriveKey(ctx context.Context, api GenerateMacAPI, keyID string) ([]byte, error) {
	out, err := api.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(keyID), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: []byte(KeyLabel)})
	if err != nil {
		return nil, fmt.Errorf("derive pseudonym key from %s: %w", keyID, err)
	}
	return out.Mac, nil
}
