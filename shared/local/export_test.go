package local

import (
	"context"
	"errors"
)

// ReplayUndecoded is Replay with a stream batch's records left for the
// tagger's Invoke to decode from the payload, as Lambda hands it: the
// reference the records Prepare decodes are checked against.
func (s *Stack) ReplayUndecoded(ctx context.Context, payload []byte) (Delivery, error) {
	p := Prepare(payload)
	p.recs, p.recsErr = nil, errors.New("left for Invoke")
	return s.ReplayPrepared(ctx, p)
}
