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
	count, found2 := strings.CutSuffix(n, " records to erase")
	received, err := time.Parse(time.RFC3339Nano, at)
	if !found || !found2 || err != nil {
		return "", time.Time{}, 0, false
	}
	records, err = strconv.Atoi(count)
	if err != nil || records < 0 {
		return "", time.Time{}, 0, false
	}
	return requestID, received, records, true
}

// ErasureReceiptOf reports whether e is a deletion receipt of the erasure
// request requestID for a record the request found (not one written again
// after it, ", re-applied", nor an Object Lock hold or the request itself).
func ErasureReceiptOf(e *Entry, requestID string) bool {
	if e.Kind != KindDeletion || e.Decision == DecisionErasureRequested || e.Decision == DecisionHeldByObjectLock {
		return false
	}
	ref := ErasureReference(requestID)
	rest, ok := strings.CutPrefix(e.Reference, ref)
	return ok && (rest == "" || strings.HasPrefix(rest, "; "))
}
