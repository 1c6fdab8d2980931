package events_test

import (
	"errors"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/record"
)

// fullDetails returns a valid value of the Go type of every detail type with
// every field set (TestFullDetailsAreFull keeps it so).
func fullDetails() map[string]events.Detail {
	key := record.Key{"pk": "USER#u-1002", "sk": "PROFILE"}
	at := events.At(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	ref := "sub_0e797da432b115bd0eb6ade1f4938c45"
	recRef := "rec_5b2d7c0a9e41f3386d1c02b7e8a4f915"
	hold := func() *events.LegalHoldDetail {
		return &events.LegalHoldDetail{HoldID: "hold-2026-031", SubjectID: "u-0043", Source: "users", Record: key, Reason: "litigation hold"}
	}
	return map[string]events.Detail{
		events.RecordIngest: &events.RecordIngestDetail{Source: "users", Item: record.Item{"pk": "USER#u-1010", "sk": "PROFILE", "user_id": "u-1010", "country": "IT"}},
		events.DataWritten: &events.DataWrittenDetail{Source: "warehouse", Record: record.Key{"event_id": "evt-889"}, SubjectID: "u-3001",
			SubjectCountry: "CH", Category: "events", Region: "us-east-1", CreatedAt: at, LastActivity: at, Contract: "acct-77"},
		events.TransferRequested: &events.TransferRequestedDetail{TransferID: "tr-5001", Source: "users", Record: key, SubjectID: "u-1002",
			SubjectCountry: "DE", Category: "events", ToCountry: "US", ToRegion: "us-east-1", Exporter: "Acme Analytics SAS", Importer: "Acme Inc", Derogation: "explicit_consent"},
		events.LegalHoldSet:      hold(),
		events.LegalHoldReleased: hold(),
		events.ContractEnded:     &events.ContractEndedDetail{Contract: "acct-77", EndedAt: at},
		events.ErasureRequested:  &events.ErasureRequestedDetail{RequestID: "dsr-2026-1142", SubjectID: "u-1004", ReceivedAt: at},
		events.RecordTagged: &events.RecordTaggedDetail{Source: "users", RecordRef: recRef, Region: "eu-central-1", SubjectRef: ref, Category: "profile",
			Tag: record.Tag{OriginRegion: "eu-central-1", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Status: record.StatusCompliant,
				PolicyVersion: "2026-11-01", TaggedAt: "2026-11-20T10:00:01Z", RetainUntil: "2028-12-20T10:00:00Z"}},
		events.ResidencyViolation: &events.ResidencyViolationDetail{Source: "users", RecordRef: recRef, RecordSealed: "c2VhbGVkLWJ5LXRoZS10YWdnZXI", Record: key, Region: "us-east-1", SubjectRef: ref,
			SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: []string{"eu-central-1", "eu-west-1"},
			Action: "relocate", Category: "profile", PolicyVersion: "2026-11-01", DetectedAt: at, WrittenAt: at},
		events.RecordRelocated: &events.RecordRelocatedDetail{Source: "users", RecordRef: recRef, FromRegion: "us-east-1", ToRegion: "eu-central-1",
			SubjectRef: ref, Action: "relocate", At: at},
		events.TransferDecided: &events.TransferDecidedDetail{TransferID: "tr-5001", Source: "users", RecordRef: recRef, SubjectRef: ref, Category: "events",
			FromCountry: "DE", FromRegion: "eu-central-1", ToCountry: "US", ToRegion: "us-east-1", Importer: "Acme Inc", Exporter: "Acme Analytics SAS", Regime: "EU GDPR", Restricted: true,
			Decision: "allowed", Mechanism: "scc", Reference: "scc-acme-inc-2024", Reason: "SCC Module 2", LedgerID: "tr-5001"},
		events.RetentionExpired: &events.RetentionExpiredDetail{Source: "users", RecordRef: recRef, Region: "us-east-1", SubjectRef: ref,
			Category: "profile", RetainUntil: at},
		events.RecordDeleted: &events.RecordDeletedDetail{Source: "users", RecordRef: recRef, Region: "eu-central-1", SubjectRef: ref, Category: "profile",
			Reason: events.ReasonErasure, RequestID: "dsr-2026-1142", Receipt: "del-0001", DeletedAt: at},
		events.ErasureCompleted: &events.ErasureCompletedDetail{RequestID: "dsr-2026-1142", SubjectRef: ref, Region: "eu-central-1",
			Deleted: 2, Held: 1, Receipts: []string{"del-0001", "del-0002"}, CompletedAt: at,
			Coverage: events.CoveragePartial, Uncovered: []string{"acme-exports"}},
	}
}

// jsonName returns the JSON member name of a struct field, or "" for one
// encoding/json skips.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

var (
	timeType = reflect.TypeFor[events.Time]()
	tagType  = reflect.TypeFor[record.Tag]()
)

func TestFullDetailsAreFull(t *testing.T) {
	full := fullDetails()
	for _, dt := range allDetailTypes() {
		t.Run(dt, func(t *testing.T) {
			d, ok := full[dt]
			if !ok {
				t.Fatalf("expect a full value of %q, got none", dt)
			}
			want, _ := events.NewDetail(dt)
			if reflect.TypeOf(d) != reflect.TypeOf(want) {
				t.Fatalf("expect %T, got %T", want, d)
			}
			v := reflect.ValueOf(d).Elem()
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					t.Errorf("expect every field set, got %s zero", v.Type().Field(i).Name)
				}
			}
			if err := d.Validate(); err != nil {
				t.Errorf("expect a valid value, got %v", err)
			}
		})
	}
}

