// Package emftest checks lines of CloudWatch Embedded Metric Format against
// the specification, for the tests of the functions that emit them.
package emftest

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"io"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaJSON is the JSON Schema of an EMF document, from the
// specification (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
//
//go:embed emf.schema.json
var schemaJSON []byte

// Lines checks every line of out (EMF lines, as metrics.Emitter writes
// them) against the specification: its JSON
// Schema, and every dimension and metric a directive names is a member of
// the root with a string (dimension) or a number or array of at most 100
// numbers (metric). It returns the lines decoded.
func Lines(t testing.TB, out io.Reader) []map[string]any {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("emf.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("emf.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(sc.Bytes()))
		if err != nil {
			t.Fatalf("expect one JSON object a line: %v: %s", err, sc.Bytes())
		}
		if err := schema.Validate(inst); err != nil {
			t.Fatalf("expect an EMF document: %v\n%s", err, sc.Bytes())
		}
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		aws := line["_aws"].(map[string]any)
		for _, d := range aws["CloudWatchMetrics"].([]any) {
			d := d.(map[string]any)
			for _, set := range d["Dimensions"].([]any) {
				for _, name := range set.([]any) {
					if v, ok := line[name.(string)].(string); !ok || v == "" {
						t.Fatalf("expect dimension %s as a string member: %s", name, sc.Bytes())
					}
				}
			}
			for _, m := range d["Metrics"].([]any) {
				name := m.(map[string]any)["Name"].(string)
				switch v := line[name].(type) {
				case float64:
				case []any:
					if len(v) == 0 || len(v) > 100 {
						t.Fatalf("expect 1 to 100 values of %s, got %d", name, len(v))
					}
					for _, x := range v {
						if _, ok := x.(float64); !ok {
							t.Fatalf("expect numbers in %s: %s", name, sc.Bytes())
						}
					}
				default:
					t.Fatalf("expect metric %s as a member of numbers: %s", name, sc.Bytes())
				}
			}
		}
		got = append(got, line)
	}
	return got
}
