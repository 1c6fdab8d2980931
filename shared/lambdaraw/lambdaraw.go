// Package lambdaraw serves a function's handler to aws-lambda-go with its
// payload as the runtime received it.
package lambdaraw

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

// Handler serves invoke as a lambda.Handler: the payload reaches it as the
// runtime received it. Started through aws-lambda-go's reflection instead,
// a function taking json.RawMessage gets its payload only after a full scan
// and copy of it, twice, which for a stream batch of up to 6 MB is most of
// the cost of the delivery, and a tenth of a router's batch of violations;
// every Residency function decodes its payload itself anyway, and reports
// what is malformed. The response is encoded as aws-lambda-go
// encodes it (no HTML escaping, no final newline).
func Handler(invoke func(context.Context, json.RawMessage) (any, error)) lambda.Handler {
	return rawHandler(invoke)
}

type rawHandler func(context.Context, json.RawMessage) (any, error)

func (f rawHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := f(ctx, payload)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	// aws-lambda-go strips the encoder's final newline.
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
