package record

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// ObjectContent is an S3 object as the router copies it between regions:
// its bytes, user metadata (keys without the x-amz-meta- prefix, lower
// case), tags and content type.
type ObjectContent struct {
	Body        []byte
	Metadata    map[string]string
	Tags        map[string]string
	ContentType string
	// LastModified is when the object was written (read only: a write is
	// dated by the store).
	LastModified time.Time
}

// Checksum returns the SHA-256 checksum of the object's bytes as S3 gives
// it (x-amz-checksum-sha256: base64 of the digest).
func (c ObjectContent) Checksum() string { return Checksum(c.Body) }

// Checksum returns the SHA-256 checksum of b as S3 gives it (base64).
func Checksum(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ErrLocked marks object versions a store refuses to delete, as S3 does
// under S3 Object Lock (a retention period or a legal hold).
var ErrLocked = errors.New("object version locked")

// LockedError is a deletion refused by S3 Object Lock: Refused of the
// object's versions are locked (the others are deleted). Until is the
// latest retain-until date of the refused versions (zero when only a legal
// hold, which has no date, keeps them); LegalHold says a legal hold is on
// one of them. errors.Is(err, ErrLocked) holds. The error names the bucket,
// never the object key.
type LockedError struct {
	Bucket    string
	Refused   int
	Deleted   int
	Mode      string // GOVERNANCE or COMPLIANCE, when a retention period locks them
	Until     time.Time
	LegalHold bool
}

func (e *LockedError) Error() string {
	what := "S3 Object Lock"
	switch {
	case e.LegalHold && !e.Until.IsZero():
		what += fmt.Sprintf(" (a legal hold, and %s retention until %s)", e.Mode, e.Until.UTC().Format(time.RFC3339))
	case e.LegalHold:
		what += " (a legal hold)"
	case !e.Until.IsZero():
		what += fmt.Sprintf(" (%s retention until %s)", e.Mode, e.Until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("%d object versions in s3://%s are held by %s; %d deleted", e.Refused, e.Bucket, what, e.Deleted)
}

// Is reports ErrLocked.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }
