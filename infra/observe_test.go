package main

import (
	"testing"

	"github.com/residency-dev/residency/shared/digest"
)

// verify's default --digest-every is the stack's digest schedule: were they
// to drift apart, verify would fail a healthy ledger or miss a gap.
func TestDigestScheduleIsVerifysCadence(t *testing.T) {
	if got := sweepPeriod(DigestSchedule); got != digest.DefaultEvery {
		t.Fatalf("expect the digest schedule %s to be every %v (digest.DefaultEvery), got %v", DigestSchedule, digest.DefaultEvery, got)
	}
}
