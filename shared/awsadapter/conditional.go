package awsadapter

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// PreconditionFailed reports whether err is S3's refusal of a conditional
// write whose condition does not hold (HTTP 412 PreconditionFailed): with
// If-None-Match: *, an object is under the key already.
func PreconditionFailed(err error) bool { return errorCode(err) == "PreconditionFailed" }

// ConditionalRequestConflict reports whether err is S3's HTTP 409
// ConditionalRequestConflict: another conditional write (or a delete) of the
// same key was in flight, and S3 decided neither way. Unlike
// PreconditionFailed it says nothing of what is under the key (the other
// write may yet fail); S3's answer to it is to send the write again.
func ConditionalRequestConflict(err error) bool {
	return errorCode(err) == "ConditionalRequestConflict"
}

// errorCode is the API error code of err, "" when it is not an API error.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// RetryConflicts runs put, a conditional write, and runs it again with
// Backoff while S3 answers it ConditionalRequestConflict, up to Retries
// times more; then it returns the last conflict, wrapped. put must build
// its request anew each time (a body reader is read by the attempt that
// sends it). Any other answer, nil or an error, is returned as put gave it.
func RetryConflicts(ctx context.Context, put func() error) error {
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := Backoff(ctx, attempt); err != nil {
				return err
			}
		}
		err := put()
		if !ConditionalRequestConflict(err) {
			return err
		}
		if attempt == Retries {
			return fmt.Errorf("still in conflict with another write of the key after %d attempts: %w", attempt+1, err)
		}
	}
}
