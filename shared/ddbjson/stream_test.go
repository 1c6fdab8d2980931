package ddbjson

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/residency-dev/residency/shared/record"
)

// viaLambda decodes a stream payload as aws-lambda-go does, then converts
// each record with FromEvent: the reference DecodeStream must agree with.
func viaLambda(payload []byte) ([]StreamRecord, error) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	out := make([]StreamRecord, len(ev.Records))
	for i := range ev.Records {
		out[i] = FromEvent(&ev.Records[i])
	}
	return out, nil
}

// same compares two decodings, old images included.
func same(t testing.TB, want, got []StreamRecord) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("expect %d records, got %d", len(want), len(got))
	}
	for i := range want {
		wo, werr := want[i].OldImage()
		go_, gerr := got[i].OldImage()
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("record %d: expect old image error %v, got %v", i, werr, gerr)
		}
		if d := cmp.Diff(wo, go_); d != "" {
			t.Fatalf("record %d: old image (-want +got):\n%s", i, d)
		}
		if (want[i].Err == nil) != (got[i].Err == nil) {
			t.Fatalf("record %d: expect error %v, got %v", i, want[i].Err, got[i].Err)
		}
	}
	opts := cmp.Options{cmpopts.IgnoreUnexported(StreamRecord{}), cmpopts.IgnoreFields(StreamRecord{}, "Err"), cmpopts.EquateEmpty()}
	if d := cmp.Diff(want, got, opts); d != "" {
		t.Fatalf("(-aws-lambda-go +DecodeStream):\n%s", d)
	}
}

func streamSamples(t testing.TB) map[string][]byte {
	paths, err := filepath.Glob("../../events/samples/dynamodb-*.json")
	if err != nil || len(paths) == 0 {
		t.Fatalf("expect stream samples, got %v (%v)", paths, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestDecodeStreamAgreesWithLambda(t *testing.T) {
	cases := streamSamples(t)
	cases["every type"] = []byte(`{"Records":[{"eventID":"1","eventName":"MODIFY","eventSource":"aws:dynamodb","awsRegion":"eu-west-1",
		"eventSourceARN":"arn:aws:dynamodb:eu-west-1:1:table/t/stream/x","dynamodb":{"ApproximateCreationDateTime":1795166043.25,
		"Keys":{"pk":{"S":"a\"b\\u00e9"},"n":{"N":"12345678901234567890123"}},
		"NewImage":{"s":{"S":"caf\u00e9 \ud83d\ude00"},"n":{"N":"-1.5e3"},"t":{"BOOL":true},"f":{"BOOL":false},"z":{"NULL":true},
			"b":{"B":"aGk="},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["aGk=","aA=="]},
			"l":{"L":[{"S":"x"},{"M":{"y":{"N":"1"}}},{"L":[]}]},"m":{"M":{"q\"":{"S":"r"},"e":{"M":{}}}}},
		"OldImage":{"s":{"S":"old"}},"SequenceNumber":"42","SizeBytes":10,"StreamViewType":"NEW_AND_OLD_IMAGES"},
		"userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"}}]}`)
	cases["case-insensitive names, nulls, unknown members"] = []byte(`{"records":[{"EventName":"REMOVE","EVENTID":null,"extra":[1,{"a":null}],
		"DynamoDB":{"keys":{"pk":{"S":"x"}},"newImage":null,"oldimage":{"pk":{"S":"x"}},"sequenceNumber":"7","ApproximateCreationDateTime":null}}, null]}`)
	cases["no records"] = []byte(`{"Records":[]}`)
	cases["null records"] = []byte(`{"Records":null}`)
	cases["empty"] = []byte(`{}`)
	cases["spaces"] = []byte(" \n{ \"Records\" : [ { \"dynamodb\" : { \"Keys\" : { \"k\" : { \"N\" : \"1\" } } } } ] }\t")
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := viaLambda(payload)
			if err != nil {
				t.Fatalf("expect aws-lambda-go to decode the case, got %v", err)
			}
			got, err := DecodeStream(payload)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			same(t, want, got)
		})
	}
}

