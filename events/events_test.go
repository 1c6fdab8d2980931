package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
)

func TestValidate(t *testing.T) {
	key := record.Key{"pk": "USER#u-1002", "sk": "PROFILE"}
	at := events.At(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	dataWritten := func(edit func(*events.DataWrittenDetail)) *events.DataWrittenDetail {
		d := &events.DataWrittenDetail{Source: "warehouse", Record: record.Key{"event_id": "evt-889"}, SubjectID: "u-3001",
			Category: "events", Region: "us-east-1", CreatedAt: at}
		edit(d)
		return d
	}
	transfer := func(edit func(*events.TransferRequestedDetail)) *events.TransferRequestedDetail {
		d := &events.TransferRequestedDetail{TransferID: "tr-5001", Source: "users", Record: key, SubjectID: "u-1002",
			Category: "events", ToCountry: "US", Importer: "Acme Inc"}
		edit(d)
		return d
	}
	cases := map[string]struct {
		detail events.Detail
		field  string // named in the error; "" for a valid detail
	}{
		"record ingest ok":             {&events.RecordIngestDetail{Source: "users", Item: record.Item{"pk": "USER#u-1010"}}, ""},
		"record ingest without source": {&events.RecordIngestDetail{Item: record.Item{"pk": "USER#u-1010"}}, "source"},
		"record ingest without item":   {&events.RecordIngestDetail{Source: "users"}, "item"},
		"record ingest empty item":     {&events.RecordIngestDetail{Source: "users", Item: record.Item{}}, "item"},

		"data written ok":                 {dataWritten(func(*events.DataWrittenDetail) {}), ""},
		"data written without source":     {dataWritten(func(d *events.DataWrittenDetail) { d.Source = "" }), "source"},
		"data written without record":     {dataWritten(func(d *events.DataWrittenDetail) { d.Record = nil }), "record"},
		"data written without subject_id": {dataWritten(func(d *events.DataWrittenDetail) { d.SubjectID = "" }), "subject_id"},
		"data written without category":   {dataWritten(func(d *events.DataWrittenDetail) { d.Category = "" }), "category"},
		"data written without region":     {dataWritten(func(d *events.DataWrittenDetail) { d.Region = "" }), "region"},
		"data written without created_at": {dataWritten(func(d *events.DataWrittenDetail) { d.CreatedAt = events.Time{} }), "created_at"},

		"transfer requested ok":                  {transfer(func(*events.TransferRequestedDetail) {}), ""},
		"transfer requested without transfer_id": {transfer(func(d *events.TransferRequestedDetail) { d.TransferID = "" }), "transfer_id"},
		"transfer requested without source":      {transfer(func(d *events.TransferRequestedDetail) { d.Source = "" }), "source"},
		"transfer requested without record":      {transfer(func(d *events.TransferRequestedDetail) { d.Record = record.Key{} }), "record"},
		"transfer requested without subject_id":  {transfer(func(d *events.TransferRequestedDetail) { d.SubjectID = "" }), "subject_id"},
		"transfer requested without category":    {transfer(func(d *events.TransferRequestedDetail) { d.Category = "" }), "category"},
		"transfer requested without to_country":  {transfer(func(d *events.TransferRequestedDetail) { d.ToCountry = "" }), "to_country"},
		"transfer requested without importer":    {transfer(func(d *events.TransferRequestedDetail) { d.Importer = "" }), "importer"},

		"legal hold on a subject":         {&events.LegalHoldDetail{HoldID: "hold-1", SubjectID: "u-0043", Reason: "case"}, ""},
		"legal hold on a record":          {&events.LegalHoldDetail{HoldID: "hold-1", Source: "users", Record: key, Reason: "case"}, ""},
		"legal hold without hold_id":      {&events.LegalHoldDetail{SubjectID: "u-0043", Reason: "case"}, "hold_id"},
		"legal hold without reason":       {&events.LegalHoldDetail{HoldID: "hold-1", SubjectID: "u-0043"}, "reason"},
		"legal hold on nothing":           {&events.LegalHoldDetail{HoldID: "hold-1", Reason: "case"}, "subject_id"},
		"legal hold on a record, no src":  {&events.LegalHoldDetail{HoldID: "hold-1", Record: key, Reason: "case"}, "source"},
		"legal hold on a source, no key":  {&events.LegalHoldDetail{HoldID: "hold-1", Source: "users", Reason: "case"}, "record"},
		"contract ended ok":               {&events.ContractEndedDetail{Contract: "acct-77", EndedAt: at}, ""},
		"contract ended without contract": {&events.ContractEndedDetail{EndedAt: at}, "contract"},
		"contract ended without ended_at": {&events.ContractEndedDetail{Contract: "acct-77"}, "ended_at"},

		"erasure requested ok":                  {&events.ErasureRequestedDetail{RequestID: "dsr-1", SubjectID: "u-1004", ReceivedAt: at}, ""},
		"erasure requested without request_id":  {&events.ErasureRequestedDetail{SubjectID: "u-1004", ReceivedAt: at}, "request_id"},
		"erasure requested without subject_id":  {&events.ErasureRequestedDetail{RequestID: "dsr-1", ReceivedAt: at}, "subject_id"},
		"erasure requested without received_at": {&events.ErasureRequestedDetail{RequestID: "dsr-1", SubjectID: "u-1004"}, "received_at"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.detail.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				return
			}
			if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("expect an ErrInvalid naming %q, got %v", c.field, err)
			}
		})
	}
}

