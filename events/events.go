package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"

	"github.com/residency-dev/residency/shared/record"
)

// Source is the EventBridge source of every event Residency publishes.
const Source = "residency"

// Detail types Residency publishes.
const (
	RecordTagged       = "Record Tagged"
	ResidencyViolation = "Residency Violation"
	RecordRelocated    = "Record Relocated"
	TransferDecided    = "Transfer Decided"
	RetentionExpired   = "Retention Expired"
	RecordDeleted      = "Record Deleted"
	ErasureCompleted   = "Erasure Completed"
)

// Detail types Residency consumes from the platform.
const (
	DataWritten       = "Data Written"
	RecordIngest      = "Record Ingest"
	TransferRequested = "Transfer Requested"
	LegalHoldSet      = "Legal Hold Set"
	LegalHoldReleased = "Legal Hold Released"
	ContractEnded     = "Contract Ended"
	ErasureRequested  = "Erasure Requested"
)

// Published lists the detail types Residency publishes.
var Published = []string{RecordTagged, ResidencyViolation, RecordRelocated, TransferDecided, RetentionExpired, RecordDeleted, ErasureCompleted}

// Consumed lists the detail types Residency consumes from the platform.
var Consumed = []string{DataWritten, RecordIngest, TransferRequested, LegalHoldSet, LegalHoldReleased, ContractEnded, ErasureRequested}

// ErrInvalid marks a detail that cannot be decoded or misses a required field.
var ErrInvalid = record.Permanent("invalid event")

// Time is a timestamp of the platform contract: it decodes an RFC 3339
// string or epoch seconds and encodes RFC 3339 in UTC.
type Time struct{ time.Time }

// UnmarshalJSON accepts an RFC 3339 string, epoch seconds, or null (the
// zero Time). Both forms cover the same range, 1970-01-01 to 9999-12-31 UTC:
// an RFC 3339 string outside it is an error, as a negative or millisecond
// epoch value is, so that every decoded Time encodes back to a string that
// decodes to it (at second precision).
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var v any
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '\\') < 0 {
		// A string without escapes, as every timestamp is: its bytes are
		// its text (the JSON around it was checked by the caller's decoder).
		v = string(b[1 : n-1])
	} else {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return err
		}
	}
	p, err := record.ParseTime(v)
	if err != nil {
		return err
	}
	if p.Before(minTime) || p.Year() > 9999 {
		return fmt.Errorf("%w: timestamp %s is outside 1970-01-01..9999-12-31 UTC", record.ErrInvalid, b)
	}
	t.Time = p
	return nil
}

// minTime is the earliest Time: epoch seconds start there.
var minTime = time.Unix(0, 0).UTC()

// MarshalJSON writes RFC 3339 in UTC, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// At returns a Time for t.
func At(t time.Time) Time { return Time{t.UTC()} }

// Detail is implemented by every detail type: Validate names the first
// missing or malformed required field.
type Detail interface {
	Validate() error
}

// Decode decodes and validates an EventBridge detail into T. Numbers inside
// items and keys stay exact (json.Number). Errors wrap ErrInvalid.
func Decode[T any, PT interface {
	*T
	Detail
}](raw []byte) (T, error) {
	var v T
	err := decodeInto(raw, PT(&v), func() Detail { return PT(new(T)) })
	return v, err
}

// decodeInto decodes raw, one JSON value and nothing after it, into v and
// validates it; fresh makes a value of v's type, for culprit.
func decodeInto(raw []byte, v Detail, fresh func() Detail) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return fmt.Errorf("%w: empty detail", ErrInvalid)
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		if f := culprit(raw, fresh()); f != "" {
			return fmt.Errorf("%w: field %q: %v", ErrInvalid, f, err)
		}
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the detail", ErrInvalid)
	}
	return v.Validate()
}

// culprit names the member of the JSON object raw that fails to decode
// into fresh, as the JSON Pointer of encoding/json/v2's error (with
// encoding/json's semantics) says, so that a malformed field (a bad
// timestamp, a key that is not an object) is named in the error. It returns
// "" when no member is to blame.
func culprit(raw []byte, fresh any) string {
	var serr *jsonv2.SemanticError
	err := jsonv2.Unmarshal(raw, fresh, jsonv1.DefaultOptionsV1(), jsonv1.ReportErrorsWithLegacySemantics(false))
	if !errors.As(err, &serr) {
		return ""
	}
	for name := range serr.JSONPointer.Tokens() {
		return name
	}
	return ""
}