// A record with a malformed attribute value fails alone: the others are
// read, and it keeps its sequence number so that it can be reported.
func TestDecodeStreamPoisonRecordAlone(t *testing.T) {
	cases := map[string]string{
		"two types":         `{"S":"a","N":"1"}`,
		"no type":           `{}`,
		"unknown type":      `{"X":"a"}`,
		"N not a string":    `{"N":1}`,
		"S not a string":    `{"S":1}`,
		"N not a number":    `{"N":"1x"}`,
		"BOOL not boolean":  `{"BOOL":"yes"}`,
		"bad base64":        `{"B":"***"}`,
		"SS of numbers":     `{"SS":[1]}`,
		"not an object":     `"plain"`,
		"nested bad in L":   `{"L":[{"S":"a"},{"Q":1}]}`,
		"nested bad in M":   `{"M":{"a":{"BOOL":1}}}`,
		"M not an object":   `{"M":[]}`,
		"L not an array":    `{"L":{}}`,
		"BS not strings":    `{"BS":[true]}`,
		"NS not an array":   `{"NS":"1"}`,
		"SS with an object": `{"SS":[{"S":"a"}]}`,
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			payload := `{"Records":[
				{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"1"}},"NewImage":{"pk":{"S":"1"},"x":` + bad + `,"y":{"S":"after"}},"SequenceNumber":"1"}},
				{"eventName":"INSERT","dynamodb":{"Keys":{"pk":{"S":"2"}},"NewImage":{"pk":{"S":"2"}},"SequenceNumber":"2"}}]}`
			recs, err := DecodeStream([]byte(payload))
			if err != nil {
				t.Fatalf("expect the batch read, got %v", err)
			}
			if len(recs) != 2 {
				t.Fatalf("expect 2 records, got %d", len(recs))
			}
			if recs[0].Err == nil || !strings.Contains(recs[0].Err.Error(), `attribute "x"`) || recs[0].SequenceNumber != "1" {
				t.Fatalf("expect record 1 to fail naming attribute x, with its sequence number, got %+v", recs[0])
			}
			if recs[1].Err != nil || recs[1].NewImage["pk"] != "2" {
				t.Fatalf("expect record 2 read, got %+v", recs[1])
			}
		})
	}
}

func TestDecodeStreamRefusesMalformedPayloads(t *testing.T) {
	cases := map[string]string{
		"not JSON":             `{"Records":[`,
		"trailing data":        `{"Records":[]} x`,
		"records not an array": `{"Records":{}}`,
		"record not an object": `{"Records":[1]}`,
		"name not a string":    `{"Records":[{"eventName":1}]}`,
		"bad escape":           `{"Records":[{"eventName":"\q"}]}`,
		"control character":    "{\"Records\":[{\"eventName\":\"a\x01\"}]}",
		"bad number":           `{"Records":[{"dynamodb":{"ApproximateCreationDateTime":01}}]}`,
		"time not a number":    `{"Records":[{"dynamodb":{"ApproximateCreationDateTime":"1"}}]}`,
		"syntax inside image":  `{"Records":[{"dynamodb":{"NewImage":{"a":{"S":"x",}}}}]}`,
		"top level array":      `[]`,
		"empty":                ``,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeStream([]byte(payload)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("expect ErrMalformed, got %v", err)
			}
		})
	}
}

