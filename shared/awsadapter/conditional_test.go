package awsadapter_test

import (
	"errors"
	"fmt"
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
