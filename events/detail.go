package events

import "fmt"

// NewDetail returns a pointer to a new zero value of the Go type of the
// detail of detailType, ready to decode into; ok is false for a detail type
// Residency neither consumes nor publishes. Both legal hold detail types use
// LegalHoldDetail.
func NewDetail(detailType string) (d Detail, ok bool) {
	switch detailType {
	case DataWritten:
		return &DataWrittenDetail{}, true
	case RecordIngest:
		return &RecordIngestDetail{}, true
	case TransferRequested:
		return &TransferRequestedDetail{}, true
	case LegalHoldSet, LegalHoldReleased:
		return &LegalHoldDetail{}, true
	case ContractEnded:
		return &ContractEndedDetail{}, true
	case ErasureRequested:
		return &ErasureRequestedDetail{}, true
	case RecordTagged:
		return &RecordTaggedDetail{}, true
	case ResidencyViolation:
		return &ResidencyViolationDetail{}, true
	case RecordRelocated:
		return &RecordRelocatedDetail{}, true
	case TransferDecided:
		return &TransferDecidedDetail{}, true
	case RetentionExpired:
		return &RetentionExpiredDetail{}, true
	case RecordDeleted:
		return &RecordDeletedDetail{}, true
	case ErasureCompleted:
		return &ErasureCompletedDetail{}, true
	}
	return nil, false
}

// DecodeDetail decodes and validates raw as the detail of detailType, as
// Decode does for a type known at compile time; the result is a pointer to
// the detail's Go type (see NewDetail). Errors wrap ErrInvalid, also for an
// unknown detail type.
func DecodeDetail(detailType string, raw []byte) (Detail, error) {
	d, ok := NewDetail(detailType)
	if !ok {
		return nil, fmt.Errorf("%w: unknown detail type %q", ErrInvalid, detailType)
	}
	if err := decodeInto(raw, d, func() Detail { d, _ := NewDetail(detailType); return d }); err != nil {
		return nil, fmt.Errorf("%s: %w", detailType, err)
	}
	return d, nil
}
