package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DecisionErasureRequested is the decision of the deletion entry a region's
// retention function appends when it receives an erasure request: not a
// receipt but the request itself, when it was received and how many of the
// subject's records the region holds to erase (legal holds and Object Lock
// included). The request is complete in the region when as many receipts
// name it (ErasureReference); the report puts it on the one-month clock of
// GDPR Art. 12(3). It is a deletion entry, as the Object Lock hold is, so
// the entry kinds, their canonical encoding and every store stay as they
// were.
const DecisionErasureRequested = "erasure_requested"

// ErasureRequestReference is the reference of an erasure request's entry:
// ErasureReference(requestID), then "; received <RFC 3339>; <n> records to
// erase". ParseErasureRequest reads it back.
func ErasureRequestReference(requestID string, received time.Time, records int) string {
	return fmt.Sprintf("%s; received %s; %d records to erase", ErasureReference(requestID), received.UTC().Format(time.RFC3339Nano), records)
}

// ParseErasureRequest reads an erasure request's entry: the request id,
// when it was received and the records to erase; ok is false for any other
// entry.
func ParseErasureRequest(e *Entry) (requestID string, received time.Time, records int, ok bool) {
	if e.Kind != KindDeletion || e.Decision != DecisionErasureRequested {
		return "", time.Time{}, 0, false
	}
	rest, found := strings.CutPrefix(e.Reference, ErasureReference(""))
	if !found {
		return "", time.Time{}, 0, false
	}
	i := strings.LastIndex(rest, "; received ")
	if i < 0 {
		return "", time.Time{}, 0, false
	}
	requestID, rest = rest[:i], rest[i+len("; received "):]
	at, n, found := strings.Cut(rest, "; ")
	if !found {
		return "", time.Time{}, 0, false
	}
	count, found := strings.CutSuffix(n, " records to erase")
	if !found {
		return "", time.Time{}, 0, false
	}
	received, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return "", time.Time{}, 0, false
	}
	records, err = strconv.Atoi(count)
	if err != nil || records < 0 {
		return "", time.Time{}, 0, false
	}
	return requestID, received, records, true
}

// ReappliedSuffix follows ErasureReference in the receipt of a record
// written again after its subject's erasure and erased again.
const ReappliedSuffix = ", re-applied"

// ObjectVersionsSuffix ends the reference of a deletion of an S3 object:
// how many of its versions were deleted. ParseErasureReceipt reads it back.
func ObjectVersionsSuffix(versions int) string {
	noun := "versions"
	if versions == 1 {
		noun = "version"
	}
	return fmt.Sprintf("; %d object %s deleted", versions, noun)
}

// ParseErasureReceipt reads a deletion receipt made on an erasure request:
// the request's id, and whether it is re-applied (a record written again
// after the erasure, not one the request found). The retention function
// writes its reference as ErasureReference(requestID), then ", re-applied"
// for such a record, then "; <n> object version(s) deleted" for an S3
// object; the id is what comes between, read from the end, so that an id
// holding ',' or ';' reads back whole. ok is false for any other entry,
// and for the two deletion entries that name a request and are no
// receipts: the request's own entry and an Object Lock hold.
func ParseErasureReceipt(e *Entry) (requestID string, reapplied, ok bool) {
	if e.Kind != KindDeletion || e.Decision == DecisionErasureRequested || e.Decision == DecisionHeldByObjectLock {
		return "", false, false
	}
	rest, ok := strings.CutPrefix(e.Reference, ErasureReference(""))
	if !ok {
		return "", false, false
	}
	if i := strings.LastIndex(rest, "; "); i >= 0 && isObjectVersions(rest[i+len("; "):]) {
		rest = rest[:i]
	}
	rest, reapplied = strings.CutSuffix(rest, ReappliedSuffix)
	if rest == "" {
		return "", false, false
	}
	return rest, reapplied, true
}

// isObjectVersions reports whether s, after its "; ", is an
// ObjectVersionsSuffix.
func isObjectVersions(s string) bool {
	n, _, ok := strings.Cut(s, " ")
	v, err := strconv.Atoi(n)
	return ok && err == nil && v >= 0 && "; "+s == ObjectVersionsSuffix(v)
}
