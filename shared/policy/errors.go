package policy

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is the kind of every policy validation failure:
// errors.Is(err, ErrInvalid) holds for the [*ValidationError] that [Load] and
// [Parse] return.
var ErrInvalid = errors.New("invalid policy")

// Kinds of decision input errors. [Policy.Residency] and [Policy.Transfer]
// wrap them with the offending value, so errors.Is tells the kind and the
// message tells the value.
var (
	// ErrUnknownCategory: the category is not defined in the policy.
	ErrUnknownCategory = errors.New("unknown category")
	// ErrUnknownCountry: a country is not an assigned ISO 3166-1 alpha-2 code.
	ErrUnknownCountry = errors.New("unknown country")
	// ErrUnknownSubject: the subject's country is missing or unknown and the
	// policy says unknown_subject: reject.
	ErrUnknownSubject = errors.New("unknown subject country")
	// ErrBadRequest: a required input is missing or malformed.
	ErrBadRequest = errors.New("bad request")
	// ErrUnknownExporter: the exporter a transfer names is neither the
	// policy's organization nor one of its entities.
	ErrUnknownExporter = errors.New("unknown exporter")
	// ErrNoRegime: the exporter is in a country no supported regime governs
	// (Residency decides under the EU GDPR, the UK GDPR and the Swiss FADP,
	// and never applies one in place of another).
	ErrNoRegime = errors.New("exporter subject to no supported regime")
)

// FieldError is one problem in a policy file, at a line and field.
type FieldError struct {
	// File is the file name as given to Load or Parse.
	File string
	// Line is the 1-based line of the offending value, or of the mapping
	// missing a field; 0 if unknown.
	Line int
	// Field is the path of the field, e.g. "residency[1].home"; "" for
	// problems with the document as a whole (YAML syntax).
	Field string
	// Msg says what is wrong and, where it can, how to fix it.
	Msg string
}

// Error formats the problem as "file:line: field: msg", leaving out an empty
// field and a zero line.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError holds every problem found in a policy file, sorted by line.
type ValidationError struct {
	Errors []FieldError
}

// Error lists the problems, one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalid
}
