package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

var at = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func store(t *testing.T) *sqlitestore.Store {
	st := sqlitetest.Open(t)
	e := func(id string, min int, kind ledger.Kind, to, importer, mech, ref, cat string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at.Add(time.Duration(min) * time.Minute), Kind: kind, Region: "eu-central-1", ToCountry: to,
			Importer: importer, Mechanism: mech, Reference: ref, Category: cat, Actor: "router"}
	}
	_, err := st.Append(context.Background(), "eu-central-1", []ledger.Entry{
		e("1", 0, ledger.KindTransfer, "US", "Acme Inc", "scc", "scc-1", "events"),
		e("2", 10, ledger.KindTransfer, "US", "Acme Inc", "scc", "scc-1", "profile"),
		e("3", 20, ledger.KindDenial, "IN", "B Ltd", "none", "no adequacy decision for IN", "events"),
		e("4", 30, ledger.KindDenial, "IN", "B Ltd", "none", "no adequacy decision for IN; other wording", "events"),
		e("5", 40, ledger.KindViolation, "DE", "", "", "rule 1", "profile"),
		e("6", 24*60, ledger.KindTransfer, "JP", "T KK", "adequacy", "2019/419", "events"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRegister(t *testing.T) {
	rep, err := report.Build(context.Background(), store(t), report.Query{}, at)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rep.Summary.Register {
		got = append(got, strings.Join([]string{r.ToCountry, r.Importer, r.Mechanism, r.Reference, strings.Join(r.Categories, "+")}, "|")+
			" "+string(rune('0'+r.Allowed))+"/"+string(rune('0'+r.Denied)))
	}
	want := []string{"IN|B Ltd|none||events 0/2", "JP|T KK|adequacy|2019/419|events 1/0", "US|Acme Inc|scc|scc-1|events+profile 2/0"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("register (-want +got):\n%s", d)
	}
	if rep.Summary.ByKind[ledger.KindViolation] != 1 || rep.Summary.ByMechanism["denied"] != 2 || !rep.Ledger.Verified {
		t.Fatalf("unexpected summary %+v", rep.Summary)
	}
}

func TestFilters(t *testing.T) {
	st := store(t)
	cases := map[string]struct {
		q    report.Query
		want int
	}{
		"all":         {report.Query{}, 6},
		"day":         {report.Query{From: at, To: at.Add(24 * time.Hour)}, 5},
		"kind":        {report.Query{Kinds: []ledger.Kind{ledger.KindDenial}}, 2},
		"destination": {report.Query{Destination: "US"}, 2},
		"mechanism":   {report.Query{Mechanism: "adequacy"}, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rep, err := report.Build(context.Background(), st, c.q, at)
			if err != nil || len(rep.Entries) != c.want {
				t.Fatalf("expect %d entries, got %d (%v)", c.want, len(rep.Entries), err)
			}
		})
	}
}

func TestWriteFormats(t *testing.T) {
	rep, _ := report.Build(context.Background(), store(t), report.Query{}, at)
	for format, want := range map[string]string{"json": `"transfer_register"`, "csv": "seq,id,time,kind", "table": "Transfer register"} {
		var buf bytes.Buffer
		if err := rep.Write(&buf, format); err != nil || !strings.Contains(buf.String(), want) {
			t.Fatalf("%s: expect %q, got %v\n%s", format, want, err, buf.String())
		}
	}
	if err := rep.Write(&bytes.Buffer{}, "pdf"); err == nil {
		t.Fatal("expect an error for an unknown format")
	}
}

func TestParseQuery(t *testing.T) {
	q, err := report.ParseQuery(func(k string) string {
		return map[string]string{"from": "2026-11-01", "to": "2026-11-30", "kind": "transfer,denial", "destination": "us"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if !q.To.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || q.Destination != "US" || len(q.Kinds) != 2 {
		t.Fatalf("expect the to date inclusive, upper-cased destination and 2 kinds, got %+v", q)
	}
}
