package local

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// pumped is n stream records as the pump reads them: inserts, tag
// modifications with both images, and removals, one with a binary value
// and a nested map.
func pumped(n int) []sqlitestore.RawStreamRecord {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	recs := make([]sqlitestore.RawStreamRecord, n)
	for i := range recs {
		key := fmt.Sprintf(`{"pk":"USER#u-%d","sk":"PROFILE"}`, i)
		item := fmt.Sprintf(`{"pk":"USER#u-%d","sk":"PROFILE","user_id":"u-%d","country":"FR","n":%d,"prefs":{"mail":true,"tags":["a","b"]}}`, i, i, i)
		tagged := item[:len(item)-1] + `,"_residency":{"jurisdiction":"EU","region":"us-east-1"}}`
		r := sqlitestore.RawStreamRecord{Seq: int64(i + 1), Region: "us-east-1", Table: "users", Key: key, At: at.Add(time.Duration(i) * time.Millisecond)}
		switch i % 3 {
		case 0:
			r.Event, r.New = "INSERT", item
		case 1:
			r.Event, r.Old, r.New = "MODIFY", item, tagged
		default:
			r.Event, r.Old = "REMOVE", tagged
		}
		recs[i] = r
	}
	return recs
}

// TestEncodeAndDecodeIsInvokes: the pump's payload is the one
// appendStreamEvent writes, and the records it decodes in two halves are
// the ones the tagger's Invoke decodes from that payload, in order.
func TestEncodeAndDecodeIsInvokes(t *testing.T) {
	for _, n := range []int{1, splitDecodeMin - 1, splitDecodeMin, 65, 1000} {
		recs := pumped(n)
		want, err := appendStreamEvent(nil, recs)
		if err != nil {
			t.Fatal(err)
		}
		wantRecs, err := ddbjson.DecodeStream(want)
		if err != nil {
			t.Fatal(err)
		}
		got, gotRecs, err := encodeAndDecode(make([]byte, 0, 64), recs, n/2)
		if err != nil {
			t.Fatalf("%d records: %v", n, err)
		}
		for _, mid := range []int{0, n} { // no second half: one event, left for Invoke
			out, rs, err := encodeAndDecode(nil, recs, mid)
			if err != nil || string(out) != string(want) || rs != nil {
				t.Errorf("%d records parted at %d: expect appendStreamEvent's payload left for Invoke, got %d records, error %v", n, mid, len(rs), err)
			}
		}
		if string(got) != string(want) {
			t.Errorf("%d records: the payload differs from appendStreamEvent's", n)
		}
		if n < splitDecodeMin {
			if gotRecs != nil {
				t.Errorf("%d records: expect them left for Invoke to decode, got %d decoded", n, len(gotRecs))
			}
			continue
		}
		if diff := cmp.Diff(wantRecs, gotRecs, cmp.AllowUnexported(ddbjson.StreamRecord{})); diff != "" {
			t.Errorf("%d records: decoded in halves differs from Invoke's decoding (-Invoke +halves):\n%s", n, diff)
		}
	}
}
