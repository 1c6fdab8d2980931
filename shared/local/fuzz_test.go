package local_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/events/eventstest"
)

// FuzzReplay replays arbitrary files, seeded with every sample, as
// `residency run` does: the local stack must deliver them or refuse them with
// an error, never panic, and never leave stream records undelivered.
func FuzzReplay(f *testing.F) {
	eventstest.AddSamples(f, "*.json")
	f.Add([]byte(`{"Records":[{"eventSource":"aws:dynamodb","eventName":"INSERT","eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/users/stream/x",` +
		`"dynamodb":{"Keys":{"pk":{"S":"USER#u-1"},"sk":{"S":"P"}},"NewImage":{"pk":{"S":"USER#u-1"},"sk":{"S":"P"},"user_id":{"S":"u-1"},"country":{"S":"FR"},"n":{"N":"1x"}},"SequenceNumber":"1"}}]}`))
	st, s := stackAt(f, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	f.Fuzz(func(t *testing.T, payload []byte) {
		ctx := context.Background()
		d, err := s.Replay(ctx, payload)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("expect an error that says what is wrong, got an empty one")
			}
			return
		}
		if d.Failed > d.Records {
			t.Fatalf("expect at most %d failed records, got %d", d.Records, d.Failed)
		}
		if pending, err := st.PendingStream(ctx, 1); err != nil || len(pending) != 0 {
			t.Fatalf("expect the stream drained, got %d pending (%v)", len(pending), err)
		}
	})
}
