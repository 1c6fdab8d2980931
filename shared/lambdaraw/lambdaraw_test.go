package lambdaraw_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/shared/lambdaraw"
)

// TestHandlerAnswersAsReflection: the raw handler hands the payload over
// unchanged (even one that is not JSON) and answers with the bytes
// aws-lambda-go's reflective handler writes for the same function.
func TestHandlerAnswersAsReflection(t *testing.T) {
	for _, c := range []struct {
		name string
		out  any
		err  error
	}{
		{"nil", nil, nil},
		{"html", map[string]any{"a": "<&>", "n": 1}, nil},
		{"error", nil, errors.New("boom")},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []byte
			fn := func(_ context.Context, payload json.RawMessage) (any, error) {
				got = append([]byte(nil), payload...)
				return c.out, c.err
			}
			want, werr := lambda.NewHandler(fn).Invoke(context.Background(), []byte(`{"x": 1}`))
			raw, rerr := lambda.NewHandler(lambdaraw.Handler(fn)).Invoke(context.Background(), []byte(`{"x": 1}`))
			if (werr == nil) != (rerr == nil) || string(raw) != string(want) {
				t.Fatalf("expect %q, %v as reflection gives, got %q, %v", want, werr, raw, rerr)
			}
			if _, err := lambda.NewHandler(lambdaraw.Handler(fn)).Invoke(context.Background(), []byte(`not json`)); string(got) != "not json" || (c.err == nil) != (err == nil) {
				t.Fatalf("expect the payload as received, got %q (%v)", got, err)
			}
		})
	}
}
