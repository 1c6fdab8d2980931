package tagger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func setup(t testing.TB, region string) (*tagger.Handler, *sqlitestore.Store, *fakes.Sink) {
	st := sqlitetest.Open(t)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	sk := &fakes.Sink{}
	h := &tagger.Handler{Region: region, Policy: policy.MustExample(), Refs: refs, Tables: st, Catalog: st, Contracts: st, Objects: st,
		Bus: sk, Ledger: sk, Now: func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	return h, st, sk
}

// apply writes a sample batch's new images to the store, as the platform did.
func apply(t *testing.T, st *sqlitestore.Store, payload []byte) {
	var ev lambdaevents.DynamoDBEvent
	json.Unmarshal(payload, &ev)
	for _, r := range ev.Records {
		var img map[string]any
		b, _ := json.Marshal(r.Change.NewImage)
		json.Unmarshal(b, &img)
		item := record.Item{}
		for k, v := range img {
			for _, x := range v.(map[string]any) {
				item[k] = x
			}
		}
		k, _ := record.KeyOf(item, []string{"pk", "sk"})
		st.ReplayWrite(context.Background(), r.AWSRegion, "users", k, item)
	}
}

func invokeStream(t *testing.T, h *tagger.Handler, payload []byte) lambdaevents.DynamoDBEventResponse {
	t.Helper()
	return eventstest.Invoke[lambdaevents.DynamoDBEventResponse](t, h.Invoke, payload)
}

func TestViolationTaggedAndReported(t *testing.T) {
	h, st, sk := setup(t, "us-east-1")
	payload := eventstest.Sample(t, "dynamodb-insert-misplaced.json")
	apply(t, st, payload)
	if resp := invokeStream(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("expect no failures, got %+v", resp)
	}
	it, err := st.GetItem(context.Background(), "us-east-1", "users", record.Key{"pk": "USER#u-1001", "sk": "PROFILE"})
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := record.TagOf(it)
	want := record.Tag{OriginRegion: "us-east-1", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Status: record.StatusViolation,
		PolicyVersion: "2026-11-01", TaggedAt: "2026-11-20T12:00:00Z", RetainUntil: "2028-12-20T09:14:03Z"}
	if tag != want {
		t.Fatalf("expect tag %+v, got %+v", want, tag)
	}
	// The TTL backstop: three days after retain_until, in epoch seconds.
	ttl := time.Date(2028, 12, 23, 9, 14, 3, 0, time.UTC).Unix()
	if got := it.String("expires_at"); got != strconv.FormatInt(ttl, 10) {
		t.Fatalf("expect expires_at %d, got %q", ttl, got)
	}
	var types []string
	for _, e := range sk.Events {
		types = append(types, e.DetailType)
	}
	if strings.Join(types, ",") != "Record Tagged,Residency Violation" {
		t.Fatalf("expect Record Tagged and Residency Violation, got %v", types)
	}
	if len(sk.Entries) != 1 || sk.Entries[0].Kind != ledger.KindViolation || sk.Entries[0].Decision != "relocate" {
		t.Fatalf("expect one violation entry, got %+v", sk.Entries)
	}
	// Redelivery of the same batch: the record now carries the tag, so nothing is written again.
	before := len(sk.Events)
	var ev lambdaevents.DynamoDBEvent
	json.Unmarshal(payload, &ev)
	ev.Records[0].EventName = "MODIFY"
	ev.Records[0].Change.NewImage["residency"] = lambdaevents.NewMapAttribute(map[string]lambdaevents.DynamoDBAttributeValue{
		"origin_region": lambdaevents.NewStringAttribute(want.OriginRegion), "jurisdiction": lambdaevents.NewStringAttribute(want.Jurisdiction),
		"home_region": lambdaevents.NewStringAttribute(want.HomeRegion), "status": lambdaevents.NewStringAttribute(want.Status),
		"policy_version": lambdaevents.NewStringAttribute(want.PolicyVersion), "tagged_at": lambdaevents.NewStringAttribute("2026-11-20T12:00:00Z"),
		"retain_until": lambdaevents.NewStringAttribute(want.RetainUntil),
	})
	// Without its TTL attribute (the platform rewrote the item), the TTL
	// is written back, and nothing announced again.
	k := record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}
	st.ReplayWrite(context.Background(), "us-east-1", "users", k, record.Item{"pk": "USER#u-1001", "sk": "PROFILE", "residency": want.Map()})
	echo, _ := json.Marshal(ev)
	invokeStream(t, h, echo)
	if it, _ := st.GetItem(context.Background(), "us-east-1", "users", k); it.String("expires_at") != strconv.FormatInt(ttl, 10) {
		t.Fatalf("expect expires_at written back, got %v", it)
	}
	ev.Records[0].Change.NewImage["expires_at"] = lambdaevents.NewNumberAttribute(strconv.FormatInt(ttl, 10))
	echo, _ = json.Marshal(ev)
	invokeStream(t, h, echo)
	if len(sk.Events) != before || len(sk.Entries) != 1 {
		t.Fatalf("expect the echoes to publish nothing and log nothing, got %d more events, %d ledger entries", len(sk.Events)-before, len(sk.Entries))
	}
}

