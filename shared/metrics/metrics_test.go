package metrics

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/metrics/emftest"
)

func lines(t *testing.T, out *bytes.Buffer) []map[string]any { return emftest.Lines(t, out) }

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

func TestEmitWith(t *testing.T) {
	var out bytes.Buffer
	e := &Emitter{W: &out, Function: "router", Region: "eu-central-1"}
	extra := []Dimension{{DimMechanism, "scc"}, {DimDecision, "allowed"}}
	if err := e.EmitWith("crm", extra, Counted("Transfers", 1)); err != nil {
		t.Fatal(err)
	}
	got := lines(t, &out)
	if len(got) != 1 || got[0]["mechanism"] != "scc" || got[0]["decision"] != "allowed" || got[0]["source"] != "crm" {
		t.Fatalf("expect one line with the mechanism, decision and source, got %v", got)
	}
	dims := got[0]["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Dimensions"]
	if b, _ := json.Marshal(dims); string(b) != `[["region","function","source","mechanism","decision"]]` {
		t.Fatalf("expect one dimension set of the five, got %s", b)
	}
	for name, d := range map[string]Dimension{
		"a base dimension's name": {DimRegion, "x"},
		"no name":                 {"", "x"},
		"no value":                {DimMechanism, ""},
		"the metadata's name":     {"_aws", "x"},
	} {
		if err := e.EmitWith("crm", []Dimension{d}, Counted("Transfers", 1)); err == nil {
			t.Errorf("%s: expect an error", name)
		}
	}
}

func TestRollup(t *testing.T) {
	var out bytes.Buffer
	e := &Emitter{W: &out, Function: "router", Region: "us-east-1"}
	if err := e.Emit("users", Counted("Relocations", 1), Metric{Name: "Exposure", Unit: Milliseconds, Values: []float64{1500}, Rollup: true}); err != nil {
		t.Fatal(err)
	}
	got := lines(t, &out)
	ds := got[0]["_aws"].(map[string]any)["CloudWatchMetrics"]
	b, _ := json.Marshal(ds)
	want := `[{"Dimensions":[["region","function","source"]],"Metrics":[{"Name":"Relocations","Unit":"Count"},{"Name":"Exposure","Unit":"Milliseconds"}],"Namespace":"Residency"},` +
		`{"Dimensions":[["region","function"]],"Metrics":[{"Name":"Exposure","Unit":"Milliseconds"}],"Namespace":"Residency"}]`
	if string(b) != want || got[0]["Exposure"] != 1500.0 {
		t.Fatalf("expect the exposure also without source:\n%s\ngot\n%s", want, b)
	}
}
