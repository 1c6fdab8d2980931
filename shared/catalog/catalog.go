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

// Cursor is where a sweep of due entries stopped, in (retain-until, source,
// key) order; the zero Cursor starts at the beginning.
type Cursor struct {
	RetainUntil time.Time  `json:"retain_until"`
	Source      string     `json:"source"`
	Key         record.Key `json:"key"`
}

// After returns the cursor just after e.
func After(e Entry) Cursor {
	return Cursor{RetainUntil: e.RetainUntil, Source: e.Source, Key: e.Key}
}
