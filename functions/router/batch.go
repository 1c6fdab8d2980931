package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/record"
)

// isSQSBatch reports whether a Lambda payload is an SQS event (the
// violations queue's event source mapping) rather than an EventBridge
// event delivered by a rule.
func isSQSBatch(payload json.RawMessage) bool {
	var probe struct {
		Records    []json.RawMessage `json:"Records"`
		DetailType string            `json:"detail-type"`
	}
	return json.Unmarshal(payload, &probe) == nil && probe.Records != nil && probe.DetailType == ""
}

// HandleBatch serves the router's SQS trigger: each message's body is an
// EventBridge envelope, as the rule targeting the queue delivers it. The
// batch's table relocations go through relocate together (batched reads and
// writes per region and table); every other event is handled on its own. A
// message fails alone: its id is in the response's batchItemFailures (the
// event source mapping reports them with ReportBatchItemFailures) so that
// only it is received again, and the queue's redrive policy dead-letters
// it after its last receive. A message that failed permanently (its body
// is not an event, or the event cannot be routed) is kept with its reason
// by DeadLetters, when set, and acknowledged instead of retried. Every
// other message of the batch is handled and acknowledged. Handling is
// idempotent, so a redelivered message changes nothing.
func (h *Handler) HandleBatch(ctx context.Context, batch lambdaevents.SQSEvent) lambdaevents.SQSEventResponse {
	resp := lambdaevents.SQSEventResponse{BatchItemFailures: []lambdaevents.SQSBatchItemFailure{}}
	fail := func(msg lambdaevents.SQSMessage, item string, err error) {
		if h.DeadLetters != nil && errors.Is(err, record.ErrPermanent) {
			h.DeadLetters.Failed(ctx, Actor, h.Region, item, err)
			return
		}
		resp.BatchItemFailures = append(resp.BatchItemFailures, lambdaevents.SQSBatchItemFailure{ItemIdentifier: msg.MessageId})
	}
	type pending struct {
		msg lambdaevents.SQSMessage
		ev  lambdaevents.EventBridgeEvent
		r   *relocation
	}
	var moves []pending
	for _, msg := range batch.Records {
		if err := ctx.Err(); err != nil {
			// Out of time: what is left is retried, not lost.
			fail(msg, "", err)
			continue
		}
		ev, item, err := h.decodeMessage(ctx, msg)
		if err != nil {
			fail(msg, item, err)
			continue
		}
		if ev.DetailType != events.ResidencyViolation {
			if err := h.HandleEvent(ctx, ev); err != nil {
				fail(msg, item, err)
			}
			continue
		}
		r, err := h.classify(ctx, ev.Detail)
		switch {
		case err != nil:
			fail(msg, item, h.eventFailed(ctx, ev, err))
		case r != nil:
			moves = append(moves, pending{msg, ev, r})
		}
	}
	rs := make([]*relocation, len(moves))
	for i, m := range moves {
		rs[i] = m.r
	}
	h.relocate(ctx, rs)
	for _, m := range moves {
		if m.r.err != nil {
			fail(m.msg, m.ev.DetailType+" "+m.ev.ID, h.eventFailed(ctx, m.ev, m.r.err))
		}
	}
	return resp
}

// decodeMessage decodes one SQS message's EventBridge event, and returns
// what names it in a dead letter: the event's detail-type and id, or the
// message id when the body is not an event.
func (h *Handler) decodeMessage(ctx context.Context, msg lambdaevents.SQSMessage) (lambdaevents.EventBridgeEvent, string, error) {
	item := "sqs message " + msg.MessageId
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal([]byte(msg.Body), &ev); err != nil {
		err = fmt.Errorf("router: %s: %w: body is not an EventBridge event: %v", item, ErrInvalid, err)
		h.Log.ErrorContext(ctx, "message failed", "function", Actor, "message_id", msg.MessageId, "error", err.Error())
		return ev, item, err
	}
	if ev.DetailType == "" {
		err := fmt.Errorf("router: %s: %w: body is not an EventBridge event (no detail-type)", item, ErrInvalid)
		h.Log.ErrorContext(ctx, "message failed", "function", Actor, "message_id", msg.MessageId, "error", err.Error())
		return ev, item, err
	}
	return ev, ev.DetailType + " " + ev.ID, nil
}
