package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/metrics/emftest"
)

// The router's EMF lines, checked against the specification: a
// relocation, a quarantine (each with its exposure, one value) and a
// backfilled relocation (no exposure) of source users; transfers by
// mechanism and decision.
func TestRouterMetrics(t *testing.T) {
	ctx := context.Background()
	violation := func(t *testing.T, action string, written bool) []byte {
		var ev map[string]any
		json.Unmarshal(eventstest.Sample(t, "eventbridge-residency-violation.json"), &ev)
		d := ev["detail"].(map[string]any)
		d["action"] = action
		if !written {
			delete(d, "written_at")
		}
		b, _ := json.Marshal(ev)
		return b
	}
	type want struct {
		metric   string
		dims     map[string]string
		value    float64
		exposure float64 // -1: no Exposure member
	}
	cases := map[string]struct {
		region  string
		payload func(t *testing.T) []byte
		want    want
	}{
		"relocation": {"us-east-1", func(t *testing.T) []byte { return violation(t, "relocate", true) },
			want{router.MetricRelocations, map[string]string{"region": "us-east-1", "function": "router", "source": "users"}, 1, 85557000}},
		"quarantine": {"us-east-1", func(t *testing.T) []byte { return violation(t, "quarantine", true) },
			want{router.MetricQuarantines, map[string]string{"source": "users"}, 1, 85557000}},
		"backfilled relocation": {"us-east-1", func(t *testing.T) []byte { return violation(t, "relocate", false) },
			want{router.MetricRelocations, map[string]string{"source": "users"}, 1, -1}},
		"transfer by scc": {"eu-central-1", func(t *testing.T) []byte { return eventstest.Sample(t, "eventbridge-transfer-requested-scc.json") },
			want{router.MetricTransfers, map[string]string{"region": "eu-central-1", "mechanism": "scc", "decision": "allowed"}, 1, -1}},
		"transfer denied": {"eu-central-1", func(t *testing.T) []byte { return eventstest.Sample(t, "eventbridge-transfer-requested-denied.json") },
			want{router.MetricTransfers, map[string]string{"mechanism": "none", "decision": "denied"}, 1, -1}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, _ := setup(t, c.region)
			var emf bytes.Buffer
			h.Metrics = &metrics.Emitter{W: &emf, Function: "router", Region: c.region}
			st.PutItem(ctx, "us-east-1", "users", key, item, false)
			if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, c.payload(t)); err != nil {
				t.Fatal(err)
			}
			raw := emf.String()
			lines := emftest.Lines(t, &emf)
			if len(lines) != 1 {
				t.Fatalf("expect one EMF line, got %d: %s", len(lines), raw)
			}
			l := lines[0]
			if l[c.want.metric] != c.want.value {
				t.Fatalf("expect %s %v, got %v in %s", c.want.metric, c.want.value, l[c.want.metric], raw)
			}
			for k, v := range c.want.dims {
				if l[k] != v {
					t.Errorf("expect dimension %s %q, got %v", k, v, l[k])
				}
			}
			switch got, ok := l[router.MetricExposure]; {
			case c.want.exposure < 0 && ok:
				t.Fatalf("expect no exposure, got %v", got)
			case c.want.exposure >= 0 && got != c.want.exposure:
				t.Fatalf("expect exposure %v ms, got %v in %s", c.want.exposure, got, raw)
			}
			if c.want.exposure >= 0 && (!strings.Contains(raw, `{"Name":"Exposure","Unit":"Milliseconds"}`) ||
				!strings.Contains(raw, `"Dimensions":[["region","function"]],"Metrics":[{"Name":"Exposure","Unit":"Milliseconds"}]`)) {
				t.Fatalf("expect Exposure in milliseconds, also per region and function alone (the alarm's), got %s", raw)
			}
			for _, pii := range []string{"u-1001", "USER#", "u-1002"} {
				if strings.Contains(raw, pii) {
					t.Fatalf("expect no %q in the metrics, got %s", pii, raw)
				}
			}
		})
	}
}