// TestMisplacedWriteGoneBeforeTaggingIsLogged: a misplaced record deleted
// before the tagger reads it (its REMOVE follows in the stream) leaves a
// violation entry all the same, decided "gone"; a compliant one leaves
// nothing. Neither fails the batch, nor is catalogued or announced.
func TestMisplacedWriteGoneBeforeTaggingIsLogged(t *testing.T) {
	for name, c := range map[string]struct {
		region, sample string
		want           int // violation entries
	}{
		"misplaced": {"us-east-1", "dynamodb-insert-misplaced.json", 1},
		"compliant": {"eu-central-1", "dynamodb-insert-compliant.json", 0},
	} {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, c.region)
			// The table does not hold the records: deleted since the write.
			if resp := invokeStream(t, h, eventstest.Sample(t, c.sample)); len(resp.BatchItemFailures) != 0 {
				t.Fatalf("expect no failures, got %+v", resp)
			}
			if len(sk.Entries) != c.want || len(sk.Events) != 0 {
				t.Fatalf("expect %d violation entries and no event, got %+v and %+v", c.want, sk.Entries, sk.Events)
			}
			if c.want == 0 {
				return
			}
			e := sk.Entries[0]
			if e.Kind != ledger.KindViolation || e.Decision != tagger.DecisionGone || e.Region != "us-east-1" || e.ToRegion != "eu-central-1" ||
				!strings.HasSuffix(e.Reference, "; the record was deleted before it was tagged") || !strings.HasPrefix(e.Record, "rec_") {
				t.Errorf("expect a violation decided gone, us-east-1 -> eu-central-1, got %+v", e)
			}
			if n, _ := st.CountEntries(context.Background(), "us-east-1"); n != 0 {
				t.Errorf("expect nothing catalogued, got %d entries", n)
			}
		})
	}
}

func TestPoisonRecordFailsAlone(t *testing.T) {
	h, st, _ := setup(t, "eu-west-1")
	payload := eventstest.Sample(t, "dynamodb-insert-malformed.json")
	apply(t, st, payload)
	resp := invokeStream(t, h, payload)
	var ev lambdaevents.DynamoDBEvent
	json.Unmarshal(payload, &ev)
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != ev.Records[1].Change.SequenceNumber {
		t.Fatalf("expect only the second record failed, got %+v", resp)
	}
	if _, err := st.GetEntry(context.Background(), "eu-west-1", "users", record.Key{"pk": "USER#u-1005", "sk": "PROFILE"}); err != nil {
		t.Fatalf("expect the good record catalogued, got %v", err)
	}
}

func TestFlushFailureFailsTheBatch(t *testing.T) {
	h, st, sk := setup(t, "eu-central-1")
	sk.Fail = errors.New("ThrottlingException")
	payload := eventstest.Sample(t, "dynamodb-insert-compliant.json")
	apply(t, st, payload)
	resp := invokeStream(t, h, payload)
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("expect both records failed when the bus fails, got %+v", resp)
	}
}

func TestOtherTriggers(t *testing.T) {
	cases := map[string]struct {
		payload string
		region  string
		wantErr string
		seedS3  bool
	}{
		"data written":                 {string(eventstest.Sample(t, "eventbridge-data-written.json")), "us-east-1", "", false},
		"data written missing subject": {`{"detail-type":"Data Written","source":"p","region":"us-east-1","detail":{"source":"w","record":{"id":"1"},"category":"events","region":"us-east-1","created_at":1}}`, "us-east-1", `missing required field "subject_id"`, false},
		"data written bad region":      {`{"detail-type":"Data Written","source":"p","detail":{"source":"w","record":{"id":"1"},"subject_id":"s","category":"events","region":"mars-1","created_at":1}}`, "us-east-1", `"mars-1"`, false},
		"s3 object":                    {string(eventstest.Sample(t, "s3-object-created.json")), "eu-west-1", "", true},
		"s3 object without metadata":   {string(eventstest.Sample(t, "s3-object-created.json")), "eu-west-1", "not found", false},
		"sqs goes elsewhere":           {string(eventstest.Sample(t, "sqs-ledger-entry.json")), "eu-west-1", "another function", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, c.region)
			if c.seedS3 {
				st.PutObject(context.Background(), record.Object{Region: "eu-west-1", Bucket: "acme-exports", Key: "users/u-2002/export-2026-11.json",
					Metadata: map[string]string{"subject-id": "u-2002", "subject-country": "GB"}})
			}
			_, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), []byte(c.payload))
			if c.wantErr == "" {
				if err != nil || len(sk.Events) == 0 {
					t.Fatalf("expect success with events, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("expect an error with %q, got %v", c.wantErr, err)
			}
		})
	}
}

