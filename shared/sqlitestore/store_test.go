package sqlitestore_test

import (
	"context"
	"testing"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
	"github.com/residency-dev/residency/shared/storetest"
)

func open(t *testing.T) *sqlitestore.Store {
	s := sqlitetest.Open(t)
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

func TestStreamRecordsEveryWrite(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	k := record.Key{"pk": "A"}
	s.PutItem(ctx, "eu-west-1", "users", k, record.Item{"pk": "A", "v": "1"}, false)
	s.PutItem(ctx, "eu-west-1", "users", k, record.Item{"pk": "A", "v": "2"}, false)
	s.UpdateTag(ctx, "eu-west-1", "users", k, record.Tag{Status: "compliant"})
	s.DeleteItem(ctx, "eu-west-1", "users", k, "")
	s.ReplayWrite(ctx, "eu-west-1", "users", k, record.Item{"pk": "A"}) // replayed: no stream record
	recs, err := s.PendingStream(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Event+":"+r.Old.String("v")+">"+r.New.String("v"))
	}
	want := []string{"INSERT:>1", "MODIFY:1>2", "MODIFY:2>2", "REMOVE:2>"}
	if len(got) != len(want) {
		t.Fatalf("expect %v, got %v", want, got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("expect %v, got %v", want, got)
		}
	}
	if err := s.MarkDelivered(ctx, recs[len(recs)-1].Seq); err != nil {
		t.Fatal(err)
	}
	if recs, _ := s.PendingStream(ctx, 10); len(recs) != 0 {
		t.Fatalf("expect nothing pending, got %d", len(recs))
	}
}