func missing(field string) error {
	return fmt.Errorf("%w: missing required field %q", ErrInvalid, field)
}

// field is one required field of a detail: its JSON name and whether the
// event gives it.
type field struct {
	name string
	set  bool
}

func has(name string, set bool) field { return field{name, set} }

// required is the missing-field error of the first field of fs not set, in
// their order, or nil when every one is.
func required(fs ...field) error {
	for _, f := range fs {
		if !f.set {
			return missing(f.name)
		}
	}
	return nil
}

// RecordIngestDetail is `Record Ingest`: the router writes Item to the home
// region's table of Source.
type RecordIngestDetail struct {
	Source string      `json:"source"`
	Item   record.Item `json:"item"`
}

// Validate implements Detail.
func (d *RecordIngestDetail) Validate() error {
	return required(has("source", d.Source != ""), has("item", len(d.Item) > 0))
}

// DataWrittenDetail is `Data Written`: a write to a store Residency does not
// watch directly.
type DataWrittenDetail struct {
	Source         string     `json:"source"`
	Record         record.Key `json:"record"`
	SubjectID      string     `json:"subject_id"`
	SubjectCountry string     `json:"subject_country,omitempty"`
	Category       string     `json:"category"`
	Region         string     `json:"region"`
	CreatedAt      Time       `json:"created_at"`
	LastActivity   Time       `json:"last_activity,omitzero"`
	Contract       string     `json:"contract,omitempty"`
}

// Validate implements Detail.
func (d *DataWrittenDetail) Validate() error {
	return required(
		has("source", d.Source != ""), has("record", len(d.Record) > 0),
		has("subject_id", d.SubjectID != ""), has("category", d.Category != ""),
		has("region", d.Region != ""), has("created_at", !d.CreatedAt.IsZero()),
	)
}

// TransferRequestedDetail is `Transfer Requested`: an export of a record to
// an importer in another country, answered with `Transfer Decided`.
type TransferRequestedDetail struct {
	TransferID     string     `json:"transfer_id"`
	Source         string     `json:"source"`
	Record         record.Key `json:"record"`
	SubjectID      string     `json:"subject_id"`
	SubjectCountry string     `json:"subject_country,omitempty"`
	Category       string     `json:"category"`
	// Exporter names the policy's organization or one of its entities; ""
	// is the organization.
	Exporter   string `json:"exporter,omitempty"`
	ToCountry  string `json:"to_country"`
	ToRegion   string `json:"to_region,omitempty"`
	Importer   string `json:"importer"`
	Derogation string `json:"derogation,omitempty"`
}

// Validate implements Detail.
func (d *TransferRequestedDetail) Validate() error {
	return required(
		has("transfer_id", d.TransferID != ""), has("source", d.Source != ""),
		has("record", len(d.Record) > 0), has("subject_id", d.SubjectID != ""),
		has("category", d.Category != ""), has("to_country", d.ToCountry != ""),
		has("importer", d.Importer != ""),
	)
}

// LegalHoldDetail is `Legal Hold Set` and `Legal Hold Released`: a hold on
// every record of a subject, or on one record of a source.
type LegalHoldDetail struct {
	HoldID    string     `json:"hold_id"`
	SubjectID string     `json:"subject_id,omitempty"`
	Source    string     `json:"source,omitempty"`
	Record    record.Key `json:"record,omitempty"`
	Reason    string     `json:"reason"`
}

// Validate implements Detail.
func (d *LegalHoldDetail) Validate() error {
	switch {
	case d.HoldID == "":
		return missing("hold_id")
	case d.Reason == "":
		return missing("reason")
	case d.SubjectID == "" && d.Source == "" && len(d.Record) == 0:
		return fmt.Errorf("%w: a hold needs subject_id, or source and record", ErrInvalid)
	case d.SubjectID == "" && d.Source == "":
		return missing("source")
	case d.SubjectID == "" && len(d.Record) == 0:
		return missing("record")
	}
	return nil
}

// ContractEndedDetail is `Contract Ended`: starts the clocks of contract_end
// retention for the records linked to Contract.
type ContractEndedDetail struct {
	Contract string `json:"contract"`
	EndedAt  Time   `json:"ended_at"`
}

// Validate implements Detail.
func (d *ContractEndedDetail) Validate() error {
	return required(has("contract", d.Contract != ""), has("ended_at", !d.EndedAt.IsZero()))
}

