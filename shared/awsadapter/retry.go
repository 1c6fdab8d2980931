package awsadapter

import (
	"context"
	"math/rand/v2"
	"time"
)

// Retries is how often the adapters send failed entries of a batch again.
const Retries = 5

// Backoff waits before attempt (1, 2, ...) with jitter, or until ctx ends.
func Backoff(ctx context.Context, attempt int) error {
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
