package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
)

// A relocation that failed leaves its violation open, with the failure's
// reason; it is not a relocation of the timeline, and a later relocation
// remediates the violation all the same.
func TestFailedRelocationKeepsTheViolationOpenWithItsReason(t *testing.T) {
	st := emptyStore(t)
	e := func(id string, min int, kind ledger.Kind, record, decision, reference string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at.Add(time.Duration(min) * time.Minute), Kind: kind, Region: "us-east-1", Source: "acme-exports-us",
			Record: record, Decision: decision, Reference: reference, ToRegion: "eu-central-1", ToCountry: "DE", Actor: "test"}
	}
	const why = "relocation to s3://acme-exports-eu in eu-central-1 failed: NoSuchBucket"
	if _, err := st.Append(context.Background(), "us-east-1", []ledger.Entry{
		e("v1", 0, ledger.KindViolation, "rec_a", "relocate", "rule"),
		e("f1", 1, ledger.KindRelocation, "rec_a", ledger.DecisionFailed, why),
		e("v2", 2, ledger.KindViolation, "rec_b", "relocate", "rule"),
		e("f2", 3, ledger.KindRelocation, "rec_b", ledger.DecisionFailed, "first try"),
		e("r2", 4, ledger.KindRelocation, "rec_b", "relocated", ""),
	}); err != nil {
		t.Fatal(err)
	}
	h, err := report.Summarize(context.Background(), st, report.Query{}, report.Options{Now: at})
	if err != nil {
		t.Fatal(err)
	}
	v := h.Summary.Violations
	if v.Total != 2 || v.Open != 1 || v.Remediated != 1 {
		t.Fatalf("expect 2 violations, 1 open and 1 remediated, got %+v", v)
	}
	for _, x := range v.List {
		switch x.Record {
		case "rec_a":
			if x.Status != report.ViolationOpen || x.Reason != why || x.Remediation != nil {
				t.Errorf("expect rec_a open with its reason, got %+v", x)
			}
		case "rec_b":
			if x.Status != report.ViolationRemediated || x.Remediation == nil || x.Remediation.Seq != 5 {
				t.Errorf("expect rec_b remediated by seq 5, got %+v", x)
			}
		}
	}
	relocations := 0
	for _, d := range h.Summary.Timeline {
		relocations += d.Relocations
	}
	if relocations != 1 {
		t.Errorf("expect one relocation in the timeline (failures are not), got %d", relocations)
	}
	for _, format := range []string{"table", "html"} {
		var buf bytes.Buffer
		if err := report.Write(&buf, format, h, report.Entries(nil)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), why) {
			t.Errorf("expect the %s report to show the reason, got none", format)
		}
	}
}