// ErasureRequestedDetail is `Erasure Requested` (GDPR Art. 17).
type ErasureRequestedDetail struct {
	RequestID  string `json:"request_id"`
	SubjectID  string `json:"subject_id"`
	ReceivedAt Time   `json:"received_at"`
}

// Validate implements Detail.
func (d *ErasureRequestedDetail) Validate() error {
	return required(
		has("request_id", d.RequestID != ""), has("subject_id", d.SubjectID != ""),
		has("received_at", !d.ReceivedAt.IsZero()),
	)
}

// RecordTaggedDetail is `Record Tagged`.
type RecordTaggedDetail struct {
	Source     string     `json:"source"`
	RecordRef  string     `json:"record_ref"`
	Region     string     `json:"region"`
	SubjectRef string     `json:"subject_ref"`
	Category   string     `json:"category"`
	Tag        record.Tag `json:"tag,omitzero"`
}

// Validate implements Detail.
func (d *RecordTaggedDetail) Validate() error {
	return required(
		has("source", d.Source != ""), has("record_ref", d.RecordRef != ""),
		has("region", d.Region != ""),
	)
}

// ResidencyViolationDetail is `Residency Violation`: a record in a region its
// policy does not allow. The router of Region acts on it, so it needs the
// record's key: the tagger sends it sealed (RecordSealed, AES-256-GCM under a
// key derived from the deployment's HMAC key: pseudonym.Keyer.Seal), never in
// the clear, beside its keyed reference. Record, the key in the clear, is
// accepted from an operator who publishes a violation by hand; Residency
// never sends it.
type ResidencyViolationDetail struct {
	Source         string     `json:"source"`
	RecordRef      string     `json:"record_ref,omitempty"`
	RecordSealed   string     `json:"record_sealed,omitempty"`
	Record         record.Key `json:"record,omitempty"`
	Region         string     `json:"region"`
	SubjectRef     string     `json:"subject_ref"`
	SubjectCountry string     `json:"subject_country"`
	Jurisdiction   string     `json:"jurisdiction"`
	HomeRegion     string     `json:"home_region"`
	Allowed        []string   `json:"allowed,omitempty"`
	Action         string     `json:"action"`
	Category       string     `json:"category"`
	PolicyVersion  string     `json:"policy_version"`
	DetectedAt     Time       `json:"detected_at,omitzero"`
	// WrittenAt is when the misplaced write happened (the stream record's
	// ApproximateCreationDateTime, the S3 eventTime, Data Written's time):
	// the router measures the exposure from it. Absent for a record found
	// by a backfill, whose write time is not known.
	WrittenAt Time `json:"written_at,omitzero"`
}

// Validate implements Detail.
func (d *ResidencyViolationDetail) Validate() error {
	return required(
		has("source", d.Source != ""),
		has("record_sealed", len(d.Record) > 0 || d.RecordSealed != ""),
		has("region", d.Region != ""), has("home_region", d.HomeRegion != ""),
		has("action", d.Action != ""),
	)
}

// Key returns the misplaced record's key: RecordSealed opened with open
// (pseudonym.Keyer.Open), else Record. A sealed key that does not open (not
// sealed with this deployment's key, or altered) is ErrInvalid, an error that
// quotes nothing of it.
func (d *ResidencyViolationDetail) Key(open func(string) ([]byte, error)) (record.Key, error) {
	if d.RecordSealed == "" {
		if len(d.Record) == 0 {
			return nil, missing("record_sealed")
		}
		return d.Record, nil
	}
	b, err := open(d.RecordSealed)
	if err != nil {
		return nil, fmt.Errorf("%w: record_sealed: %v", ErrInvalid, err)
	}
	k, err := record.ParseKey(string(b))
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("%w: record_sealed does not hold a record key", ErrInvalid)
	}
	return k, nil
}

// RecordRelocatedDetail is `Record Relocated`: a misplaced record moved to its
// home region (Action relocate) or to quarantine (Action quarantine).
type RecordRelocatedDetail struct {
	Source     string `json:"source"`
	RecordRef  string `json:"record_ref"`
	FromRegion string `json:"from_region"`
	ToRegion   string `json:"to_region"`
	SubjectRef string `json:"subject_ref"`
	Action     string `json:"action"`
	At         Time   `json:"at,omitzero"`
}