func TestSchemaFiles(t *testing.T) {
	all, err := compiled()
	if err != nil {
		t.Fatalf("expect every schema to compile, got %v", err)
	}
	want := []string{events.SchemaFile(events.LedgerEntry)}
	for _, dt := range allDetailTypes() {
		want = append(want, events.SchemaFile(dt))
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, sortedKeys(all)); diff != "" {
		t.Errorf("expect one schema per detail type and the ledger entry, got diff (-want +got):\n%s", diff)
	}
	for _, name := range append(allDetailTypes(), events.LedgerEntry) {
		t.Run(name, func(t *testing.T) {
			doc := schemaDoc(t, name)
			file := strings.TrimPrefix(events.SchemaFile(name), "schemas/")
			head := map[string]any{
				"$schema":              "https://json-schema.org/draft/2020-12/schema",
				"$id":                  "https://residency.dev/schemas/" + file,
				"title":                name,
				"type":                 "object",
				"additionalProperties": true,
			}
			for k, v := range head {
				if !cmp.Equal(v, doc[k]) {
					t.Errorf("expect %s %v, got %v", k, v, doc[k])
				}
			}
			if s, _ := doc["description"].(string); len(s) < 40 {
				t.Errorf("expect a description, got %q", s)
			}
		})
	}
}

func TestSchemaFor(t *testing.T) {
	cases := map[string]struct {
		name, file string
		err        error
	}{
		"consumed":       {events.DataWritten, "schemas/data-written.json", nil},
		"published":      {events.ResidencyViolation, "schemas/residency-violation.json", nil},
		"ledger entry":   {events.LedgerEntry, "schemas/ledger-entry.json", nil},
		"loose spelling": {"  record   INGEST ", "schemas/record-ingest.json", nil},
		"unknown":        {"Record Exploded", "schemas/record-exploded.json", fs.ErrNotExist},
		"empty":          {"", "", fs.ErrNotExist},
		"punctuation":    {"../..", "", fs.ErrNotExist},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := events.SchemaFile(c.name); got != c.file {
				t.Errorf("expect file %q, got %q", c.file, got)
			}
			b, err := events.SchemaFor(c.name)
			if !errors.Is(err, c.err) {
				t.Fatalf("expect error %v, got %v", c.err, err)
			}
			if err == nil && len(b) == 0 {
				t.Error("expect a schema, got none")
			}
		})
	}
}

// checkProperties compares the JSON names of the fields of typ with the
// properties of a schema object, and their JSON types, recursing into
// record.Tag.
func checkProperties(t *testing.T, typ reflect.Type, schema map[string]any, consumed bool, at string) {
	t.Helper()
	props, _ := schema["properties"].(map[string]any)
	var fields []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name := jsonName(f)
		if name == "" {
			continue
		}
		fields = append(fields, name)
		p, ok := props[name].(map[string]any)
		if !ok {
			continue // reported by the diff below
		}
		if d, _ := p["description"].(string); d == "" {
			t.Errorf("%s%s: expect a description, got none", at, name)
		}
		var want map[string]any
		switch {
		case f.Type == timeType && consumed:
			want = map[string]any{"oneOf": []any{
				map[string]any{"type": "string", "format": "date-time"},
				map[string]any{"type": "number", "minimum": 0.0, "maximum": 253402300799.0},
			}}
		case f.Type == timeType, f.Type == tagType && name == "tagged_at", name == "retain_until" && f.Type.Kind() == reflect.String:
			want = map[string]any{"type": "string", "format": "date-time"}
		case f.Type.Kind() == reflect.String:
			want = map[string]any{"type": "string"}
		case f.Type.Kind() == reflect.Map, f.Type.Kind() == reflect.Struct:
			want = map[string]any{"type": "object"}
		case f.Type.Kind() == reflect.Slice:
			want = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		case f.Type.Kind() == reflect.Int:
			want = map[string]any{"type": "integer", "minimum": 0.0}
		case f.Type.Kind() == reflect.Bool:
			want = map[string]any{"type": "boolean"}
		default:
			t.Fatalf("%s%s: expect a known Go type, got %s", at, name, f.Type)
		}
		for k, v := range want {
			if !cmp.Equal(v, p[k]) {
				t.Errorf("%s%s: expect %s %v for Go type %s, got %v", at, name, k, v, f.Type, p[k])
			}
		}
		if f.Type == tagType {
			checkProperties(t, tagType, p, consumed, name+".")
		}
	}
	slices.Sort(fields)
	if diff := cmp.Diff(fields, sortedKeys(props)); diff != "" {
		t.Errorf("%sexpect the schema's properties to be the Go type's JSON fields, got diff (-Go +schema):\n%s", at, diff)
	}
}

