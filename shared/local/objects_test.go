package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// Locally as on AWS: a French subject's export in the US bucket is
// relocated to eu-central-1's bucket of the source, catalogued there by
// the tagger its notification reaches, and gone from us-east-1; the ledger
// has the violation and the relocation by reference; nothing is left as a
// dead letter.
func TestMisplacedObjectIsRelocatedLocally(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	st, s := stackAt(t, at)
	k := "users/u-5001/export 2026-11.json"
	if err := st.PutObject(ctx, record.Object{Region: "us-east-1", Bucket: "acme-exports-us", Key: k, LastModified: at.Add(-time.Minute),
		Metadata: map[string]string{"subject-id": "u-5001", "subject-country": "FR"}}); err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(lambdaevents.S3Event{Records: []lambdaevents.S3EventRecord{{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: "us-east-1",
		EventTime: at, EventName: "ObjectCreated:Put", S3: lambdaevents.S3Entity{Bucket: lambdaevents.S3Bucket{Name: "acme-exports-us"},
			Object: lambdaevents.S3Object{Key: url.QueryEscape(k), Sequencer: "01"}}}}})

	if d, err := s.Replay(ctx, ev); err != nil || d.Error != "" {
		t.Fatalf("expect the object tagged, got %+v (%v)", d, err)
	}

	if _, err := st.HeadObject(ctx, "us-east-1", "acme-exports-us", k); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect the misplaced object gone, got %v", err)
	}
	home, err := st.ObjectContent(ctx, "eu-central-1", "acme-exports-eu", k)
	if err != nil || home.Metadata["subject-id"] != "u-5001" || home.Metadata["residency-origin-region"] != "us-east-1" {
		t.Fatalf("expect the object at home with its metadata, got %+v (%v)", home, err)
	}
	es, err := st.EntriesBySubject(ctx, "eu-central-1", s.Refs.Subject("u-5001"))
	if err != nil || len(es) != 1 || es[0].Source != "acme-exports-eu" || es[0].Status != record.StatusCompliant {
		t.Fatalf("expect the home copy catalogued in eu-central-1, got %+v (%v)", es, err)
	}
	if want := at.Add(-time.Minute).AddDate(0, 13, 0); !es[0].RetainUntil.Equal(want) {
		t.Errorf("expect retention from the first write (%s), got %s", want, es[0].RetainUntil)
	}
	var kinds []string
	var all []ledger.Entry
	if err := st.ScanChain(ctx, "us-east-1", func(e *ledger.Entry) error {
		kinds, all = append(kinds, string(e.Kind)+":"+e.Decision), append(all, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(kinds, ",") != "violation:relocate,relocation:relocated" {
		t.Fatalf("expect the violation and the relocation, got %v", kinds)
	}
	if b, _ := json.Marshal(all); strings.Contains(string(b), "u-5001") {
		t.Fatalf("expect no subject or key in the ledger, got %s", b)
	}
	if dl, err := st.DeadLetters(ctx); err != nil || len(dl) != 0 {
		t.Fatalf("expect no dead letter, got %+v (%v)", dl, err)
	}
}