func TestAppendImage(t *testing.T) {
	cases := map[string]string{
		"item":    `{"pk":"USER#u-1","n":12345678901234567890123,"f":-1.5e3,"t":true,"no":false,"z":null,"l":["a",1,[],{}],"m":{"q\"":"r","e":{}}}`,
		"escapes": `{"a\u00e9":"caf\u00e9\n","b":"\ud83d\ude00"}`,
		"empty":   ` { } `,
	}
	for name, plain := range cases {
		t.Run(name, func(t *testing.T) {
			img, err := AppendImage([]byte("prefix:"), []byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(img), "prefix:") {
				t.Fatalf("expect the image appended, got %s", img)
			}
			var avs map[string]events.DynamoDBAttributeValue
			if err := json.Unmarshal(img[len("prefix:"):], &avs); err != nil {
				t.Fatalf("expect DynamoDB JSON, got %v: %s", err, img)
			}
			got, err := ToItem(avs)
			if err != nil {
				t.Fatal(err)
			}
			want, err := plainItem([]byte(plain))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
				t.Fatalf("(-plain +image):\n%s", d)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"a":}`, `{"a":1} {}`, `"s"`, `{"a":tru}`, ``} {
		if _, err := AppendImage(nil, []byte(bad)); err == nil {
			t.Errorf("expect an error for %q, got nil", bad)
		}
	}
}

// plainItem decodes a plain JSON item as the embedded store does.
func plainItem(b []byte) (record.Item, error) {
	var it record.Item
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&it); err != nil {
		return nil, err
	}
	return it, nil
}

// FuzzDecodeStream: DecodeStream never panics, refuses what is not a
// stream event with ErrMalformed, and agrees with aws-lambda-go on every
// payload aws-lambda-go reads without error.
func FuzzDecodeStream(f *testing.F) {
	for _, b := range streamSamples(f) {
		f.Add(b)
	}
	for _, s := range []string{`{"Records":[{"dynamodb":{"NewImage":{"a":{"L":[{"M":{"b":{"SS":["x"]}}}]}}}}]}`,
		`{"Records":[{"dynamodb":{"NewImage":{"a":{"S":"x","N":"1"}}}}]}`, `{"Records":null}`, `null`, `[]`, `{"Records":[null]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := DecodeStream(payload)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("expect ErrMalformed, got %v", err)
			}
			return
		}
		want, lerr := lambdaDecodes(payload)
		if lerr != nil {
			return // aws-lambda-go fails the batch; DecodeStream may fail a record alone
		}
		for i := range got {
			if got[i].Err != nil {
				return // aws-lambda-go accepts a few values it cannot convert (NULL of anything)
			}
		}
		same(t, want, got)
	})
}

// lambdaDecodes is viaLambda, with aws-lambda-go's panics (a BS of
// non-strings) as errors.
func lambdaDecodes(payload []byte) (recs []StreamRecord, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("aws-lambda-go panicked")
		}
	}()
	if !json.Valid(payload) || strings.TrimSpace(string(payload)) == "null" {
		return nil, errors.New("not an object")
	}
	recs, err = viaLambda(payload)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Err != nil {
			return nil, r.Err
		}
		if _, err := r.OldImage(); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// FuzzAppendImage: AppendImage never panics; on a JSON object it writes a