func TestSchemaPropertiesMatchGoTypes(t *testing.T) {
	for _, dt := range allDetailTypes() {
		t.Run(dt, func(t *testing.T) {
			d, _ := events.NewDetail(dt)
			checkProperties(t, reflect.TypeOf(d).Elem(), schemaDoc(t, dt), slices.Contains(events.Consumed, dt), "")
		})
	}
}

// blank returns the emptiest JSON value of a field's kind: what Validate
// takes for missing.
func blank(v any) any {
	switch v.(type) {
	case string:
		return ""
	case map[string]any:
		return map[string]any{}
	}
	return nil
}

func TestSchemaRequiredMatchesValidate(t *testing.T) {
	full := fullDetails()
	for _, dt := range allDetailTypes() {
		t.Run(dt, func(t *testing.T) {
			raw := mustJSON(t, full[dt])
			if err := validate(t, dt, raw); err != nil {
				t.Fatalf("expect the full value to match the schema, got %v", err)
			}
			obj := objectOf(t, raw)
			var required []string
			for _, field := range sortedKeys(obj) {
				t.Run("without "+field, func(t *testing.T) {
					b := mustJSON(t, without(obj, field))
					_, decErr := events.DecodeDetail(dt, b)
					schemaErr := validate(t, dt, b)
					if (decErr == nil) != (schemaErr == nil) {
						t.Fatalf("expect Validate and the schema to agree, got Decode error %v and schema error %v", decErr, schemaErr)
					}
					if decErr == nil {
						return
					}
					required = append(required, field)
					if !errors.Is(decErr, events.ErrInvalid) || !strings.Contains(decErr.Error(), `"`+field+`"`) {
						t.Errorf("expect an ErrInvalid naming %q, got %v", field, decErr)
					}
				})
			}
			var want []string
			for _, r := range schemaDoc(t, dt)["required"].([]any) {
				want = append(want, r.(string))
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, required); diff != "" {
				t.Errorf("expect the schema's required list to be what Validate requires, got diff (-schema +Validate):\n%s", diff)
			}
			for _, field := range want {
				t.Run("blank "+field, func(t *testing.T) {
					b := mustJSON(t, with(obj, field, blank(obj[field])))
					if _, err := events.DecodeDetail(dt, b); err == nil || !strings.Contains(err.Error(), field) {
						t.Errorf("expect an error naming %q, got %v", field, err)
					}
					if err := validate(t, dt, b); err == nil {
						t.Errorf("expect the schema to reject a blank %s, got no error", field)
					}
				})
			}
		})
	}
}

func TestSchemaSampleFieldRemoval(t *testing.T) {
	for name, e := range detailSamples(t) {
		t.Run(name, func(t *testing.T) {
			obj := objectOf(t, e.Detail)
			for _, field := range sortedKeys(obj) {
				t.Run("without "+field, func(t *testing.T) {
					b := mustJSON(t, without(obj, field))
					_, decErr := events.DecodeDetail(e.DetailType, b)
					schemaErr := validate(t, e.DetailType, b)
					if (decErr == nil) != (schemaErr == nil) {
						t.Fatalf("expect Validate and the schema to agree, got Decode error %v and schema error %v", decErr, schemaErr)
					}
					if decErr != nil && !strings.Contains(decErr.Error(), field) {
						t.Errorf("expect the error to name %q, got %v", field, decErr)
					}
				})
			}
		})
	}
}

// TestSchemaAcceptsWhatGoWrites zeroes each optional field of a full value
// in turn, and then all of them: whenever the value still validates, its
// encoding must match the schema.
func TestSchemaAcceptsWhatGoWrites(t *testing.T) {
	for dt, d := range fullDetails() {
		t.Run(dt, func(t *testing.T) {
			required := map[string]bool{}
			for _, r := range schemaDoc(t, dt)["required"].([]any) {
				required[r.(string)] = true
			}
			typ := reflect.TypeOf(d).Elem()
			var optional []int
			for i := range typ.NumField() {
				if n := jsonName(typ.Field(i)); n != "" && !required[n] {
					optional = append(optional, i)
				}
			}
			try := func(name string, fields ...int) {
				t.Run(name, func(t *testing.T) {
					v := reflect.New(typ)
					v.Elem().Set(reflect.ValueOf(d).Elem())
					for _, i := range fields {
						f := v.Elem().Field(i)
						f.Set(reflect.Zero(f.Type()))
					}
					zeroed := v.Interface().(events.Detail)
					valid := zeroed.Validate() == nil
					err := validate(t, dt, mustJSON(t, zeroed))
					if valid != (err == nil) {
						t.Errorf("expect the schema to agree with Validate (%v), got %v", valid, err)
					}
				})
			}
			for _, i := range optional {
				try("zero "+jsonName(typ.Field(i)), i)
			}
			try("zero every optional field", optional...)
		})
	}
}
