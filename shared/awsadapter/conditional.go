package awsadapter

import (
	"errors"

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
