package awsadapter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/residency-dev/residency/shared/awsadapter"
)

func TestConditionalWriteErrors(t *testing.T) {
	apiError := func(code string) error {
		// As the SDK returns it: an operation error around the API error.
		return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithy.GenericAPIError{Code: code, Message: "m"}}
	}
	cases := map[string]struct {
		err                          error
		preconditionFailed, conflict bool
	}{
		"412":              {err: apiError("PreconditionFailed"), preconditionFailed: true},
		"409":              {err: apiError("ConditionalRequestConflict"), conflict: true},
		"409 wrapped":      {err: fmt.Errorf("put s3://b/k: %w", apiError("ConditionalRequestConflict")), conflict: true},
		"another API code": {err: apiError("AccessDenied")},
		"not an API error": {err: errors.New("PreconditionFailed")},
		"nil":              {},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := awsadapter.PreconditionFailed(c.err); got != c.preconditionFailed {
				t.Errorf("expect PreconditionFailed %v, got %v", c.preconditionFailed, got)
			}
			if got := awsadapter.ConditionalRequestConflict(c.err); got != c.conflict {
				t.Errorf("expect ConditionalRequestConflict %v, got %v", c.conflict, got)
			}
		})
	}
}

// TestRetryConflicts: a conditional write S3 answers 409 is sent again,
// with backoff, until it is decided or Retries more attempts are spent;
// any other answer ends it at once.
func TestRetryConflicts(t *testing.T) {
	conflict := &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
		Err: &smithy.GenericAPIError{Code: "ConditionalRequestConflict", Message: "m"}}
	refused := &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
		Err: &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "m"}}
	cases := map[string]struct {
		answers  []error // one per attempt; the last repeats
		attempts int
		want     func(error) bool
	}{
		"decided at once":        {answers: []error{nil}, attempts: 1, want: func(err error) bool { return err == nil }},
		"409 once, then written": {answers: []error{conflict, nil}, attempts: 2, want: func(err error) bool { return err == nil }},
		"409, then 412":          {answers: []error{conflict, refused}, attempts: 2, want: awsadapter.PreconditionFailed},
		"412 is not retried":     {answers: []error{refused}, attempts: 1, want: awsadapter.PreconditionFailed},
		"409 for ever": {answers: []error{conflict}, attempts: awsadapter.Retries + 1, want: func(err error) bool {
			return awsadapter.ConditionalRequestConflict(err) && strings.Contains(err.Error(), fmt.Sprintf("after %d attempts", awsadapter.Retries+1))
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if name == "409 for ever" && testing.Short() {
				t.Skip("the backoff takes seconds")
			}
			n := 0
			err := awsadapter.RetryConflicts(context.Background(), func() error {
				n++
				return c.answers[min(n, len(c.answers))-1]
			})
			if n != c.attempts || !c.want(err) {
				t.Fatalf("expect %d attempts and the right answer, got %d and %v", c.attempts, n, err)
			}
		})
	}
}
