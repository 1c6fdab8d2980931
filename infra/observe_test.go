package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/digest"
)

// verify's default --digest-every is the stack's digest schedule: were they
// to drift apart, verify would fail a healthy ledger or miss a gap.
func TestDigestScheduleIsVerifysCadence(t *testing.T) {
	if got := sweepPeriod(DigestSchedule); got != digest.DefaultEvery {
		t.Fatalf("expect the digest schedule %s to be every %v (digest.DefaultEvery), got %v", DigestSchedule, digest.DefaultEvery, got)
	}
}

// The exposure alarm: the p99 of the router's Exposure over the region's
// sources (dimensions region and function: the rollup the router
// publishes) above the SLO of cdk.json (60 s there); the dashboard charts
// it against the SLO.
func TestExposureAlarmAndWidget(t *testing.T) {
	defer reportAssertion(t)
	if fixture.cfg.ExposureSLO != 60*time.Second {
		t.Fatalf("expect the fixture's SLO from cdk.json, 60 s, got %v", fixture.cfg.ExposureSLO)
	}
	for _, r := range testRegions {
		// GIVEN each region's template, from cdk.json's context
		tmpl := fixture.templates[r]
		// WHEN the alarms are inspected
		// THEN the exposure alarm reads the p99 in ms against 60,000
		tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"AlarmName": "residency-router-exposure-p99", "Namespace": "Residency", "MetricName": "Exposure", "ExtendedStatistic": "p99",
			"Period": 300, "Threshold": 60000, "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
			"Dimensions": []any{map[string]any{"Name": "function", "Value": "router"}, map[string]any{"Name": "region", "Value": r}},
		})
		for _, d := range *tmpl.FindResources(jsii.String("AWS::CloudWatch::Dashboard"), nil) {
			body, _ := json.Marshal((*d)["Properties"].(map[string]any)["DashboardBody"])
			for _, want := range []string{`\"Exposure\"`, "Exposure of misplaced records", `\"label\":\"SLO\",\"value\":60000`, "Relocations", "Quarantines"} {
				if !strings.Contains(string(body), want) {
					t.Errorf("%s: expect the dashboard to have %s, got %s", r, want, body)
				}
			}
		}
	}
}

// A stack given no SLO (props from code, not cdk.json) alarms at 60 s.
func TestExposureSLODefault(t *testing.T) {
	cases := map[string]struct {
		slo  time.Duration
		want time.Duration
	}{"unset": {0, 60 * time.Second}, "set": {45 * time.Second, 45 * time.Second}}
	for name, c := range cases {
		r := &residency{props: &ResidencyStackProps{ExposureSLO: c.slo}}
		if got := r.exposureSLO(); got != c.want {
			t.Errorf("%s: expect %v, got %v", name, c.want, got)
		}
	}
}
