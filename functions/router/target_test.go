package router

import (
	"testing"

	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// Where a misplaced object goes: the home region's bucket of its source,
// or the home region's quarantine bucket when the rule quarantines or the
// source has no bucket there (the single bucket: form never has).
func TestObjectTarget(t *testing.T) {
	perRegion := &policy.Source{Buckets: map[string]string{"eu-central-1": "acme-exports-eu", "us-east-1": "acme-exports-us"}}
	single := &policy.Source{Bucket: "acme-exports-us"}
	key := "users/u-1/export.json"
	cases := map[string]struct {
		src    *policy.Source
		action policy.Action
		home   string
		want   objectTarget
	}{
		"relocate home":         {perRegion, policy.ActionRelocate, "eu-central-1", objectTarget{"eu-central-1", "acme-exports-eu", key, record.StatusRelocated}},
		"quarantine":            {perRegion, policy.ActionQuarantine, "eu-central-1", objectTarget{"eu-central-1", "q-eu-central-1", "acme-exports-us/" + key, record.StatusQuarantined}},
		"no bucket at home":     {perRegion, policy.ActionRelocate, "eu-west-1", objectTarget{"eu-west-1", "q-eu-west-1", "acme-exports-us/" + key, record.StatusQuarantined}},
		"single bucket: form":   {single, policy.ActionRelocate, "eu-central-1", objectTarget{"eu-central-1", "q-eu-central-1", "acme-exports-us/" + key, record.StatusQuarantined}},
		"default prefix unused": {perRegion, policy.ActionRelocate, "us-east-1", objectTarget{"us-east-1", "acme-exports-us", key, record.StatusRelocated}},
	}
	h := &Handler{QuarantineBuckets: "q-"}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := h.objectTarget(c.src, c.action, c.home, "acme-exports-us", key); got != c.want {
				t.Errorf("expect %+v, got %+v", c.want, got)
			}
		})
	}
	if got := (&Handler{}).quarantineBucket("eu-west-1"); got != "residency-quarantine-eu-west-1" {
		t.Errorf("expect the default quarantine bucket residency-quarantine-eu-west-1, got %s", got)
	}
}
