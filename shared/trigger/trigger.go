package trigger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Kind is the kind of payload.
type Kind string

// The payload kinds Residency's functions receive.
const (
	DynamoDBStream Kind = "dynamodb-stream"
	S3             Kind = "s3"
	SQS            Kind = "sqs"
	EventBridge    Kind = "eventbridge"
	Schedule       Kind = "schedule"
	HTTP           Kind = "http"
	// Backfill is a page of a backfill, as the backfill's state machine
	// passes it to the tagger: {"backfill": {"region", "table", ...}}.
	Backfill Kind = "backfill"
	// BackfillCompleted is a backfill's last step, which records its
	// coverage: {"backfill_completed": {"region", "source", "mode"}}.
	BackfillCompleted Kind = "backfill-completed"
)

// recordSources are the kinds of a payload of Records, by the first
// record's event source.
var recordSources = map[string]Kind{"aws:dynamodb": DynamoDBStream, "aws:s3": S3, "aws:sqs": SQS}

// ErrUnknown marks a payload of no kind Residency handles.
var ErrUnknown = errors.New("unrecognized event payload")

// Detect returns the kind of payload, or an error wrapping ErrUnknown that
// says what was found. It reads no more of the payload than it needs: with
// Records, the first record's event source decides, and the rest of a large
// batch is left to the handler's own decoder (which reports any error in
// it). Member names match as encoding/json matches them.
func Detect(payload []byte) (Kind, error) {
	p, err := probePayload(payload)
	if err != nil {
		return "", fmt.Errorf("%w: not a JSON object: %v", ErrUnknown, err)
	}
	if p.records {
		if k, ok := recordSources[p.eventSource]; ok {
			return k, nil
		}
		return "", fmt.Errorf("%w: Records from event source %q", ErrUnknown, p.eventSource)
	}
	if p.detailType != nil {
		if *p.detailType == "Scheduled Event" && (p.source == "aws.scheduler" || p.source == "aws.events") {
			return Schedule, nil
		}
		return EventBridge, nil
	}
	if p.rawPath != nil && p.requestContext {
		return HTTP, nil
	}
	if p.backfill {
		return Backfill, nil
	}
	if p.backfillCompleted {
		return BackfillCompleted, nil
	}
	return "", fmt.Errorf("%w: no Records, detail-type, requestContext, backfill or backfill_completed", ErrUnknown)
}

// probe is what Detect reads of a payload.
type probe struct {
	records        bool // a non-empty Records array: eventSource decides
	eventSource    string
	detailType     *string
	source         string
	requestContext bool
	rawPath        *string
	backfill       bool
	// backfillCompleted: a backfill_completed member.
	backfillCompleted bool
}

func probePayload(payload []byte) (probe, error) {
	var p probe
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := delim(dec, '{'); err != nil {
		return p, err
	}
	for dec.More() {
		name, err := key(dec)
		if err != nil {
			return p, err
		}
		switch {
		case strings.EqualFold(name, "Records"):
			if done, err := firstRecord(dec, &p); err != nil || done {
				return p, err
			}
		case strings.EqualFold(name, "detail-type"):
			if p.detailType, err = optString(dec); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "source"):
			if err := str(dec, &p.source); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "rawPath"):
			if p.rawPath, err = optString(dec); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "routeKey"):
			var s string
			if err := str(dec, &s); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "backfill"):
			p.backfill = true
			if err := skip(dec); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "backfill_completed"):
			p.backfillCompleted = true
			if err := skip(dec); err != nil {
				return p, err
			}
		case strings.EqualFold(name, "requestContext"):
			p.requestContext = true
			if err := skip(dec); err != nil {
				return p, err
			}
		default:
			if err := skip(dec); err != nil {
				return p, err
			}
		}
	}
	return p, delim(dec, '}')
}

// firstRecord reads the Records member up to the end of its first element
// (done: the payload's kind is decided), or all of it when it is null or
// empty.
func firstRecord(dec *json.Decoder, p *probe) (done bool, err error) {
	t, err := dec.Token()
	if err != nil {
		return false, err
	}
	if t == nil {
		return false, nil // null: no records
	}
	if t != json.Delim('[') {
		return false, errors.New("the Records member is not an array")
	}
	if !dec.More() {
		return false, delim(dec, ']')
	}
	if t, err = dec.Token(); err != nil {
		return false, err
	}
	if t == nil {
		p.records = true // a null record: no event source
		return true, nil
	}
	if t != json.Delim('{') {
		return false, errors.New("the first of the Records is not an object")
	}
	// "EventSource" (exactly so) is read only when eventSource is empty, as
	// the two fields of a struct would be.
	var src, src2 string
	for dec.More() {
		name, err := key(dec)
		if err != nil {
			return false, err
		}
		switch {
		case name == "EventSource":
			err = str(dec, &src2)
		case strings.EqualFold(name, "eventSource"):
			err = str(dec, &src)
		default:
			err = skip(dec)
		}
		if err != nil {
			return false, err
		}
	}
	if src == "" {
		src = src2
	}
	p.records, p.eventSource = true, src
	return true, nil
}

func delim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("expect %v, got %v", d, t)
	}
	return nil
}

func key(dec *json.Decoder) (string, error) {
	t, err := dec.Token()
	if err != nil {
		return "", err
	}
	k, ok := t.(string)
	if !ok {
		return "", fmt.Errorf("expect a member name, got %v", t)
	}
	return k, nil
}

// str reads a string (null leaves dst as it is).
func str(dec *json.Decoder, dst *string) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := t.(type) {
	case nil:
		return nil
	case string:
		*dst = v
		return nil
	}
	return fmt.Errorf("expect a string, got %v", t)
}

func optString(dec *json.Decoder) (*string, error) {
	var s *string
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := t.(type) {
	case nil:
		return s, nil
	case string:
		return &v, nil
	}
	return nil, fmt.Errorf("expect a string, got %v", t)
}

func skip(dec *json.Decoder) error {
	var raw json.RawMessage
	return dec.Decode(&raw)
}
