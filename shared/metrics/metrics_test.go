package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// lines checks every line e wrote against the specification: its JSON
// Schema, and every dimension and metric a directive names is a member of
// the root with a string (dimension) or a number or array of at most 100
// numbers (metric). It returns the lines decoded.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	f, err := os.Open("testdata/emf.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
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

func TestEmit(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	e := &Emitter{W: &out, Function: "router", Region: "us-east-1", Now: func() time.Time { return at }}
	exposure := make([]time.Duration, 250)
	for i := range exposure {
		exposure[i] = time.Duration(i) * time.Millisecond
	}
	if err := e.Emit("users", Counted("Relocations", 250), Durations("ExposureMs", exposure...)); err != nil {
		t.Fatal(err)
	}
	if err := e.Emit("", Age("OldestOverdueAge", 90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got := lines(t, &out)
	if len(got) != 4 {
		t.Fatalf("expect 3 lines for 250 values and 1 more, got %d", len(got))
	}
	first := got[0]
	if first["source"] != "users" || first["region"] != "us-east-1" || first["function"] != "router" || first["Relocations"] != 250.0 {
		t.Fatalf("expect the dimensions and the count, got %v", first)
	}
	if n := len(first["ExposureMs"].([]any)); n != 100 {
		t.Fatalf("expect 100 values in the first line, got %d", n)
	}
	if _, ok := got[1]["Relocations"]; ok || len(got[2]["ExposureMs"].([]any)) != 50 {
		t.Fatalf("expect the count once and the values' rest (50) on the third line, got %v", got[1:3])
	}
	ts := first["_aws"].(map[string]any)["Timestamp"].(float64)
	if int64(ts) != at.UnixMilli() {
		t.Fatalf("expect the timestamp in ms, got %v", ts)
	}
	last := got[3]
	if _, ok := last["source"]; ok || last["OldestOverdueAge"] != 5400.0 {
		t.Fatalf("expect no source dimension and the age in seconds, got %v", last)
	}
	dims := last["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"]
	if b, _ := json.Marshal(dims); string(b) != `[["region","function"]]` {
		t.Fatalf("expect region and function, got %s", b)
	}
}

func TestEmitRefuses(t *testing.T) {
	var out bytes.Buffer
	e := &Emitter{W: &out, Function: "tagger", Region: "eu-central-1"}
	for name, m := range map[string]Metric{
		"a dimension's name": Counted("region", 1),
		"no name":            Counted("", 1),
		"NaN":                {Name: "X", Unit: Count, Values: []float64{0, math.NaN()}},
	} {
		if err := e.Emit("users", m); err == nil {
			t.Errorf("%s: expect an error", name)
		}
	}
	if out.Len() != 0 {
		t.Fatalf("expect nothing written, got %s", out.String())
	}
	var off *Emitter
	if err := off.Emit("users", Counted("X", 1)); err != nil {
		t.Fatal(err)
	}
	if err := (&Emitter{}).Emit("users", Counted("X", 1)); err != nil || strings.Contains(out.String(), "X") {
		t.Fatal("expect metrics off without a writer")
	}
}
