package dynamostore_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

// The due index's low-water mark: a complete sweep raises it to where the
// entries it left begin, so the next sweep reads no empty day buckets; a
// sweep never raises it past an entry written while it ran.
func TestDueMarkRaisedBySweepNeverPastANewEntry(t *testing.T) {
	s, c, table := newStoreWith(t)
	ctx := mototest.Context(t)
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.UTC) }
	entry := func(pk string, d int) catalog.Entry {
		return catalog.Entry{Region: "eu-central-1", Source: "users", SourceKind: catalog.SourceTable, Key: record.Key{"pk": pk},
			SubjectRef: "sub_" + pk, Category: "profile", TaggedAt: day(1), RetainUntil: day(d)}
	}
	mark := func() string {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "DUEMARK"}, "sk": &types.AttributeValueMemberS{Value: "DUEMARK"}}})
		if err != nil {
			t.Fatal(err)
		}
		v, _ := out.Item["day"].(*types.AttributeValueMemberS)
		if v == nil {
			return ""
		}
		return v.Value
	}
	now := day(20)
	// sweep reads every due entry, deletes those not kept, and says so.
	sweep := func(keep map[string]bool, during func()) int {
		t.Helper()
		due, cur, err := s.DueEntries(ctx, "eu-central-1", now, catalog.Cursor{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		var gone []catalog.Entry
		var keepFrom time.Time
		for _, e := range due {
			if keep[e.Key["pk"].(string)] {
				if keepFrom.IsZero() || e.RetainUntil.Before(keepFrom) {
					keepFrom = e.RetainUntil
				}
				continue
			}
			gone = append(gone, e)
		}
		if err := s.DeleteEntries(ctx, gone); err != nil {
			t.Fatal(err)
		}
		if during != nil {
			during()
		}
		if err := s.SweepDone(ctx, "eu-central-1", cur, now, keepFrom); err != nil {
			t.Fatal(err)
		}
		return len(due)
	}
	if err := s.PutEntries(ctx, []catalog.Entry{entry("A", 1), entry("B", 5), entry("C", 10)}); err != nil {
		t.Fatal(err)
	}
	if got := mark(); got != "2026-01-01" {
		t.Fatalf("expect the mark at the earliest entry's day, got %q", got)
	}
	// A is deleted, B is held (kept), C deleted: the mark rises to B's day.
	if n := sweep(map[string]bool{"B": true}, nil); n != 3 {
		t.Fatalf("expect 3 due, got %d", n)
	}
	if got := mark(); got != "2026-01-05" {
		t.Fatalf("expect the mark raised to the held entry's day, got %q", got)
	}
	// An entry written while a sweep runs, in a bucket after the mark (no
	// lowering) but before where the sweep would raise it: no raise.
	if n := sweep(map[string]bool{}, func() {
		if err := s.PutEntries(ctx, []catalog.Entry{entry("D", 7)}); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("expect only B due, got %d", n)
	}
	if got := mark(); got != "2026-01-05" {
		t.Fatalf("expect the mark left where it was (D was written mid-sweep), got %q", got)
	}
	due, _, err := s.DueEntries(ctx, "eu-central-1", now, catalog.Cursor{}, 100)
	if err != nil || len(due) != 1 || due[0].Key["pk"] != "D" {
		t.Fatalf("expect the next sweep to find D, got %+v (%v)", due, err)
	}
	// With nothing left, the mark rises to today.
	sweep(nil, nil)
	if got := mark(); got != "2026-01-20" {
		t.Fatalf("expect the mark raised to the sweep's day, got %q", got)
	}
	if err := s.PutEntries(ctx, []catalog.Entry{entry("E", 2)}); err != nil {
		t.Fatal(err)
	}
	if got := mark(); got != "2026-01-02" {
		t.Fatalf("expect a backfilled entry to lower the mark, got %q", got)
	}
}
