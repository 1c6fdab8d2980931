package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/trigger"
)

// Appender appends drafts to a region's chain, idempotently by entry id.
type Appender interface {
	Append(ctx context.Context, region string, drafts []ledger.Entry) ([]ledger.Entry, error)
}

// Handler is the ledger function.
type Handler struct {
	Store Appender
	Log   *slog.Logger
	// Region is the chain the scheduled digest covers (on AWS, the
	// function's own region).
	Region string
	// Digests signs and stores the digests (optional: without it, a
	// scheduled invocation fails).
	Digests *digest.Writer
	// DeadLetters, when set, keeps the messages that failed permanently
	// (errors.Is(err, record.ErrPermanent): not a valid entry draft), which
	// are then acknowledged instead of failed for a retry that cannot mend
	// them; the messages after one in its FIFO group go on. Without it,
	// such a message fails like any other, and so do those after it in its
	// group, so none is lost.
	DeadLetters FailureSink
	// Metrics, when set, receives per append the entries appended and the
	// lag of each: from its message's SentTimestamp on the queue to its
	// append (EMF lines, of the function's region: on AWS its chain).
	Metrics *metrics.Emitter
	// Now is the clock of the append lag (default time.Now).
	Now func() time.Time
}

// The ledger function's metrics, per region (the chain) and function.
const (
	MetricEntriesAppended = "EntriesAppended"
	MetricAppendLag       = "AppendLag"
)

// FailureSink is told of a message that failed, with the reason.
type FailureSink interface {
	Failed(ctx context.Context, function, region, item string, err error)
}

// DigestResult is what a scheduled invocation returns.
type DigestResult struct {
	Region    string `json:"region"`
	FromSeq   int64  `json:"from_seq"`
	ToSeq     int64  `json:"to_seq"`
	HeadHash  string `json:"head_hash"`
	KeyID     string `json:"key_id"`
	Signature string `json:"signature"`
}

// ErrInvalid marks a message that is not a ledger entry draft.
var ErrInvalid = record.Permanent("invalid ledger message")

// Invoke serves the SQS trigger, and the hourly schedule that signs a
// digest, through the JSON path.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	if k, _ := trigger.Detect(payload); k == trigger.Schedule {
		return h.Digest(ctx, h.Region, true)
	}
	var ev lambdaevents.SQSEvent
	// encoding/json's decoding (v1), on the faster engine of json/v2.
	if err := jsonv1.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("ledger: decode SQS event: %w", err)
	}
	return h.HandleSQS(ctx, ev)
}

// HandleSQS appends the drafts of an SQS batch. Messages are grouped by
// region chain in arrival order; when a message of a FIFO group fails, the
// messages after it in that group fail too, so the chain keeps their order.
func (h *Handler) HandleSQS(ctx context.Context, ev lambdaevents.SQSEvent) (lambdaevents.SQSEventResponse, error) {
	var resp lambdaevents.SQSEventResponse
	fail := func(id string) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: id})
	}
	type group struct {
		ids    []string
		drafts []ledger.Entry
		sent   []time.Time // SentTimestamp of each draft's message (zero: unknown)
		broken bool
	}
	groups := map[string]*group{}
	var order []string
	for _, m := range ev.Records {
		d, err := decode(m)
		// The FIFO message group is the chain; order holds within it.
		region := m.Attributes["MessageGroupId"]
		if region == "" {
			region = d.Region
		}
		g := groups[region]
		if g == nil {
			g = &group{}
			groups[region] = g
			order = append(order, region)
		}
		if err != nil && h.DeadLetters != nil && errors.Is(err, record.ErrPermanent) {
			h.DeadLetters.Failed(ctx, "ledger", region, "message "+m.MessageId, err)
			continue
		}
		if err != nil || g.broken {
			if err != nil {
				h.Log.ErrorContext(ctx, "message failed", "function", "ledger", "message_id", m.MessageId, "error", err.Error())
			}
			g.broken = true
			fail(m.MessageId)
			continue
		}
		g.ids = append(g.ids, m.MessageId)
		g.drafts = append(g.drafts, d)
		g.sent = append(g.sent, sentAt(m))
	}
	for _, region := range order {
		g := groups[region]
		if len(g.drafts) == 0 {
			continue
		}
		stored, err := h.Store.Append(ctx, region, g.drafts)
		if err != nil {
			h.Log.ErrorContext(ctx, "append failed", "function", "ledger", "region", region, "entries", len(g.drafts), "error", err.Error())
			for _, id := range g.ids {
				fail(id)
			}
			continue
		}
		h.Log.InfoContext(ctx, "appended", "function", "ledger", "region", region, "entries", len(stored), "head_seq", stored[len(stored)-1].Seq)
		h.appendMetrics(ctx, len(stored), g.sent)
	}
	return resp, nil
}

// sentAt is the time SQS received m (its SentTimestamp attribute, epoch
// milliseconds), or zero.
func sentAt(m lambdaevents.SQSMessage) time.Time {
	ms, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// appendMetrics emits a chain's appended entries and their lags; a metric
// it cannot write is logged, never fatal.
func (h *Handler) appendMetrics(ctx context.Context, appended int, sent []time.Time) {
	if h.Metrics == nil {
		return
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	at := now()
	lags := make([]time.Duration, 0, len(sent))
	for _, s := range sent {
		if !s.IsZero() {
			lags = append(lags, max(0, at.Sub(s)))
		}
	}
	if err := h.Metrics.Emit("", metrics.Counted(MetricEntriesAppended, appended), metrics.Durations(MetricAppendLag, lags...)); err != nil {
		h.Log.WarnContext(ctx, "metrics", "function", "ledger", "error", err.Error())
	}
}

func decode(m lambdaevents.SQSMessage) (ledger.Entry, error) {
	d, err := ledger.DecodeJSON([]byte(m.Body))
	if err != nil {
		return d, fmt.Errorf("%w: body is not an entry: %v", ErrInvalid, err)
	}
	if d.Seq != 0 || d.Hash != "" || d.PrevHash != "" {
		return d, fmt.Errorf("%w: a draft must not carry seq, prev_hash or hash (the ledger assigns them)", ErrInvalid)
	}
	if err := d.ValidateDraft(); err != nil {
		return d, err
	}
	if g := m.Attributes["MessageGroupId"]; g != "" && g != d.Region {
		return d, fmt.Errorf("%w: message group %q does not match the entry's region %q", ErrInvalid, g, d.Region)
	}
	return d, nil
}

// Digest signs a digest of region's chain up to its head (see
// digest.Writer.Write; always writes one even when nothing was appended
// since the last). It returns nil when there was nothing to sign. A chain
// that does not extend the last signed digest is refused and logged as an
// error: the ledger was tampered with.
func (h *Handler) Digest(ctx context.Context, region string, always bool) (*DigestResult, error) {
	if h.Digests == nil {
		return nil, errors.New("ledger: no digest signer configured")
	}
	if region == "" {
		return nil, errors.New("ledger: digest: no region")
	}
	d, err := h.Digests.Write(ctx, region, always)
	if err != nil {
		h.Log.ErrorContext(ctx, "digest failed", "function", "ledger", "region", region, "error", err.Error())
		return nil, err
	}
	if d == nil {
		return nil, nil
	}
	h.Log.InfoContext(ctx, "digest signed", "function", "ledger", "region", region, "from_seq", d.FromSeq, "to_seq", d.ToSeq, "key_id", d.KeyID)
	return &DigestResult{Region: d.Region, FromSeq: d.FromSeq, ToSeq: d.ToSeq, HeadHash: d.HeadHash, KeyID: d.KeyID, Signature: d.Signature}, nil
}