// Validate implements Detail.
func (d *RecordRelocatedDetail) Validate() error {
	return required(
		has("source", d.Source != ""), has("record_ref", d.RecordRef != ""),
		has("from_region", d.FromRegion != ""), has("to_region", d.ToRegion != ""),
	)
}

// TransferDecidedDetail is `Transfer Decided`, the answer to a `Transfer
// Requested`.
type TransferDecidedDetail struct {
	TransferID  string `json:"transfer_id"`
	Source      string `json:"source"`
	RecordRef   string `json:"record_ref,omitempty"`
	SubjectRef  string `json:"subject_ref"`
	Category    string `json:"category"`
	FromCountry string `json:"from_country"`
	FromRegion  string `json:"from_region"`
	ToCountry   string `json:"to_country"`
	ToRegion    string `json:"to_region,omitempty"`
	Importer    string `json:"importer"`
	Exporter    string `json:"exporter"`
	Regime      string `json:"regime,omitempty"`
	Restricted  bool   `json:"restricted"`
	Decision    string `json:"decision"`
	Mechanism   string `json:"mechanism"`
	Reference   string `json:"reference"`
	Reason      string `json:"reason"`
	LedgerID    string `json:"ledger_id"`
}

// Validate implements Detail.
func (d *TransferDecidedDetail) Validate() error {
	return required(has("transfer_id", d.TransferID != ""), has("decision", d.Decision != ""))
}

// RetentionExpiredDetail is `Retention Expired`: the record is past its
// retain-until and about to be deleted.
type RetentionExpiredDetail struct {
	Source      string `json:"source"`
	RecordRef   string `json:"record_ref"`
	Region      string `json:"region"`
	SubjectRef  string `json:"subject_ref"`
	Category    string `json:"category"`
	RetainUntil Time   `json:"retain_until"`
}

// Validate implements Detail.
func (d *RetentionExpiredDetail) Validate() error {
	return required(
		has("source", d.Source != ""), has("record_ref", d.RecordRef != ""),
		has("retain_until", !d.RetainUntil.IsZero()),
	)
}

// Deletion reasons of `Record Deleted`.
const (
	ReasonRetention = "retention"
	ReasonErasure   = "erasure"
)

// RecordDeletedDetail is `Record Deleted`, with the ledger receipt's id.
type RecordDeletedDetail struct {
	Source     string `json:"source"`
	RecordRef  string `json:"record_ref"`
	Region     string `json:"region"`
	SubjectRef string `json:"subject_ref"`
	Category   string `json:"category"`
	Reason     string `json:"reason"`
	RequestID  string `json:"request_id,omitempty"`
	Receipt    string `json:"receipt"`
	DeletedAt  Time   `json:"deleted_at,omitzero"`
}

// Validate implements Detail.
func (d *RecordDeletedDetail) Validate() error {
	return required(
		has("source", d.Source != ""), has("record_ref", d.RecordRef != ""),
		has("reason", d.Reason != ""),
	)
}

// ErasureCompletedDetail is `Erasure Completed`: every record of the subject
// known to this region's catalog was deleted, except those held (the
// retention sweep erases them once their hold is released). Deleted and
// Receipts count what this delivery deleted: the records a sweep erases on
// the request (held ones after their release, or those of an erasure that
// stopped part-way) have receipts and Record Deleted events that name the
// request, and a redelivery does not count them again.
type ErasureCompletedDetail struct {
	RequestID   string   `json:"request_id"`
	SubjectRef  string   `json:"subject_ref"`
	Region      string   `json:"region"`
	Deleted     int      `json:"deleted"`
	Held        int      `json:"held"`
	Receipts    []string `json:"receipts,omitempty"`
	CompletedAt Time     `json:"completed_at,omitzero"`
	// Coverage says whether a completed backfill covered every watched
	// source of the region (CoverageComplete), so that the erasure reached
	// the records that predate Residency too, or not (CoveragePartial,
	// with the Uncovered sources, whose older records the catalog does not
	// know); CoverageUnknown when the function could not tell.
	Coverage  string   `json:"coverage,omitempty"`
	Uncovered []string `json:"uncovered,omitempty"`
}

// The coverage an erasure reports.
const (
	CoverageComplete = "complete"
	CoveragePartial  = "partial"
	CoverageUnknown  = "unknown"
)

// Validate implements Detail.
func (d *ErasureCompletedDetail) Validate() error {
	return required(has("request_id", d.RequestID != ""), has("subject_ref", d.SubjectRef != ""))
}
