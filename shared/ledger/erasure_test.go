package ledger_test

import (
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// An erasure request's entry reads back its id (whatever it holds), when it
// was received and the records to erase; anything else is not one.
func TestParseErasureRequest(t *testing.T) {
	received := time.Date(2026, 11, 20, 9, 0, 0, 123, time.UTC)
	request := func(ref string) ledger.Entry {
		return ledger.Entry{Kind: ledger.KindDeletion, Decision: ledger.DecisionErasureRequested, Reference: ref}
	}
	cases := map[string]struct {
		e       ledger.Entry
		id      string
		records int
		ok      bool
	}{
		"a request":          {request(ledger.ErasureRequestReference("dsr-1", received, 3)), "dsr-1", 3, true},
		"nothing to erase":   {request(ledger.ErasureRequestReference("dsr-1", received, 0)), "dsr-1", 0, true},
		"an id with , and ;": {request(ledger.ErasureRequestReference("DSR-7; part 2, EU", received, 1)), "DSR-7; part 2, EU", 1, true},
		"no records part":    {request(ledger.ErasureReference("dsr-1") + "; received " + received.Format(time.RFC3339Nano)), "", 0, false},
		"no count":           {request(ledger.ErasureReference("dsr-1") + "; received " + received.Format(time.RFC3339Nano) + "; records"), "", 0, false},
		"a negative count":   {request(ledger.ErasureReference("dsr-1") + "; received " + received.Format(time.RFC3339Nano) + "; -1 records to erase"), "", 0, false},
		"a bad time":         {request(ledger.ErasureReference("dsr-1") + "; received yesterday; 1 records to erase"), "", 0, false},
		"no received part":   {request(ledger.ErasureReference("dsr-1")), "", 0, false},
		"a receipt": {ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted",
			Reference: ledger.ErasureRequestReference("dsr-1", received, 1)}, "", 0, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			id, at, records, ok := ledger.ParseErasureRequest(&c.e)
			if id != c.id || records != c.records || ok != c.ok || (ok && !at.Equal(received)) {
				t.Fatalf("expect %q, %d records, %v, got %q, %v, %d records, %v", c.id, c.records, c.ok, id, at, records, ok)
			}
		})
	}
}

// A receipt reads back the request's id exactly, as the retention function
// wrote it: after ErasureReference, ", re-applied" for a record written
// again after the erasure, then "; <n> object version(s) deleted" for an S3
// object. The request's entry and an Object Lock hold are no receipts.
func TestParseErasureReceipt(t *testing.T) {
	receipt := func(ref string) ledger.Entry {
		return ledger.Entry{Kind: ledger.KindDeletion, Decision: "deleted", Reference: ref}
	}
	ref := ledger.ErasureReference
	cases := map[string]struct {
		e             ledger.Entry
		id            string
		reapplied, ok bool
	}{
		"a record's":                 {receipt(ref("dsr-1")), "dsr-1", false, true},
		"an S3 object's":             {receipt(ref("dsr-1") + "; 2 object versions deleted"), "dsr-1", false, true},
		"one version":                {receipt(ref("dsr-1") + "; 1 object version deleted"), "dsr-1", false, true},
		"re-applied":                 {receipt(ref("dsr-1") + ", re-applied"), "dsr-1", true, true},
		"re-applied, an S3 object's": {receipt(ref("dsr-1") + ", re-applied; 1 object version deleted"), "dsr-1", true, true},
		"an id with , and ;":         {receipt(ref("DSR-7; part 2, EU")), "DSR-7; part 2, EU", false, true},
		"an id with , and ;, re-applied, an S3 object's": {receipt(ref("DSR-7; part 2, EU") + ", re-applied; 3 object versions deleted"),
			"DSR-7; part 2, EU", true, true},
		"no id": {receipt(ref("")), "", false, false},
		"the request itself": {ledger.Entry{Kind: ledger.KindDeletion, Decision: ledger.DecisionErasureRequested,
			Reference: ledger.ErasureRequestReference("dsr-1", time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), 2)}, "", false, false},
		"an Object Lock hold": {ledger.Entry{Kind: ledger.KindDeletion, Decision: ledger.DecisionHeldByObjectLock,
			Reference: ref("dsr-1") + "; not deleted: S3 Object Lock holds 1 object version (COMPLIANCE retention until 2027-01-01T00:00:00Z), 0 deleted"}, "", false, false},
		"a retention deletion": {receipt("retention: events, 13mo from created, until 2026-11-01"), "", false, false},
		"not a deletion":       {ledger.Entry{Kind: ledger.KindRelocation, Reference: ref("dsr-1")}, "", false, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			id, reapplied, ok := ledger.ParseErasureReceipt(&c.e)
			if id != c.id || reapplied != c.reapplied || ok != c.ok {
				t.Fatalf("expect %q, re-applied %v, %v, got %q, %v, %v", c.id, c.reapplied, c.ok, id, reapplied, ok)
			}
		})
	}
}
