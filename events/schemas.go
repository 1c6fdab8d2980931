package events

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

// Schemas holds the JSON Schema (draft 2020-12) of the detail of every
// detail type Residency consumes or publishes, and of the ledger's SQS
// message body, as schemas/<kebab-case name>.json: "Residency Violation" is
// schemas/residency-violation.json.
//
//go:embed schemas/*.json
var Schemas embed.FS

// LedgerEntry is the name under which SchemaFor returns the schema of a ledger
// entry, the body of the messages on the ledger's SQS FIFO queue. It is not an
// EventBridge detail type.
const LedgerEntry = "Ledger Entry"

// SchemaFor returns the JSON Schema of the detail of detailType (one of
// Consumed or Published), or of LedgerEntry. The error for a name without a
// schema wraps fs.ErrNotExist.
func SchemaFor(detailType string) ([]byte, error) {
	name := SchemaFile(detailType)
	if name == "" {
		return nil, fmt.Errorf("schema for detail type %q: %w", detailType, fs.ErrNotExist)
	}
	b, err := Schemas.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("schema for detail type %q: %w", detailType, err)
	}
	return b, nil
}

// SchemaFile returns the path inside Schemas of the schema of detailType:
// "schemas/" and the detail type in kebab case, with ".json". It returns ""
// for a name that has no letters or digits.
func SchemaFile(detailType string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(detailType) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "schemas/" + b.String() + ".json"
}
