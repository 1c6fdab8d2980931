package tagger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
)

type noContracts struct{}

func (noContracts) ContractEnd(context.Context, string) (time.Time, error) { return time.Time{}, nil }

// BenchmarkPipeline compares, side by side on the same 1,000-record stream
// batch, the bare JSON decode of the batch with the tagger's per-record CPU
// work: decode, read the record, decide, build the tag write (no I/O), with
// aws-lambda-go's decoder (pipeline) and with the tagger's own
// (pipeline-decodestream, what Invoke does).
func BenchmarkPipeline(b *testing.B) {
	var ev lambdaevents.DynamoDBEvent
	for i := range 1000 {
		pk := fmt.Sprintf("USER#u-%05d", i)
		img := map[string]lambdaevents.DynamoDBAttributeValue{
			"pk": lambdaevents.NewStringAttribute(pk), "sk": lambdaevents.NewStringAttribute("PROFILE"),
			"user_id": lambdaevents.NewStringAttribute(pk[5:]), "country": lambdaevents.NewStringAttribute([]string{"DE", "US", "FR", "GB"}[i%4]),
			"created_at": lambdaevents.NewStringAttribute("2026-11-20T10:00:00Z"), "email": lambdaevents.NewStringAttribute(pk[5:] + "@example.com"),
		}
		ev.Records = append(ev.Records, lambdaevents.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb",
			EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/x",
			Change: lambdaevents.DynamoDBStreamRecord{Keys: map[string]lambdaevents.DynamoDBAttributeValue{"pk": img["pk"], "sk": img["sk"]},
				NewImage: img, SequenceNumber: fmt.Sprint(i)}})
	}
	payload, _ := json.Marshal(ev)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	h := &Handler{Region: "us-east-1", Policy: policy.MustExample(), Refs: refs, Contracts: noContracts{}, Now: time.Now,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	src, _ := h.Policy.SourceByName("users")
	b.Run("bare-decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e lambdaevents.DynamoDBEvent
			if err := json.Unmarshal(payload, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As the tagger reads a batch now: its own one-pass decoder
	// (ddbjson.DecodeStream) instead of aws-lambda-go's, then the same work.
	b.Run("pipeline-decodestream", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			recs, err := ddbjson.DecodeStream(payload)
			if err != nil {
				b.Fatal(err)
			}
			writes := make([]record.TagWrite, 0, len(recs))
			for i := range recs {
				r := &recs[i]
				w, err := h.fromItem(src, "us-east-1", "users", r.Keys, r.NewImage)
				if err != nil {
					b.Fatal(err)
				}
				tag, _, err := h.decide(ctx, w)
				if err != nil {
					b.Fatal(err)
				}
				writes = append(writes, record.TagWrite{Key: r.Keys, Tag: tag})
			}
			if len(writes) != len(recs) {
				b.Fatalf("expect %d tag writes, got %d", len(recs), len(writes))
			}
		}
	})
	b.Run("pipeline", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			var e lambdaevents.DynamoDBEvent
			if err := json.Unmarshal(payload, &e); err != nil {
				b.Fatal(err)
			}
			writes := make([]record.TagWrite, 0, len(e.Records))
			for i := range e.Records {
				r := &e.Records[i]
				key, _ := ddbjson.ToKey(r.Change.Keys)
				item, err := ddbjson.ToItem(r.Change.NewImage)
				if err != nil {
					b.Fatal(err)
				}
				w, err := h.fromItem(src, "us-east-1", "users", key, item)
				if err != nil {
					b.Fatal(err)
				}
				tag, _, err := h.decide(ctx, w)
				if err != nil {
					b.Fatal(err)
				}
				writes = append(writes, record.TagWrite{Key: key, Tag: tag})
			}
			if len(writes) != len(e.Records) {
				b.Fatalf("expect %d tag writes, got %d", len(e.Records), len(writes))
			}
		}
	})
}
