package events_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/residency-dev/residency/events"
)

// samples reads every events/samples/*.json, by file name.
func samples(t testing.TB) map[string][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("samples", "*.json"))
	if err != nil {
		t.Fatalf("expect a glob of samples, got %v", err)
	}
	if len(names) == 0 {
		t.Fatal("expect sample files under events/samples, got none")
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatalf("expect to read %s, got %v", n, err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// envelope is the part of an EventBridge event the tests route on.
type envelope struct {
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

// detailSamples returns the detail of every eventbridge-*.json sample whose
// detail type Residency consumes or publishes, by file name.
func detailSamples(t testing.TB) map[string]envelope {
	t.Helper()
	out := map[string]envelope{}
	for name, raw := range samples(t) {
		if !strings.HasPrefix(name, "eventbridge-") {
			continue
		}
		var e envelope
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("%s: expect an EventBridge envelope, got %v", name, err)
		}
		if _, ok := events.NewDetail(e.DetailType); ok {
			out[name] = e
		}
	}
	return out
}

// compiled holds every schema of events.Schemas, compiled once, by file path.
var compiled = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	paths, err := fs.Glob(events.Schemas, "schemas/*.json")
	if err != nil {
		return nil, err
	}
	ids := map[string]string{}
	for _, p := range paths {
		b, err := events.Schemas.ReadFile(p)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		id := "https://residency.dev/" + p
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
		ids[p] = id
	}
	out := map[string]*jsonschema.Schema{}
	for p, id := range ids {
		s, err := c.Compile(id)
		if err != nil {
			return nil, err
		}
		out[p] = s
	}
	return out, nil
})

// schemaOf returns the compiled schema of detailType.
func schemaOf(t testing.TB, detailType string) *jsonschema.Schema {
	t.Helper()
	all, err := compiled()
	if err != nil {
		t.Fatalf("expect the schemas to compile, got %v", err)
	}
	s, ok := all[events.SchemaFile(detailType)]
	if !ok {
		t.Fatalf("expect a schema for %q, got none", detailType)
	}
	return s
}

// validate validates raw JSON against the schema of detailType.
func validate(t testing.TB, detailType string, raw []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("expect JSON, got %v", err)
	}
	return schemaOf(t, detailType).Validate(v)
}

// schemaDoc returns the schema of detailType as plain JSON.
func schemaDoc(t testing.TB, detailType string) map[string]any {
	t.Helper()
	b, err := events.SchemaFor(detailType)
	if err != nil {
		t.Fatalf("expect a schema for %q, got %v", detailType, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("expect the schema of %q to be JSON, got %v", detailType, err)
	}
	return m
}

// objectOf decodes a JSON object, keeping numbers exact.
func objectOf(t testing.TB, raw []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("expect a JSON object, got %v", err)
	}
	return m
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("expect %T to encode, got %v", v, err)
	}
	return b
}

// without returns a copy of m without key.
func without(m map[string]any, key string) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		if k != key {
			c[k] = v
		}
	}
	return c
}

// with returns a copy of m with key set to v.
func with(m map[string]any, key string, v any) map[string]any {
	c := without(m, key)
	c[key] = v
	return c
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// allDetailTypes returns every detail type Residency consumes or publishes.
func allDetailTypes() []string {
	return append(append([]string{}, events.Consumed...), events.Published...)
}