func TestTimeUnmarshalJSON(t *testing.T) {
	cases := map[string]struct {
		in   string
		want time.Time
		err  bool
	}{
		"rfc 3339":                 {in: `"2026-11-20T09:14:03Z"`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"rfc 3339 offset":          {in: `"2026-11-20T10:14:03+01:00"`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"rfc 3339 fraction":        {in: `"2026-11-20T09:14:03.25Z"`, want: time.Date(2026, 11, 20, 9, 14, 3, 250e6, time.UTC)},
		"epoch seconds":            {in: `1795166043`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"epoch seconds float":      {in: `1795166043.5`, want: time.Date(2026, 11, 20, 9, 14, 3, 5e8, time.UTC)},
		"epoch seconds exponent":   {in: `1.795166043e9`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"epoch zero":               {in: `0`, want: time.Unix(0, 0).UTC()},
		"numeric string":           {in: `"1795166043"`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"escaped string":           {in: `"2026-11-20T09:14:03\u005a"`, want: time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)},
		"escaped garbage":          {in: `"2026-11-20\t09:14:03Z"`, err: true},
		"last second":              {in: `"9999-12-31T23:59:59Z"`, want: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		"null":                     {in: `null`, want: time.Time{}},
		"garbage":                  {in: `"next tuesday"`, err: true},
		"empty string":             {in: `""`, err: true},
		"date only":                {in: `"2026-11-20"`, err: true},
		"milliseconds":             {in: `1795166043000`, err: true},
		"milliseconds string":      {in: `"1795166043000"`, err: true},
		"negative epoch":           {in: `-1`, err: true},
		"before 1970":              {in: `"1969-12-31T23:59:59Z"`, err: true},
		"year 10000 in UTC":        {in: `"9999-12-31T23:00:00-05:00"`, err: true},
		"boolean":                  {in: `true`, err: true},
		"object":                   {in: `{"seconds":1}`, err: true},
		"array":                    {in: `[1795166043]`, err: true},
		"huge number":              {in: `1e400`, err: true},
		"not a number in a string": {in: `"NaN"`, err: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var got events.Time
			err := json.Unmarshal([]byte(c.in), &got)
			if c.err {
				if err == nil {
					t.Fatalf("expect an error, got %s", got.Time)
				}
				if !errors.Is(err, record.ErrInvalid) {
					t.Errorf("expect an error wrapping record.ErrInvalid, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect %s, got error %v", c.want, err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("expect %s, got %s", c.want, got.Time)
			}
		})
	}
}

func TestTimeMarshalJSON(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	cases := map[string]struct {
		in   events.Time
		want string
	}{
		"utc":      {events.At(time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)), `"2026-11-20T09:14:03Z"`},
		"offset":   {events.Time{Time: time.Date(2026, 11, 20, 10, 14, 3, 0, paris)}, `"2026-11-20T09:14:03Z"`},
		"fraction": {events.At(time.Date(2026, 11, 20, 9, 14, 3, 999e6, time.UTC)), `"2026-11-20T09:14:03Z"`},
		"zero":     {events.Time{}, `null`},
		"epoch":    {events.At(time.Unix(0, 0)), `"1970-01-01T00:00:00Z"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(c.in)
			if err != nil {
				t.Fatalf("expect %s, got error %v", c.want, err)
			}
			if string(b) != c.want {
				t.Fatalf("expect %s, got %s", c.want, b)
			}
			var back events.Time
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("expect %s to decode, got %v", b, err)
			}
			if want := c.in.Truncate(time.Second); !back.Equal(want) {
				t.Errorf("expect the round trip to give %s, got %s", want, back.Time)
			}
		})
	}
}

func TestTimeOmittedWhenZero(t *testing.T) {
	d := events.DataWrittenDetail{Source: "warehouse", Record: record.Key{"id": "1"}, SubjectID: "u-1", Category: "events",
		Region: "us-east-1", CreatedAt: events.At(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC))}
	b := mustJSON(t, d)
	if strings.Contains(string(b), "last_activity") || strings.Contains(string(b), "null") {
		t.Errorf("expect no last_activity and no null, got %s", b)
	}
}

func TestDecode(t *testing.T) {
	cases := map[string]struct {
		in    string
		field string // named in the error
		err   bool
	}{
		"ok":                 {in: `{"contract":"acct-77","ended_at":"2026-11-21T00:00:00Z"}`},
		"epoch seconds":      {in: `{"contract":"acct-77","ended_at":1795219200}`},
		"unknown fields":     {in: `{"contract":"acct-77","ended_at":1795219200,"tenant":{"id":7},"notes":[1,2]}`},
		"surrounding space":  {in: " \n{\"contract\":\"acct-77\",\"ended_at\":1795219200}\n\t"},
		"empty":              {in: ``, err: true},
		"blank":              {in: " \n ", err: true},
		"null":               {in: `null`, err: true, field: "contract"},
		"array":              {in: `[]`, err: true},
		"string":             {in: `"acct-77"`, err: true},
		"truncated":          {in: `{"contract":"acct-77","ended_at":`, err: true},
		"trailing data":      {in: `{"contract":"acct-77","ended_at":1795219200} {}`, err: true},
		"trailing garbage":   {in: `{"contract":"acct-77","ended_at":1795219200}x`, err: true},
		"missing field":      {in: `{"ended_at":1795219200}`, err: true, field: "contract"},
		"null time":          {in: `{"contract":"acct-77","ended_at":null}`, err: true, field: "ended_at"},
		"bad time":           {in: `{"contract":"acct-77","ended_at":"yesterday"}`, err: true, field: "ended_at"},
		"milliseconds":       {in: `{"contract":"acct-77","ended_at":1795219200000}`, err: true, field: "ended_at"},
		"wrong type":         {in: `{"contract":77,"ended_at":1795219200}`, err: true, field: "contract"},
		"wrong type in time": {in: `{"contract":"acct-77","ended_at":{}}`, err: true, field: "ended_at"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := events.Decode[events.ContractEndedDetail]([]byte(c.in))
			if !c.err {
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				want := events.ContractEndedDetail{Contract: "acct-77", EndedAt: events.At(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("expect the detail, got diff (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("expect an ErrInvalid, got %v", err)
			}
			if c.field != "" && !strings.Contains(err.Error(), `"`+c.field+`"`) {
				t.Errorf("expect the error to name %q, got %v", c.field, err)
			}
		})
	}
}

func TestDecodeKeepsNumbersExact(t *testing.T) {
	raw := `{"source":"users","item":{"pk":"USER#u-1","sk":12345678901234567890,"score":0.1,"nested":{"n":7}}}`
	got, err := events.Decode[events.RecordIngestDetail]([]byte(raw))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	want := record.Item{"pk": "USER#u-1", "sk": json.Number("12345678901234567890"), "score": json.Number("0.1"),
		"nested": map[string]any{"n": json.Number("7")}}
	if diff := cmp.Diff(want, got.Item); diff != "" {
		t.Errorf("expect exact numbers, got diff (-want +got):\n%s", diff)
	}
	if b := mustJSON(t, got); !strings.Contains(string(b), `"sk":12345678901234567890`) {
		t.Errorf("expect the number to encode unchanged, got %s", b)
	}
}

func TestNewDetail(t *testing.T) {
	seen := map[string]string{}
	for _, dt := range allDetailTypes() {
		t.Run(dt, func(t *testing.T) {
			d, ok := events.NewDetail(dt)
			if !ok || d == nil {
				t.Fatalf("expect a detail value, got %v %v", d, ok)
			}
			if err := d.Validate(); err == nil {
				t.Error("expect the zero value to be invalid, got no error")
			}
			seen[dt] = fmt.Sprintf("%T", d)
		})
	}
	for _, dt := range []string{"", "record tagged", "Scheduled Event"} {
		if d, ok := events.NewDetail(dt); ok || d != nil {
			t.Errorf("%q: expect no detail, got %T", dt, d)
		}
	}
	if seen[events.LegalHoldSet] != seen[events.LegalHoldReleased] {
		t.Errorf("expect both legal hold types to share a Go type, got %s and %s", seen[events.LegalHoldSet], seen[events.LegalHoldReleased])
	}
	distinct := map[string]bool{}
	for _, n := range seen {
		distinct[n] = true
	}
	if got, want := len(distinct), len(allDetailTypes())-1; got != want {
		t.Errorf("expect %d Go types, got %d", want, got)
	}
}

func TestDecodeDetail(t *testing.T) {
	cases := map[string]struct {
		detailType, raw string
		want            events.Detail
		err             string // in the error; "" for none
	}{
		"consumed": {events.ContractEnded, `{"contract":"acct-77","ended_at":1795219200}`,
			&events.ContractEndedDetail{Contract: "acct-77", EndedAt: events.At(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))}, ""},
		"legal hold released": {events.LegalHoldReleased, `{"hold_id":"h","source":"users","record":{"pk":"USER#u-0042","sk":"PROFILE"},"reason":"closed"}`,
			&events.LegalHoldDetail{HoldID: "h", Source: "users", Record: record.Key{"pk": "USER#u-0042", "sk": "PROFILE"}, Reason: "closed"}, ""},
		"invalid":      {events.ContractEnded, `{"ended_at":1795219200}`, nil, `Contract Ended: invalid event: missing required field "contract"`},
		"unknown type": {"Record Exploded", `{}`, nil, `unknown detail type "Record Exploded"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := events.DecodeDetail(c.detailType, []byte(c.raw))
			if c.err != "" {
				if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("expect an ErrInvalid with %q, got %v", c.err, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("expect the detail, got diff (-want +got):\n%s", diff)
			}
		})
	}
}

// The tagger sends a violation's record key sealed; the router opens it with
// the deployment's key, and nothing else can.
func TestViolationKeyIsSealed(t *testing.T) {
	k1, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	k2, _ := pseudonym.New(bytes.Repeat([]byte{2}, 32))
	key := record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}
	d := events.ResidencyViolationDetail{Source: "users", RecordSealed: k1.Seal([]byte(key.String()))}
	if strings.Contains(d.RecordSealed, "u-1001") {
		t.Fatalf("expect a sealed key, got %q", d.RecordSealed)
	}
	got, err := d.Key(k1.Open)
	if err != nil || got.String() != key.String() {
		t.Fatalf("expect the key back with the sealing key, got %v (%v)", got, err)
	}
	if _, err := d.Key(k2.Open); !errors.Is(err, events.ErrInvalid) || !errors.Is(err, record.ErrPermanent) {
		t.Errorf("expect another key to fail as a permanent invalid event, got %v", err)
	}
	d.RecordSealed = d.RecordSealed[:len(d.RecordSealed)-2] + "AA"
	if _, err := d.Key(k1.Open); !errors.Is(err, events.ErrInvalid) || strings.Contains(err.Error(), d.RecordSealed) {
		t.Errorf("expect an altered seal to fail without quoting it, got %v", err)
	}
	clear := events.ResidencyViolationDetail{Source: "users", Record: key}
	if got, err := clear.Key(k1.Open); err != nil || got.String() != key.String() {
		t.Errorf("expect an operator's clear key to be taken, got %v (%v)", got, err)
	}
	raw := []byte(`{"source":"users","region":"us-east-1","home_region":"eu-central-1","action":"relocate"}`)
	if _, err := events.DecodeDetail(events.ResidencyViolation, raw); err == nil || !strings.Contains(err.Error(), "record_sealed") {
		t.Errorf("expect a violation without a key to fail naming record_sealed, got %v", err)
	}
}
