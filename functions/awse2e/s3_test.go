package awse2e

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

// s3Event is an S3 notification of objects created in us-east-1's bucket,
// with keys form-encoded as S3 sends them.
func s3Event(bucket string, keys ...string) []byte {
	var ev lambdaevents.S3Event
	for _, k := range keys {
		ev.Records = append(ev.Records, lambdaevents.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: us,
			EventName: "ObjectCreated:Put",
			S3: lambdaevents.S3Entity{Bucket: lambdaevents.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
				Object: lambdaevents.S3Object{Key: url.QueryEscape(k), Sequencer: "0067A3F2B1C4D5E6F7"}}})
	}
	b, _ := json.Marshal(ev)
	return b
}

// The tagger tags objects of a watched bucket from their S3 metadata, read
// with HeadObject through an S3 client made as its Lambda main makes it.
func TestObjectsAreTaggedFromS3Metadata(t *testing.T) {
	w := setup(t)
	s3c := s3.NewFromConfig(mototest.Config(t, us)) // as functions/tagger/lambda/main.go
	if _, err := s3c.CreateBucket(w.ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-exports")}); err != nil {
		t.Fatal(err)
	}
	h := *w.tagger
	h.Objects = &s3objects.Objects{API: s3c}
	invoke := func(payload []byte) error {
		_, err := lambda.NewHandler(lambdaraw.Handler(h.Invoke)).Invoke(w.ctx, payload)
		return err
	}

	// GIVEN a British subject's export written in us-east-1 (outside the
	// regions its rule allows), under a key S3 events form-encode, and an
	// American subject's export
	put := func(key string, meta map[string]string) {
		_, err := s3c.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String("acme-exports"), Key: aws.String(key),
			Body: strings.NewReader(`{"rows":[]}`), Metadata: meta})
		if err != nil {
			t.Fatal(err)
		}
	}
	gb, usKey := "users/u-2002/export 2026-11+final.json", "users/u-2004/export.json"
	put(gb, map[string]string{"Subject-Id": "u-2002", "subject-country": "GB"})
	put(usKey, map[string]string{"subject-id": "u-2004", "subject-country": "US"})

	// WHEN S3 notifies the tagger
	if err := invoke(s3Event("acme-exports", gb, usKey)); err != nil {
		t.Fatalf("expect both objects tagged, got %v", err)
	}

	// THEN each object has its catalog entry, from its metadata
	cases := map[string]struct {
		key, subject, status, home string
	}{
		"misplaced": {gb, "u-2002", record.StatusViolation, "eu-west-1"},
		"compliant": {usKey, "u-2004", record.StatusCompliant, us},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			es, err := w.store.EntriesBySubject(w.ctx, us, h.Refs.Subject(c.subject))
			if err != nil || len(es) != 1 {
				t.Fatalf("expect one catalog entry, got %d (%v)", len(es), err)
			}
			e := es[0]
			if e.SourceKind != catalog.SourceBucket || e.Source != "acme-exports" || e.Key["key"] != c.key {
				t.Errorf("expect the entry of s3://acme-exports/%s, got %s %s %v", c.key, e.SourceKind, e.Source, e.Key)
			}
			if e.Status != c.status || e.HomeRegion != c.home || e.Category != "events" || e.RetainUntil.IsZero() {
				t.Errorf("expect %s, home %s, category events with a retain-until, got %+v", c.status, c.home, e)
			}
		})
	}
	// AND the misplaced one is a violation on the bus and in the ledger
	if got := w.receive(w.violations); len(got.Records) != 1 {
		t.Fatalf("expect one violation, got %d", len(got.Records))
	}
	w.flushLedger()
	if entries := w.chain(); len(entries) != 1 || entries[0].Kind != "violation" || entries[0].Source != "acme-exports" {
		t.Fatalf("expect the object's violation in the ledger, got %+v", entries)
	}

	// WHEN a notification names an object that is gone, beside one that is there
	put("users/u-2005/export.json", map[string]string{"subject-id": "u-2005", "subject-country": "US"})
	err := invoke(s3Event("acme-exports", "users/u-2005/gone.json", "users/u-2005/export.json"))

	// THEN the invocation fails (Lambda retries it, then keeps it on the
	// failure destination), naming the missing object, and the other object
	// is tagged
	if err == nil || !strings.Contains(err.Error(), "record 0: read object metadata") || !strings.Contains(err.Error(), "not found") ||
		strings.Contains(err.Error(), "record 1") {
		t.Fatalf("expect the missing object (record 0) reported alone, got %v", err)
	}
	if strings.Contains(err.Error(), "u-2005") {
		t.Fatalf("expect no object key (it names a subject) in the error, got %v", err)
	}
	if es, err := w.store.EntriesBySubject(w.ctx, us, h.Refs.Subject("u-2005")); err != nil || len(es) != 1 {
		t.Fatalf("expect the present object tagged, got %d (%v)", len(es), err)
	}
}