// BenchmarkStreamBatch tags a 1,000-record stream batch on the embedded store.
func BenchmarkStreamBatch(b *testing.B) {
	st := sqlitetest.Open(b)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	h := &tagger.Handler{Region: "eu-central-1", Policy: policy.MustExample(), Refs: refs, Tables: st, Catalog: st, Contracts: st, Objects: st,
		Bus: &fakes.Sink{}, Ledger: &fakes.Sink{}, Now: time.Now, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	var ev lambdaevents.DynamoDBEvent
	for i := range 1000 {
		pk := "USER#b-" + string(rune('a'+i%26)) + time.Duration(i).String()
		img := map[string]lambdaevents.DynamoDBAttributeValue{
			"pk": lambdaevents.NewStringAttribute(pk), "sk": lambdaevents.NewStringAttribute("PROFILE"),
			"user_id": lambdaevents.NewStringAttribute(pk[5:]), "country": lambdaevents.NewStringAttribute("DE"),
			"created_at": lambdaevents.NewStringAttribute("2026-11-20T10:00:00Z"),
		}
		st.ReplayWrite(context.Background(), "eu-central-1", "users", record.Key{"pk": pk, "sk": "PROFILE"},
			record.Item{"pk": pk, "sk": "PROFILE", "user_id": pk[5:], "country": "DE", "created_at": "2026-11-20T10:00:00Z"})
		ev.Records = append(ev.Records, lambdaevents.DynamoDBEventRecord{EventName: "INSERT", EventSource: "aws:dynamodb", AWSRegion: "eu-central-1",
			EventSourceArn: "arn:aws:dynamodb:eu-central-1:123456789012:table/users/stream/x",
			Change:         lambdaevents.DynamoDBStreamRecord{Keys: map[string]lambdaevents.DynamoDBAttributeValue{"pk": img["pk"], "sk": img["sk"]}, NewImage: img, SequenceNumber: pk}})
	}
	payload, _ := json.Marshal(ev)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		invoke := lambda.NewHandler(lambdaraw.Handler(h.Invoke)) // as the Lambda main starts it
		if _, err := invoke.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// TestTTLDeletionGetsItsOwnReceipt: a REMOVE made by DynamoDB's TTL of a
// tagged record is receipted at the REMOVE, decided deleted_by_ttl (a
// deadline the sweep missed), announced, and its catalog entry goes, so no
// sweep receipts it again. The same REMOVE by the application is not.
func TestTTLDeletionGetsItsOwnReceipt(t *testing.T) {
	for name, ttl := range map[string]bool{"by TTL": true, "by the application": false} {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, "eu-central-1")
			ctx := context.Background()
			payload := eventstest.Sample(t, "dynamodb-insert-compliant.json")
			apply(t, st, payload)
			invokeStream(t, h, payload)
			key := record.Key{"pk": "USER#u-1002", "sk": "PROFILE"}
			old, err := st.GetItem(ctx, "eu-central-1", "users", key)
			if err != nil {
				t.Fatal(err)
			}
			oldImage, _ := ddbjson.FromItem(old)
			keys, _ := ddbjson.FromKey(key)
			removedAt := time.Date(2029, 1, 2, 3, 4, 5, 0, time.UTC)
			rec := lambdaevents.DynamoDBEventRecord{EventID: "9", EventName: "REMOVE", EventSource: "aws:dynamodb", AWSRegion: "eu-central-1",
				EventSourceArn: "arn:aws:dynamodb:eu-central-1:123456789012:table/users/stream/2026-11-01T00:00:00.000",
				Change: lambdaevents.DynamoDBStreamRecord{ApproximateCreationDateTime: lambdaevents.SecondsEpochTime{Time: removedAt},
					Keys: keys, OldImage: oldImage, SequenceNumber: "900", StreamViewType: "NEW_AND_OLD_IMAGES"}}
			if ttl {
				rec.UserIdentity = &lambdaevents.DynamoDBUserIdentity{Type: "Service", PrincipalID: "dynamodb.amazonaws.com"}
			}
			st.DeleteItem(ctx, "eu-central-1", "users", key, "")
			b, _ := json.Marshal(lambdaevents.DynamoDBEvent{Records: []lambdaevents.DynamoDBEventRecord{rec}})
			sk.Entries, sk.Events = nil, nil
			if resp := invokeStream(t, h, b); len(resp.BatchItemFailures) != 0 {
				t.Fatalf("expect no failure, got %+v", resp)
			}
			_, err = st.GetEntry(ctx, "eu-central-1", "users", key)
			if !ttl {
				// Not yet due: the entry goes, with no receipt.
				if len(sk.Entries) != 0 || !errors.Is(err, record.ErrNotFound) {
					t.Fatalf("expect no receipt and no entry, got %+v (%v)", sk.Entries, err)
				}
				return
			}
			if !errors.Is(err, record.ErrNotFound) {
				t.Fatalf("expect the catalog entry gone, got %v", err)
			}
			if len(sk.Entries) != 1 || len(sk.Events) != 1 || sk.Events[0].DetailType != "Record Deleted" {
				t.Fatalf("expect one receipt and one Record Deleted, got %+v %+v", sk.Entries, sk.Events)
			}
			e := sk.Entries[0]
			if e.Kind != ledger.KindDeletion || e.Decision != tagger.DecisionDeletedByTTL || !e.Time.Equal(removedAt) ||
				!strings.HasPrefix(e.Reference, "retention of profile: 25mo from created, due 2028-12-20T10:00:00Z; deleted by the DynamoDB TTL backstop (expires_at) at 2029-01-02T03:04:05Z") {
				t.Fatalf("expect a TTL receipt dated at the REMOVE, got %+v", e)
			}
		})
	}
}

