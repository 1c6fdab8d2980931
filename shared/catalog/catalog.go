package catalog

import (
	"time"

	"github.com/residency-dev/residency/shared/record"
)

// Kinds of source a catalog entry can come from.
const (
	SourceTable  = "table"  // a watched DynamoDB table
	SourceBucket = "bucket" // a watched S3 bucket
	SourceEvent  = "event"  // a store the platform reports through Data Written
)

// Entry is one tagged record.
type Entry struct {
	Region        string     `json:"region"`
	Source        string     `json:"source"`
	SourceKind    string     `json:"source_kind"`
	Key           record.Key `json:"key"`
	SubjectRef    string     `json:"subject_ref"`
	Category      string     `json:"category"`
	Contract      string     `json:"contract,omitempty"`
	OriginRegion  string     `json:"origin_region"`
	HomeRegion    string     `json:"home_region"`
	Jurisdiction  string     `json:"jurisdiction"`
	Status        string     `json:"status"`
	PolicyVersion string     `json:"policy_version"`
	TaggedAt      time.Time  `json:"tagged_at"`
	RetainUntil   time.Time  `json:"retain_until,omitzero"`
	// Erasure is the id of the GDPR Art. 17 erasure request that made the
	// entry due, or "". An erasure marks its entries before it deletes
	// anything, so that if it stops part-way, whichever finishes the record
	// (the request's redelivery or the retention sweep) deletes it as that
	// erasure: the receipt names the request, not a retention rule.
	Erasure string `json:"erasure,omitempty"`
	// Reapplied says the erasure is applied again: the record was written
	// (restored from a backup, replayed) after its subject was erased.
	Reapplied bool `json:"reapplied,omitempty"`
}

// Erased is a subject erased under a GDPR Art. 17 request, kept on each
// region's erased list by its keyed reference only, so that a later write
// of the subject's records (a restore, a replayed import) is erased again.
type Erased struct {
	SubjectRef string    `json:"subject_ref"`
	RequestID  string    `json:"request_id"`
	ErasedAt   time.Time `json:"erased_at"`
}

// Hold is a legal hold on every record of a subject, or on one record.
type Hold struct {
	ID         string     `json:"hold_id"`
	SubjectRef string     `json:"subject_ref,omitempty"`
	Source     string     `json:"source,omitempty"`
	Key        record.Key `json:"record,omitempty"`
	Reason     string     `json:"reason"`
	SetAt      time.Time  `json:"set_at"`
}

// Cursor is where a read of due entries stopped; the zero Cursor starts at
// the beginning. Its content is the store's own (for the embedded store the
// last entry's retain-until, source and key; for DynamoDB the bucket, shard
// and last evaluated key): pass back what DueEntries returned.
type Cursor struct {
	RetainUntil time.Time  `json:"retain_until,omitzero"`
	Source      string     `json:"source,omitempty"`
	Key         record.Key `json:"key,omitempty"`
	Token       string     `json:"token,omitempty"`
}

// After returns the cursor just after e, in (retain-until, source, key)
// order.
func After(e Entry) Cursor {
	return Cursor{RetainUntil: e.RetainUntil, Source: e.Source, Key: e.Key}
}

// Count is how many records one region's catalog holds of one category,
// and when the first and the last of them were tagged.
type Count struct {
	Region      string    `json:"region"`
	Category    string    `json:"category"`
	Records     int       `json:"records"`
	FirstTagged time.Time `json:"first_tagged"`
	LastTagged  time.Time `json:"last_tagged"`
}
