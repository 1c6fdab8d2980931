package trigger

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// reference is Detect as it was written first: one json.Unmarshal of the
// whole payload into a probe struct. Detect reads less of the payload but
// must decide every valid JSON payload the same way.
func reference(payload []byte) (Kind, error) {
	var p struct {
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
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", ErrUnknown
	}
	if len(p.Records) > 0 {
		src := p.Records[0].EventSource
		if src == "" {
			src = p.Records[0].EventSource2
		}
		if k, ok := recordSources[src]; ok {
			return k, nil
		}
		return "", ErrUnknown
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
	return "", ErrUnknown
}

// FuzzDetectAgrees: on every payload the reference reads (valid JSON whose
// members have the probe's types), Detect decides the same. Where only the
// rest of a Records batch is malformed, Detect may decide when the reference
// cannot: the handler's decoder reports it.
func FuzzDetectAgrees(f *testing.F) {
	paths, _ := filepath.Glob("../../events/samples/*.json")
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	for _, s := range []string{`{"Records":[null]}`, `{"Records":null,"detail-type":"x"}`, `{"records":[{"EventSource":"aws:sqs","eventsource":""}]}`,
		`{"Records":[],"rawPath":"/","requestContext":null}`, `{"Records":[{"eventSource":"aws:s3"}],"source":1}`, `{"Detail-Type":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		want, werr := reference(payload)
		got, err := Detect(payload)
		if err != nil && !errors.Is(err, ErrUnknown) {
			t.Fatalf("expect ErrUnknown, got %v", err)
		}
		if werr != nil {
			return
		}
		if got != want || (err == nil) != (werr == nil) {
			t.Fatalf("expect %q (%v), got %q (%v)", want, werr, got, err)
		}
	})
}
