package router_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/ledger"
)

// The router records on a relocation or quarantine how long the misplaced
// copy was exposed: from the violation's written_at to its deletion (the
// handler's clock reads 2026-11-21T09:00:00Z; the sample was written at
// 2026-11-20T09:14:03Z). A violation without written_at (a backfilled
// record) gets no exposed_ms.
func TestExposureIsRecorded(t *testing.T) {
	ctx := context.Background()
	const day = 85557000 // 23h45m57s in ms
	cases := map[string]struct {
		action, writtenAt string // "" writtenAt: removed from the sample
		want              *int64
		wantDecision      string
	}{
		"relocation":            {"relocate", "2026-11-20T09:14:03Z", ptr(day), "relocated"},
		"quarantine":            {"quarantine", "2026-11-20T09:14:03Z", ptr(day), "quarantined"},
		"milliseconds":          {"relocate", "2026-11-21T08:59:58.250Z", ptr(1750), "relocated"},
		"written in our future": {"relocate", "2026-11-21T09:00:05Z", ptr(0), "relocated"},
		"backfilled, no time":   {"relocate", "", nil, "relocated"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, "us-east-1")
			st.PutItem(ctx, "us-east-1", "users", key, item, false)
			var ev map[string]any
			json.Unmarshal(eventstest.Sample(t, "eventbridge-residency-violation.json"), &ev)
			d := ev["detail"].(map[string]any)
			d["action"] = c.action
			if c.writtenAt == "" {
				delete(d, "written_at")
			} else {
				d["written_at"] = c.writtenAt
			}
			payload, _ := json.Marshal(ev)
			if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, payload); err != nil {
				t.Fatal(err)
			}
			var got []ledger.Entry
			for _, e := range sk.Entries {
				if e.Kind == ledger.KindRelocation {
					got = append(got, e)
				}
			}
			if len(got) != 1 || got[0].Decision != c.wantDecision {
				t.Fatalf("expect one %s entry, got %+v", c.wantDecision, got)
			}
			switch e := got[0]; {
			case c.want == nil && e.ExposedMS != nil:
				t.Fatalf("expect no exposed_ms without a write time, got %d", *e.ExposedMS)
			case c.want != nil && (e.ExposedMS == nil || *e.ExposedMS != *c.want):
				t.Fatalf("expect exposed_ms %d, got %v", *c.want, e.ExposedMS)
			}
		})
	}
}

func ptr(v int64) *int64 { return &v }
