package ddbjson

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/record"
)

// ErrExportLine marks a line of a table export's data file that is not one
// item in DynamoDB JSON.
var ErrExportLine = errors.New(`not an {"Item": {...}} line in DynamoDB JSON`)

// DecodeExportLine decodes one line of a DynamoDB table export's data file
// (ExportTableToPointInTime, format DYNAMODB_JSON: {"Item": {...}}, the
// attribute values as aws-lambda-go decodes a stream image) into a plain
// item, as ToItem converts an image. Its errors wrap ErrExportLine and name
// at most a top-level attribute, never a value nor a nested map key: the
// line may hold personal data, and the error reaches logs and results.
func DecodeExportLine(line []byte) (record.Item, error) {
	var row struct {
		Item map[string]json.RawMessage `json:"Item"`
	}
	if err := json.Unmarshal(line, &row); err != nil {
		return nil, ErrExportLine
	}
	if row.Item == nil {
		return nil, fmt.Errorf("%w: no Item", ErrExportLine)
	}
	it := make(record.Item, len(row.Item))
	for name, raw := range row.Item {
		var av events.DynamoDBAttributeValue
		if err := av.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%w: attribute %q: not a DynamoDB JSON attribute value", ErrExportLine, name)
		}
		v, err := toValue(av)
		if err != nil {
			return nil, fmt.Errorf("%w: attribute %q: malformed value", ErrExportLine, name)
		}
		it[name] = v
	}
	return it, nil
}
