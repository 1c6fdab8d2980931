package trigger

import (
	"encoding/json"
	"errors"
	"fmt"
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
)

// ErrUnknown marks a payload of no kind Residency handles.
var ErrUnknown = errors.New("unrecognized event payload")

type probe struct {
	Records []struct {
		EventSource  string `json:"eventSource"`
		EventSource2 string `json:"EventSource"`
	} `json:"Records"`
	DetailType     *string         `json:"detail-type"`
	Source         string          `json:"source"`
	RequestContext json.RawMessage `json:"requestContext"`
	RouteKey       string          `json:"routeKey"`
	RawPath        *string         `json:"rawPath"`
}

// Detect returns the kind of payload, or an error wrapping ErrUnknown that
// says what was found.
func Detect(payload []byte) (Kind, error) {
	var p probe
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("%w: not a JSON object: %v", ErrUnknown, err)
	}
	if len(p.Records) > 0 {
		src := p.Records[0].EventSource
		if src == "" {
			src = p.Records[0].EventSource2
		}
		switch src {
		case "aws:dynamodb":
			return DynamoDBStream, nil
		case "aws:s3":
			return S3, nil
		case "aws:sqs":
			return SQS, nil
		}
		return "", fmt.Errorf("%w: Records from event source %q", ErrUnknown, src)
	}
	if p.DetailType != nil {
		if *p.DetailType == "Scheduled Event" && (p.Source == "aws.scheduler" || p.Source == "aws.events") {
			return Schedule, nil
		}
		return EventBridge, nil
	}
	if p.RawPath != nil && len(p.RequestContext) > 0 {
		return HTTP, nil
	}
	return "", fmt.Errorf("%w: no Records, detail-type or requestContext", ErrUnknown)
}
