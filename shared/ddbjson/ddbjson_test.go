package ddbjson

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/record"
)

func TestRoundTrip(t *testing.T) {
	item := record.Item{
		"pk": "USER#u-1", "n": json.Number("12345678901234567890"), "ok": true, "none": nil,
		"list": []any{"a", json.Number("1")}, "map": map[string]any{"x": "y", "z": []any{}},
	}
	img, err := FromItem(item)
	if err != nil {
		t.Fatal(err)
	}
	// Through the wire format, as a stream record would carry it.
	b, err := json.Marshal(img)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]events.DynamoDBAttributeValue
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := ToItem(back)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(item, got); d != "" {
		t.Fatalf("expect the same item back (-want +got):\n%s", d)
	}
}

func TestSetsAndBinary(t *testing.T) {
	var img map[string]events.DynamoDBAttributeValue
	err := json.Unmarshal([]byte(`{"ss":{"SS":["a","b"]},"ns":{"NS":["1","2.5"]},"b":{"B":"aGk="}}`), &img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ToItem(img)
	if err != nil {
		t.Fatal(err)
	}
	want := record.Item{"ss": []any{"a", "b"}, "ns": []any{json.Number("1"), json.Number("2.5")}, "b": "aGk="}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
}

func TestUnsupported(t *testing.T) {
	if _, err := FromItem(record.Item{"c": make(chan int)}); err == nil {
		t.Fatal("expect an error naming the attribute, got nil")
	}
}