// DynamoDB image aws-lambda-go reads back to the same item; on anything
// else it fails.
func FuzzAppendImage(f *testing.F) {
	for _, s := range []string{`{"pk":"USER#u-1","n":1.5,"l":[true,null,{"a":"b"}]}`, `{}`, `{"a\u00e9":"\ud83d"}`, `[]`, `{"a":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		img, err := AppendImage(nil, plain)
		want, perr := plainItem(plain)
		var obj map[string]json.RawMessage
		isObject := json.Unmarshal(plain, &obj) == nil && obj != nil
		if err != nil {
			if isObject {
				t.Fatalf("expect a JSON object converted, got %v", err)
			}
			return
		}
		if !isObject || perr != nil {
			t.Fatalf("expect an error for a payload that is not one JSON object: %q", plain)
		}
		var avs map[string]events.DynamoDBAttributeValue
		if err := json.Unmarshal(img, &avs); err != nil {
			t.Fatalf("expect DynamoDB JSON, got %v: %s", err, img)
		}
		got, err := ToItem(avs)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("(-plain +image):\n%s", d)
		}
	})
}

// plainAgrees checks AppendNewImage against DecodeStream on one payload:
// the same records fail, and the plain JSON reads back as the same item.
func plainAgrees(t testing.TB, payload []byte) {
	t.Helper()
	want, err := DecodeStream(payload)
	raw, rerr := DecodeStreamRaw(payload)
	if (err == nil) != (rerr == nil) {
		t.Fatalf("expect the same outcome, got %v and %v", err, rerr)
	}
	if err != nil {
		return
	}
	for i := range want {
		if want[i].Err != nil && !strings.HasPrefix(want[i].Err.Error(), "new image") {
			continue // the record fails for its keys: nothing to compare
		}
		got, ok, err := raw[i].AppendNewImage([]byte("x"))
		if (err != nil) != (want[i].Err != nil) {
			t.Fatalf("record %d: expect error %v, got %v", i, want[i].Err, err)
		}
		if err != nil {
			continue
		}
		if ok != (want[i].NewImage != nil) {
			t.Fatalf("record %d: expect a new image %v, got %v", i, want[i].NewImage != nil, ok)
		}
		if !ok {
			if string(got) != "x" {
				t.Fatalf("record %d: expect nothing appended, got %s", i, got)
			}
			continue
		}
		back, err := plainItem(got[1:])
		if err != nil {
			t.Fatalf("record %d: expect a JSON object, got %v: %s", i, err, got)
		}
		if d := cmp.Diff(want[i].NewImage, back, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("record %d (-DecodeStream +AppendNewImage):\n%s", i, d)
		}
		// Byte for byte what json.Marshal writes (names sorted), when no
		// text needs escaping: AppendNewImage copies strings as they are.
		if !strings.ContainsFunc(string(got), func(r rune) bool { return r < 0x20 || r > 0x7e || strings.ContainsRune(`\<>&`, r) }) {
			m, _ := json.Marshal(want[i].NewImage)
			if string(m) != string(got[1:]) {
				t.Fatalf("record %d: expect %s, got %s", i, m, got[1:])
			}
		}
	}
}

func TestAppendNewImage(t *testing.T) {
	cases := streamSamples(t)
	cases["every type"] = []byte(`{"Records":[{"dynamodb":{"NewImage":{"z":{"S":"caf\u00e9"},"n":{"N":"-1.5e3"},"t":{"BOOL":true},"nul":{"NULL":true},
		"b":{"B":"aGk="},"ss":{"SS":["a","b"]},"ns":{"NS":["1","2"]},"bs":{"BS":["aGk=","aA=="]},
		"l":{"L":[{"S":"x"},{"M":{"y":{"N":"1"},"a":{"L":[]}}}]},"m":{"M":{"q":{"S":"r"},"e":{"M":{}}}},"a":{"S":"first"},"a":{"S":"last"}}}}]}`)
	cases["bad number"] = []byte(`{"Records":[{"dynamodb":{"NewImage":{"n":{"N":" 1"}}}},{"dynamodb":{"NewImage":{"n":{"NS":["1","x"]}}}}]}`)
	cases["bad values"] = []byte(`{"Records":[{"dynamodb":{"NewImage":{"a":{"S":1}}}},{"dynamodb":{"NewImage":{"a":{"M":{"b":{}}}}}},{"dynamodb":{"NewImage":null}}]}`)
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) { plainAgrees(t, payload) })
	}
}

// FuzzAppendNewImage: AppendNewImage agrees with DecodeStream.
func FuzzAppendNewImage(f *testing.F) {
	for _, b := range streamSamples(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"Records":[{"dynamodb":{"NewImage":{"l":{"L":[{"M":{"b":{"SS":["x"]},"a":{"N":"1"}}}]},"a":{"B":"aA"}}}}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) { plainAgrees(t, payload) })
}
