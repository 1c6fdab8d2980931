package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/trigger"
)

// payloadKey holds, in a handler's context, the payload it is delivered.
type payloadKey struct{}

func deliveredPayload(ctx context.Context) []byte {
	p, _ := ctx.Value(payloadKey{}).([]byte)
	return p
}

// retryKey marks a redelivery: its failures are collected, not kept anew.
type retryKey struct{}

type retryFailures struct{ reasons []string }

// ErrNotRedeliverable is a dead letter Retry cannot redeliver: it keeps no
// payload (kept by an older release) or names no function's handler.
var ErrNotRedeliverable = errors.New("cannot be redelivered")

// streamRecordAlone narrows a DynamoDB stream batch to its record seq, the
// one that failed; any other payload is returned as it is.
func streamRecordAlone(payload []byte, seq string) []byte {
	var batch struct{ Records []json.RawMessage }
	if json.Unmarshal(payload, &batch) != nil || len(batch.Records) < 2 {
		return payload
	}
	for _, r := range batch.Records {
		var rec struct {
			DynamoDB struct{ SequenceNumber string } `json:"dynamodb"`
		}
		if json.Unmarshal(r, &rec) == nil && rec.DynamoDB.SequenceNumber == seq {
			out, err := json.Marshal(struct {
				Records []json.RawMessage `json:"Records"`
			}{[]json.RawMessage{r}})
			if err != nil {
				return payload
			}
			return out
		}
	}
	return payload
}

// Retry redelivers dead letter d to its function in its region, then
// delivers what that caused. It returns the reason the function failed
// again, or "" when it succeeded; the caller then updates or removes the
// letter. A tagger stream record is redelivered as its table holds the
// record now (a fixed record is tagged; one since deleted has nothing left
// to tag), as a write that fixes it would reach the tagger.
func (s *Stack) Retry(ctx context.Context, d sqlitestore.DeadLetter) (string, error) {
	if len(d.Payload) == 0 {
		return "", fmt.Errorf("dead letter %d: no payload kept (an older store): %w", d.ID, ErrNotRedeliverable)
	}
	h, err := s.handler(d.Function, d.Region)
	if err != nil {
		return "", fmt.Errorf("dead letter %d: %v: %w", d.ID, err, ErrNotRedeliverable)
	}
	payload := []byte(d.Payload)
	if kind, _ := trigger.Detect(payload); d.Function == "tagger" && kind == trigger.DynamoDBStream {
		if payload, err = s.currentStream(ctx, payload); err != nil {
			return "", fmt.Errorf("dead letter %d: %w", d.ID, err)
		}
		if payload == nil {
			return "", s.Drain(ctx) // the record is gone: nothing left to tag
		}
	}
	c := &retryFailures{}
	out, err := s.invoke(context.WithValue(ctx, retryKey{}, c), d.Function, h, payload)
	if err != nil {
		c.reasons = append(c.reasons, err.Error())
	} else {
		var resp struct {
			BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
		}
		if json.Unmarshal(out, &resp) == nil && len(resp.BatchItemFailures) > 0 && len(c.reasons) == 0 {
			c.reasons = append(c.reasons, "stream record "+resp.BatchItemFailures[0].ItemIdentifier+" failed again (see log)")
		}
	}
	if err := s.Drain(ctx); err != nil {
		return "", err
	}
	return strings.Join(c.reasons, "; "), nil
}

// currentStream rebuilds a stream batch from what the tables hold now for
// its records' keys; nil if none of them is there any more.
func (s *Stack) currentStream(ctx context.Context, payload []byte) ([]byte, error) {
	recs, err := ddbjson.DecodeStreamRaw(payload)
	if err != nil {
		return nil, fmt.Errorf("decode kept stream batch: %w", err)
	}
	var raws []sqlitestore.RawStreamRecord
	for i := range recs {
		rec := &recs[i]
		parts := strings.SplitN(rec.EventSourceARN, ":", 6)
		if len(parts) < 6 || !strings.HasPrefix(parts[5], "table/") || len(rec.Keys) == 0 {
			return payload, nil // malformed: redelivered as it is, to fail with its reason
		}
		region := parts[3]
		table, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "table/"), "/")
		item, err := s.Store.GetItem(ctx, region, table, rec.Keys)
		if errors.Is(err, sqlitestore.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s/%s: %w", region, table, err)
		}
		key, err := json.Marshal(rec.Keys)
		if err != nil {
			return nil, err
		}
		newImage, err := json.Marshal(item)
		if err != nil {
			return nil, err
		}
		seq, _ := strconv.ParseInt(rec.SequenceNumber, 10, 64)
		event := rec.EventName
		if event != "INSERT" {
			event = "MODIFY" // the record is there
		}
		raws = append(raws, sqlitestore.RawStreamRecord{Seq: seq, Region: region, Table: table, Event: event,
			Key: string(key), New: string(newImage), At: rec.CreatedAt})
	}
	if len(raws) == 0 {
		return nil, nil
	}
	return appendStreamEvent(nil, raws)
}
