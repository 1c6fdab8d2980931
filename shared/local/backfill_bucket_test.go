package local_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/record"
)

// TestBackfillBucket: the objects of us-east-1's bucket written before
// Residency watched it (no notification ever reached the tagger), 3 of
// French subjects among 8, are backfilled by a run stopped after its second
// page of 2 and a run that resumes it: each object is handled once (8 read,
// 8 tagged, 3 violations, 3 relocated to eu-central-1's bucket, one
// violation entry each in the ledger); a second backfill reads the 5 left
// and writes nothing.
func TestBackfillBucket(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	st, s := stackAt(t, at)
	const us, bucket = "us-east-1", "acme-exports-us"
	var french []string
	for i := range 8 {
		subject, country := fmt.Sprintf("u-8%03d", i), "US"
		if i%3 == 1 {
			country = "FR"
		}
		k := "users/" + subject + "/export.json"
		if country == "FR" {
			french = append(french, k)
		}
		if err := st.PutObject(ctx, record.Object{Region: us, Bucket: bucket, Key: k, LastModified: at.Add(-48 * time.Hour),
			Metadata: map[string]string{"subject-id": subject, "subject-country": country}}); err != nil {
			t.Fatal(err)
		}
	}
	// An object outside the watched prefix is not the source's.
	if err := st.PutObject(ctx, record.Object{Region: us, Bucket: bucket, Key: "tmp/scratch.bin", LastModified: at, Metadata: map[string]string{}}); err != nil {
		t.Fatal(err)
	}

	// GIVEN a backfill stopped after its second page
	stopped, stop := context.WithCancel(ctx)
	pages := 0
	_, err := s.BackfillBucket(stopped, us, bucket, local.BackfillOptions{PageSize: 2, Progress: func(local.BackfillProgress) {
		if pages++; pages == 2 {
			stop()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("expect the backfill stopped, got %v", err)
	}
	// WHEN it is started again
	res, err := s.BackfillBucket(ctx, us, bucket, local.BackfillOptions{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// THEN every object was handled once over both runs
	if res.Items != 8 || res.Tagged != 8 || res.Violations != 3 || res.Relocated != 3 || len(res.Failed) != 0 || res.ResumedPages != 2 || res.Mode != "list" {
		t.Fatalf("expect 8 objects read (under the watched prefix users/), 8 tagged, 3 violations relocated, resumed after 2 pages, got %+v", res)
	}
	for _, k := range french {
		if _, err := st.HeadObject(ctx, us, bucket, k); !errors.Is(err, record.ErrNotFound) {
			t.Errorf("expect the misplaced object gone from %s, got %v", us, err)
		}
		if _, err := st.ObjectContent(ctx, "eu-central-1", "acme-exports-eu", k); err != nil {
			t.Errorf("expect the misplaced object at home, got %v", err)
		}
	}
	violations := 0
	if err := st.ScanChain(ctx, us, func(e *ledger.Entry) error {
		if e.Kind == ledger.KindViolation {
			violations++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if violations != 3 {
		t.Errorf("expect one violation entry per misplaced object, got %d", violations)
	}
	cov, err := st.Coverage(ctx, us)
	if err != nil || len(cov) != 1 || cov[0].Source != bucket || cov[0].Mode != "list" {
		t.Errorf("expect the bucket's coverage recorded, got %+v (%v)", cov, err)
	}

	// WHEN it is backfilled again
	again, err := s.BackfillBucket(ctx, us, bucket, local.BackfillOptions{PageSize: 2})
	// THEN the objects left are unchanged, and nothing is written
	if err != nil || again.Items != 5 || again.Unchanged != 5 || again.Tagged != 0 || again.Violations != 0 || again.ResumedPages != 0 {
		t.Fatalf("expect 5 objects unchanged, got %+v (%v)", again, err)
	}
}