func TestBackfillRejectsWhatIsNotWatched(t *testing.T) {
	h, _, _ := setup(t, "eu-central-1")
	for name, c := range map[string][2]string{"unwatched table": {"eu-central-1", "invoices"}, "unknown region": {"ap-south-1", "users"}} {
		if _, err := h.Backfill(context.Background(), c[0], c[1], nil); !errors.Is(err, tagger.ErrInvalid) {
			t.Errorf("%s: expect ErrInvalid, got %v", name, err)
		}
	}
}

func TestBackfillPageChecksItsRequest(t *testing.T) {
	h, st, _ := setup(t, "eu-central-1")
	h.Scanner, h.Cursors = st, h.Refs.(tagger.Sealer)
	for name, c := range map[string]string{
		"forged cursor":   `{"backfill":{"region":"eu-central-1","table":"users","cursor":"eyJwayI6IlVTRVIjdS0xMDAxIn0"}}`,
		"no region":       `{"backfill":{"table":"users"}}`,
		"segment too far": `{"backfill":{"region":"eu-central-1","table":"users","segment":2,"segments":2}}`,
		"page too large":  `{"backfill":{"region":"eu-central-1","table":"users","limit":5000}}`,
		"unwatched table": `{"backfill":{"region":"eu-central-1","table":"invoices"}}`,
		"not an object":   `{"backfill":[1]}`,
	} {
		if _, err := h.Invoke(context.Background(), []byte(c)); !errors.Is(err, tagger.ErrInvalid) {
			t.Errorf("%s: expect ErrInvalid, got %v", name, err)
		}
	}
	out, err := h.Invoke(context.Background(), []byte(`{"backfill":{"region":"eu-central-1","table":"users"}}`))
	if res, ok := out.(tagger.BackfillPageResult); err != nil || !ok || res.Items != 0 || res.NextCursor != "" || res.Segments != 1 {
		t.Fatalf("expect an empty table's one page, got %+v (%v)", out, err)
	}
}

// A stream batch's figures are metrics of its table: the misplaced sample
// is one record tagged and one violation; the malformed one a failure.
func TestStreamBatchMetrics(t *testing.T) {
	for name, c := range map[string]struct {
		region, sample             string
		tagged, violations, failed float64
	}{
		"misplaced": {"us-east-1", "dynamodb-insert-misplaced.json", 1, 1, 0},
		"malformed": {"eu-west-1", "dynamodb-insert-malformed.json", 1, 0, 1},
	} {
		t.Run(name, func(t *testing.T) {
			h, st, _ := setup(t, c.region)
			var emf bytes.Buffer
			h.Metrics = &metrics.Emitter{W: &emf, Function: "tagger", Region: c.region}
			payload := eventstest.Sample(t, c.sample)
			apply(t, st, payload)
			invokeStream(t, h, payload)
			var line map[string]any
			if err := json.Unmarshal(emf.Bytes(), &line); err != nil {
				t.Fatalf("expect one EMF line, got %v: %s", err, emf.Bytes())
			}
			if line["source"] != "users" || line[tagger.MetricRecordsTagged] != c.tagged || line[tagger.MetricViolations] != c.violations ||
				line[tagger.MetricRecordsFailed] != c.failed {
				t.Fatalf("expect %v tagged, %v violations, %v failed of users, got %s", c.tagged, c.violations, c.failed, emf.Bytes())
			}
		})
	}
}
