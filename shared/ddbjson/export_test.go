package ddbjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/record"
)

func TestDecodeExportLine(t *testing.T) {
	cases := map[string]struct {
		line string
		want record.Item
		// err is what the error must say; secret what it must not.
		err, secret string
	}{
		"item": {line: `{"Item":{"pk":{"S":"USER#u-1"},"n":{"N":"1.50"},"ok":{"BOOL":true},"tags":{"SS":["a","b"]},"m":{"M":{"x":{"NULL":true}}}}}`,
			want: record.Item{"pk": "USER#u-1", "n": json.Number("1.50"), "ok": true, "tags": []any{"a", "b"}, "m": map[string]any{"x": nil}}},
		"not JSON":          {line: `{"Item":{"pk":{"S":"u-1001@example.com"`, err: ErrExportLine.Error(), secret: "u-1001"},
		"no Item":           {line: `{"Items":{"pk":{"S":"u-1001"}}}`, err: "no Item", secret: "u-1001"},
		"not a value":       {line: `{"Item":{"email":{"Q":"u-1001@example.com"}}}`, err: `attribute "email": not a DynamoDB JSON attribute value`, secret: "u-1001"},
		"malformed nested":  {line: `{"Item":{"m":{"M":{"u-1001@example.com":{"N":["x"]}}}}}`, err: `attribute "m"`, secret: "u-1001"},
		"a value not typed": {line: `{"Item":{"pk":"u-1001"}}`, err: `attribute "pk"`, secret: "u-1001"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeExportLine([]byte(c.line))
			if c.err == "" {
				if err != nil {
					t.Fatalf("expect the item, got %v", err)
				}
				if d := cmp.Diff(c.want, got); d != "" {
					t.Errorf("expect the plain item (-want +got):\n%s", d)
				}
				return
			}
			if !errors.Is(err, ErrExportLine) || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("expect an ErrExportLine saying %q, got %v", c.err, err)
			}
			if strings.Contains(err.Error(), c.secret) {
				t.Errorf("expect no content of the line in the error, got %v", err)
			}
		})
	}
}

// FuzzDecodeExportLine: DecodeExportLine never panics, fails only with
// ErrExportLine, and decodes what the export loader's reading
// (encoding/json into aws-lambda-go's attribute values, then ToItem) reads,
// to the same item.
func FuzzDecodeExportLine(f *testing.F) {
	for _, s := range []string{`{"Item":{"pk":{"S":"a"},"n":{"N":"1"}}}`, `{"Item":{"l":{"L":[{"B":"AAE="},{"NS":["1","2"]}]}}}`,
		`{"Item":{}}`, `{"Item":null}`, `{}`, `[]`, `{"Item":{"a":{"M":{"b":{"BOOL":1}}}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := DecodeExportLine(line)
		var row struct {
			Item map[string]events.DynamoDBAttributeValue `json:"Item"`
		}
		werr := json.Unmarshal(line, &row)
		var want record.Item
		if werr == nil && row.Item != nil {
			want, werr = ToItem(row.Item)
		}
		if err != nil {
			if !errors.Is(err, ErrExportLine) {
				t.Fatalf("expect ErrExportLine, got %v", err)
			}
			if werr == nil && row.Item != nil {
				t.Fatalf("expect the item the loader reads (%v), got %v", want, err)
			}
			return
		}
		if werr != nil {
			return // the loader stops at the first bad value; DecodeExportLine may read a line it would not
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("expect the loader's item (-want +got):\n%s", d)
		}
	})
}
