package awse2e

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// A due object under S3 Object Lock is not reported deleted: the sweep
// writes a held entry saying until when (COMPLIANCE retention: its
// retain-until date; a legal hold: until released), keeps it due, and
// deletes it with its receipt once the lock is gone.
func TestObjectLockHoldsADueObject(t *testing.T) {
	w := setupS3(t, nil)
	if _, err := w.s3[us].CreateBucket(w.ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-exports-us"), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	put := func(key string, lock func(*s3.PutObjectInput)) {
		in := &s3.PutObjectInput{Bucket: aws.String("acme-exports-us"), Key: aws.String(key), Body: strings.NewReader("{}"),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256} // moto: Object Lock needs it
		lock(in)
		if _, err := w.s3[us].PutObject(w.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	retained, held := "users/u-4001/export.json", "users/u-4002/export.json"
	put(retained, func(in *s3.PutObjectInput) {
		in.ObjectLockMode, in.ObjectLockRetainUntilDate = s3types.ObjectLockModeCompliance, aws.Time(until)
	})
	put(held, func(in *s3.PutObjectInput) { in.ObjectLockLegalHoldStatus = s3types.ObjectLockLegalHoldStatusOn })
	now := time.Now().UTC()
	var entries []catalog.Entry
	for _, k := range []string{retained, held} {
		entries = append(entries, catalog.Entry{Region: us, Source: "acme-exports-us", SourceKind: catalog.SourceBucket, Key: record.Key{"key": k},
			SubjectRef: w.tagger.Refs.Subject(k), Category: "events", OriginRegion: us, HomeRegion: us, Status: record.StatusCompliant,
			PolicyVersion: w.tagger.Policy.Version, TaggedAt: now.Add(-400 * 24 * time.Hour), RetainUntil: now.Add(-time.Hour)})
	}
	if err := w.store.PutEntries(w.ctx, entries); err != nil {
		t.Fatal(err)
	}
	ret := &retention.Handler{Region: us, Policy: w.tagger.Policy, Refs: w.tagger.Refs, Catalog: w.store, Holds: w.store, Contracts: w.store,
		Tables: w.store, Objects: &s3objects.Objects{API: w.s3[us]}, Bus: w.router.Bus, Ledger: w.router.Ledger, Now: time.Now, Log: w.router.Log}

	// WHEN the sweep finds them due, twice
	for i := range 2 {
		res, err := ret.Sweep(w.ctx, now)
		if err != nil || res.Deleted != 0 || res.Locked != 2 || !res.Complete {
			t.Fatalf("sweep %d: expect both objects kept by Object Lock, nothing deleted, got %+v (%v)", i+1, res, err)
		}
		w.flushLedger()
	}

	// THEN each has one held entry, no receipt, saying until when
	es := w.chain()
	if len(es) != 2 {
		t.Fatalf("expect one held entry per object (the second sweep adds none), got %d", len(es))
	}
	for _, e := range es {
		if e.Kind != ledger.KindDeletion || e.Decision != ledger.DecisionHeldByObjectLock {
			t.Errorf("expect a held entry, got %s %s", e.Kind, e.Decision)
		}
	}
	refs := es[0].Reference + "\n" + es[1].Reference
	if !strings.Contains(refs, "COMPLIANCE retention until "+until.Format(time.RFC3339)) || !strings.Contains(refs, "a legal hold, until it is released") {
		t.Fatalf("expect the retain-until date and the legal hold in the entries, got %s", refs)
	}
	if strings.Contains(refs, "u-400") {
		t.Fatalf("expect no key in the ledger, got %s", refs)
	}
	// AND both stay in the catalog, due
	due, _, err := w.store.DueEntries(w.ctx, us, now, catalog.Cursor{}, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("expect both still due, got %d (%v)", len(due), err)
	}

	// WHEN the legal hold is released and the sweep runs again
	if _, err := w.s3[us].PutObjectLegalHold(w.ctx, &s3.PutObjectLegalHoldInput{Bucket: aws.String("acme-exports-us"), Key: aws.String(held),
		LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOff}, ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	res, err := ret.Sweep(w.ctx, now)
	w.flushLedger()
	// THEN that object is deleted, with its receipt; the other is still held
	if err != nil || res.Deleted != 1 || res.Locked != 1 {
		t.Fatalf("expect the released object deleted and the retained one held, got %+v (%v)", res, err)
	}
	if last := w.chain()[2]; last.Decision != "deleted" || !strings.Contains(last.Reference, "1 object version deleted") {
		t.Fatalf("expect the receipt of the released object, got %+v", last)
	}
	if n := w.versions(us, "acme-exports-us", held); n != 0 {
		t.Fatalf("expect the released object gone, got %d versions", n)
	}
}
