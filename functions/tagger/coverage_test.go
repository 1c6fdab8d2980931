package tagger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/lambdaraw"
)

// TestBackfillCompleted: the tagger records a completed backfill's
// coverage through the real Lambda JSON path, and refuses a request that
// names what it cannot cover, with the reason.
func TestBackfillCompleted(t *testing.T) {
	ctx := context.Background()
	h, st, _ := setup(t, "us-east-1")
	h.Coverage = st
	out, err := lambda.NewHandler(lambdaraw.Handler(h.Invoke)).Invoke(ctx, []byte(`{"backfill_completed": {"region": "us-east-1", "source": "users", "mode": "scan"}}`))
	if err != nil || !strings.Contains(string(out), `"source":"users"`) || !strings.Contains(string(out), `"mode":"scan"`) {
		t.Fatalf("expect the coverage recorded and answered, got %s (%v)", out, err)
	}
	cov, err := st.Coverage(ctx, "us-east-1")
	if err != nil || len(cov) != 1 || cov[0].Source != "users" || cov[0].Mode != "scan" || !cov[0].CompletedAt.Equal(h.Now().UTC()) {
		t.Fatalf("expect users' coverage in us-east-1 at the tagger's clock, got %+v (%v)", cov, err)
	}
	for name, c := range map[string]struct{ payload, want string }{
		"another region": {`{"backfill_completed": {"region": "eu-central-1", "source": "users", "mode": "scan"}}`, "records its own region's coverage"},
		"unknown source": {`{"backfill_completed": {"region": "us-east-1", "source": "invoices", "mode": "scan"}}`, `"invoices" is not a source`},
		"unknown mode":   {`{"backfill_completed": {"region": "us-east-1", "source": "users", "mode": "guess"}}`, `mode "guess"`},
		"missing fields": {`{"backfill_completed": {"region": "us-east-1"}}`, "region, source and mode are required"},
		"not an object":  {`{"backfill_completed": 7}`, "not {\"backfill_completed\""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.Invoke(ctx, []byte(c.payload))
			if !errors.Is(err, tagger.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("expect ErrInvalid with %q, got %v", c.want, err)
			}
		})
	}
	h.Coverage = nil
	if _, err := h.Invoke(ctx, []byte(`{"backfill_completed": {"region": "us-east-1", "source": "users", "mode": "scan"}}`)); err == nil || errors.Is(err, tagger.ErrInvalid) {
		t.Fatalf("expect a wiring error without a recorder, got %v", err)
	}
}
