package events_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
)

const account = "123456789012"

// targets maps the source prefix of a sample's file name to a new value of
// the aws-lambda-go type AWS delivers it as.
var targets = map[string]func() any{
	"dynamodb":    func() any { return new(lambdaevents.DynamoDBEvent) },
	"s3":          func() any { return new(lambdaevents.S3Event) },
	"eventbridge": func() any { return new(lambdaevents.EventBridgeEvent) },
	"scheduler":   func() any { return new(lambdaevents.EventBridgeEvent) },
	"sqs":         func() any { return new(lambdaevents.SQSEvent) },
	"apigw":       func() any { return new(lambdaevents.APIGatewayV2HTTPRequest) },
}

// parseSample decodes a sample into its aws-lambda-go type, refusing fields
// the type does not know.
func parseSample(t *testing.T, name string, raw []byte) any {
	t.Helper()
	prefix, _, _ := strings.Cut(name, "-")
	newTarget, ok := targets[prefix]
	if !ok {
		t.Fatalf("expect a known source prefix (%v), got %q", sortedKeys(targets), prefix)
	}
	v := newTarget()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("expect %s to decode into %T, got %v", name, v, err)
	}
	return v
}

// paths returns the path of every object member in a JSON value, array
// elements written as [].
func paths(v any, prefix string, out map[string]bool) map[string]bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := prefix + "." + k
			out[p] = true
			paths(e, p, out)
		}
	case []any:
		for _, e := range x {
			paths(e, prefix+"[]", out)
		}
	}
	return out
}

func TestSamplesParse(t *testing.T) {
	for name, raw := range samples(t) {
		t.Run(name, func(t *testing.T) {
			v := parseSample(t, name, raw)

			// No field lost: every member of the file survives a re-encoding
			// of the aws-lambda-go value.
			var orig, again any
			if err := json.Unmarshal(raw, &orig); err != nil {
				t.Fatalf("expect JSON, got %v", err)
			}
			if err := json.Unmarshal(mustJSON(t, v), &again); err != nil {
				t.Fatalf("expect the re-encoding to be JSON, got %v", err)
			}
			want, got := paths(orig, "", map[string]bool{}), paths(again, "", map[string]bool{})
			var lost []string
			for p := range want {
				if !got[p] {
					lost = append(lost, p)
				}
			}
			slices.Sort(lost)
			if len(lost) > 0 {
				t.Errorf("expect every field to survive decoding into %T, got lost: %v", v, lost)
			}
		})
	}
}

func TestSamplesCoverEveryPrefix(t *testing.T) {
	seen := map[string]bool{}
	for name := range samples(t) {
		prefix, _, _ := strings.Cut(name, "-")
		seen[prefix] = true
	}
	for prefix := range targets {
		if !seen[prefix] {
			t.Errorf("expect a sample for source %q, got none", prefix)
		}
	}
}

// timeline is the scenario: every sample's region and event time, in the
// order `residency run` replays them.
var timeline = []struct {
	file, region, at string
}{
	{"dynamodb-insert-misplaced.json", "us-east-1", "2026-11-20T09:14:03Z"},
	{"dynamodb-insert-compliant.json", "eu-central-1", "2026-11-20T10:00:00Z"},
	{"dynamodb-insert-expired.json", "us-east-1", "2026-11-20T11:00:00Z"},
	{"dynamodb-insert-malformed.json", "eu-west-1", "2026-11-20T11:30:00Z"},
	{"s3-object-created.json", "eu-west-1", "2026-11-20T12:05:00Z"},
	{"eventbridge-data-written.json", "us-east-1", "2026-11-20T12:30:00Z"},
	{"eventbridge-record-ingest.json", "us-east-1", "2026-11-20T13:00:00Z"},
	{"dynamodb-modify-activity.json", "eu-central-1", "2026-11-21T08:00:00Z"},
	{"eventbridge-residency-violation.json", "us-east-1", "2026-11-21T08:30:00Z"},
	{"eventbridge-transfer-requested-scc.json", "eu-central-1", "2026-11-21T09:00:00Z"},
	{"eventbridge-transfer-requested-dpf.json", "eu-central-1", "2026-11-21T09:10:00Z"},
	{"eventbridge-transfer-requested-adequacy.json", "eu-central-1", "2026-11-21T09:20:00Z"},
	{"eventbridge-transfer-requested-denied.json", "eu-central-1", "2026-11-21T09:30:00Z"},
	{"eventbridge-transfer-requested-derogation.json", "eu-central-1", "2026-11-21T09:40:00Z"},
	{"eventbridge-transfer-requested-uk.json", "eu-west-1", "2026-11-21T09:50:00Z"},
	{"eventbridge-legal-hold-set.json", "us-east-1", "2026-11-21T10:00:00Z"},
	{"eventbridge-legal-hold-released.json", "us-east-1", "2026-11-21T10:30:00Z"},
	{"eventbridge-contract-ended.json", "eu-central-1", "2026-11-21T11:00:00Z"},
	{"dynamodb-remove.json", "eu-west-1", "2026-11-21T12:00:00Z"},
	{"eventbridge-erasure-requested.json", "eu-central-1", "2026-11-21T15:30:00Z"},
	{"sqs-ledger-entry.json", "eu-central-1", "2026-11-21T16:00:00Z"},
	{"scheduler-retention-sweep.json", "eu-central-1", "2026-11-22T00:00:00Z"},
	{"apigw-report.json", "eu-central-1", "2026-11-22T08:00:00Z"},
	{"apigw-verify.json", "eu-central-1", "2026-11-22T08:01:00Z"},
}

// whereAndWhen returns the region and event time of a parsed sample; every
// record of a batch must agree.
func whereAndWhen(t *testing.T, v any) (string, time.Time) {
	t.Helper()
	var region string
	var at time.Time
	one := func(r string, a time.Time) {
		if region != "" && (r != region || !a.Equal(at)) {
			t.Errorf("expect every record at %s %s, got %s %s", region, at, r, a)
		}
		region, at = r, a
	}
	switch e := v.(type) {
	case *lambdaevents.DynamoDBEvent:
		for _, r := range e.Records {
			one(r.AWSRegion, r.Change.ApproximateCreationDateTime.Time)
		}
	case *lambdaevents.S3Event:
		for _, r := range e.Records {
			one(r.AWSRegion, r.EventTime)
		}
	case *lambdaevents.EventBridgeEvent:
		one(e.Region, e.Time)
	case *lambdaevents.SQSEvent:
		for _, r := range e.Records {
			ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
			if err != nil {
				t.Fatalf("expect SentTimestamp in epoch milliseconds, got %q", r.Attributes["SentTimestamp"])
			}
			one(r.AWSRegion, time.UnixMilli(ms))
		}
	case *lambdaevents.APIGatewayV2HTTPRequest:
		region, _, _ = strings.Cut(strings.TrimPrefix(e.RequestContext.DomainName, e.RequestContext.APIID+".execute-api."), ".")
		at = time.UnixMilli(e.RequestContext.TimeEpoch)
	default:
		t.Fatalf("expect a known sample type, got %T", v)
	}
	return region, at.UTC()
}

func TestSamplesTimeline(t *testing.T) {
	all := samples(t)
	listed := map[string]bool{}
	var prev time.Time
	for _, c := range timeline {
		listed[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			raw, ok := all[c.file]
			if !ok {
				t.Fatalf("expect events/samples/%s, got no such file", c.file)
			}
			want, _ := time.Parse(time.RFC3339, c.at)
			if want.Before(prev) {
				t.Fatalf("expect the timeline in order, got %s before %s", c.at, prev)
			}
			prev = want
			region, at := whereAndWhen(t, parseSample(t, c.file, raw))
			if region != c.region {
				t.Errorf("expect region %s, got %s", c.region, region)
			}
			if !at.Equal(want) {
				t.Errorf("expect event time %s, got %s", want, at)
			}
		})
	}
	for name := range all {
		if !listed[name] {
			t.Errorf("expect %s in the timeline, got a sample the scenario does not know", name)
		}
	}
}

var (
	streamARN = regexp.MustCompile(`^arn:aws:dynamodb:(eu-central-1|eu-west-1|us-east-1):` + account + `:table/users/stream/2026-11-01T00:00:00\.000$`)
	hex32     = regexp.MustCompile(`^[0-9a-f]{32}$`)
	ref       = regexp.MustCompile(`^(sub|rec)_[0-9a-f]{32}$`)
)

func TestDynamoDBSamples(t *testing.T) {
	for name, raw := range samples(t) {
		if !strings.HasPrefix(name, "dynamodb-") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := parseSample(t, name, raw).(*lambdaevents.DynamoDBEvent)
			if len(e.Records) == 0 {
				t.Fatal("expect records, got none")
			}
			for i, r := range e.Records {
				if m := streamARN.FindStringSubmatch(r.EventSourceArn); m == nil || m[1] != r.AWSRegion {
					t.Errorf("record %d: expect the users stream ARN of %s, got %q", i, r.AWSRegion, r.EventSourceArn)
				}
				if r.EventSource != "aws:dynamodb" || r.EventVersion != "1.1" || !hex32.MatchString(r.EventID) {
					t.Errorf("record %d: expect aws:dynamodb 1.1 with a hex event id, got %s %s %q", i, r.EventSource, r.EventVersion, r.EventID)
				}
				c := r.Change
				if c.StreamViewType != "NEW_AND_OLD_IMAGES" || c.SequenceNumber == "" || c.SizeBytes <= 0 {
					t.Errorf("record %d: expect NEW_AND_OLD_IMAGES, a sequence number and a size, got %q %q %d", i, c.StreamViewType, c.SequenceNumber, c.SizeBytes)
				}
				if len(c.Keys) != 2 || c.Keys["pk"].String() == "" || c.Keys["sk"].String() == "" {
					t.Errorf("record %d: expect keys pk and sk, got %v", i, sortedKeys(c.Keys))
				}
				var wantNew, wantOld bool
				switch r.EventName {
				case "INSERT":
					wantNew = true
				case "MODIFY":
					wantNew, wantOld = true, true
				case "REMOVE":
					wantOld = true
				default:
					t.Errorf("record %d: expect INSERT, MODIFY or REMOVE, got %q", i, r.EventName)
				}
				if (c.NewImage != nil) != wantNew || (c.OldImage != nil) != wantOld {
					t.Errorf("record %d: %s: expect new image %v and old image %v, got %v and %v", i, r.EventName, wantNew, wantOld, c.NewImage != nil, c.OldImage != nil)
				}
				for _, img := range []map[string]lambdaevents.DynamoDBAttributeValue{c.NewImage, c.OldImage} {
					for _, k := range []string{"pk", "sk"} {
						if img != nil && img[k].String() != c.Keys[k].String() {
							t.Errorf("record %d: expect image %s %q, got %q", i, k, c.Keys[k].String(), img[k].String())
						}
					}
				}
			}
		})
	}
}

func TestDynamoDBSamplesScenario(t *testing.T) {
	all := samples(t)
	// users returns user_id (or "-" when absent) and country of every new
	// image, or of the old image of a REMOVE.
	users := func(t *testing.T, file string) []string {
		e := parseSample(t, file, all[file]).(*lambdaevents.DynamoDBEvent)
		var out []string
		for _, r := range e.Records {
			img := r.Change.NewImage
			if img == nil {
				img = r.Change.OldImage
			}
			id := "-"
			if v, ok := img["user_id"]; ok {
				id = v.String()
			}
			out = append(out, r.EventName+" "+id+" "+img["country"].String()+" "+img["created_at"].String())
		}
		return out
	}
	cases := map[string][]string{
		"dynamodb-insert-misplaced.json": {"INSERT u-1001 FR 2026-11-20T09:14:03Z"},
		"dynamodb-insert-compliant.json": {"INSERT u-1002 DE 2026-11-20T10:00:00Z", "INSERT u-1004 CH 2026-11-20T10:00:00Z"},
		"dynamodb-insert-expired.json":   {"INSERT u-0042 US 2023-05-02T12:00:00Z", "INSERT u-0043 US 2023-06-10T08:30:00Z"},
		"dynamodb-insert-malformed.json": {"INSERT u-1005 GB 2026-11-20T11:30:00Z", "INSERT - GB 2026-11-20T11:30:00Z"},
		"dynamodb-modify-activity.json":  {"MODIFY u-1002 DE 2026-11-20T10:00:00Z"},
		"dynamodb-remove.json":           {"REMOVE u-1005 GB 2026-11-20T11:30:00Z"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			if diff := cmp.Diff(want, users(t, file)); diff != "" {
				t.Errorf("expect the scenario's records, got diff (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("modify updates last_seen_at only", func(t *testing.T) {
		const file = "dynamodb-modify-activity.json"
		c := parseSample(t, file, all[file]).(*lambdaevents.DynamoDBEvent).Records[0].Change
		if got := c.NewImage["last_seen_at"].String(); got != "2026-11-21T08:00:00Z" {
			t.Errorf("expect last_seen_at 2026-11-21T08:00:00Z, got %s", got)
		}
		var changed []string
		for k, v := range c.NewImage {
			if o, ok := c.OldImage[k]; !ok || !cmp.Equal(mustJSON(t, v), mustJSON(t, o)) {
				changed = append(changed, k)
			}
		}
		slices.Sort(changed)
		if diff := cmp.Diff([]string{"last_seen_at"}, changed); diff != "" {
			t.Errorf("expect only last_seen_at to change, got diff (-want +got):\n%s", diff)
		}
	})
}

func TestS3SampleAndFixture(t *testing.T) {
	const name = "s3-object-created.json"
	e := parseSample(t, name, samples(t)[name]).(*lambdaevents.S3Event)
	raw, err := os.ReadFile("fixtures/s3-objects.json")
	if err != nil {
		t.Fatalf("expect events/fixtures/s3-objects.json, got %v", err)
	}
	var fx struct {
		Objects []struct {
			Region       string            `json:"region"`
			Bucket       string            `json:"bucket"`
			Key          string            `json:"key"`
			LastModified time.Time         `json:"last_modified"`
			Metadata     map[string]string `json:"metadata"`
		} `json:"objects"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&fx); err != nil {
		t.Fatalf("expect the fixture to decode, got %v", err)
	}
	for _, r := range e.Records {
		if r.EventName != "ObjectCreated:Put" || r.S3.Bucket.Name != "acme-exports" || !strings.HasPrefix(r.S3.Object.Key, "users/") {
			t.Errorf("expect ObjectCreated:Put under acme-exports/users/, got %s %s/%s", r.EventName, r.S3.Bucket.Name, r.S3.Object.Key)
		}
		found := false
		for _, o := range fx.Objects {
			if o.Region == r.AWSRegion && o.Bucket == r.S3.Bucket.Name && o.Key == r.S3.Object.URLDecodedKey {
				found = true
				if !o.LastModified.Equal(r.EventTime) {
					t.Errorf("expect last_modified %s, got %s", r.EventTime, o.LastModified)
				}
				want := map[string]string{"subject-id": "u-2002", "subject-country": "GB"}
				if diff := cmp.Diff(want, o.Metadata); diff != "" {
					t.Errorf("expect the policy's metadata, got diff (-want +got):\n%s", diff)
				}
			}
		}
		if !found {
			t.Errorf("expect a fixture object for %s s3://%s/%s, got none", r.AWSRegion, r.S3.Bucket.Name, r.S3.Object.Key)
		}
	}
}

func TestEventBridgeSamples(t *testing.T) {
	for name, raw := range samples(t) {
		if !strings.HasPrefix(name, "eventbridge-") && !strings.HasPrefix(name, "scheduler-") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := parseSample(t, name, raw).(*lambdaevents.EventBridgeEvent)
			if e.Version != "0" || e.AccountID != account || e.ID == "" || e.Resources == nil {
				t.Errorf("expect version 0, account %s, an id and resources, got %q %q %q %v", account, e.Version, e.AccountID, e.ID, e.Resources)
			}
			var want string
			switch {
			case strings.HasPrefix(name, "scheduler-"):
				want = "aws.scheduler"
				if e.DetailType != "Scheduled Event" || string(e.Detail) != "{}" {
					t.Errorf("expect a Scheduled Event with an empty detail, got %q %s", e.DetailType, e.Detail)
				}
			case slices.Contains(events.Published, e.DetailType):
				want = events.Source
			case slices.Contains(events.Consumed, e.DetailType):
				want = "com.acme.platform"
			default:
				t.Fatalf("expect a consumed or published detail type, got %q", e.DetailType)
			}
			if e.Source != want {
				t.Errorf("expect source %q, got %q", want, e.Source)
			}
		})
	}
}

func TestEventBridgeSamplesCoverConsumed(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range detailSamples(t) {
		seen[e.DetailType] = true
	}
	for _, dt := range events.Consumed {
		if !seen[dt] {
			t.Errorf("expect a sample of %q, got none", dt)
		}
	}
}

// decodeAs decodes with the generic events.Decode of T.
func decodeAs[T any, PT interface {
	*T
	events.Detail
}](raw []byte) (events.Detail, error) {
	v, err := events.Decode[T, PT](raw)
	return PT(&v), err
}

// decoders holds events.Decode for the Go type of every detail type.
var decoders = map[string]func([]byte) (events.Detail, error){
	events.DataWritten:        decodeAs[events.DataWrittenDetail],
	events.RecordIngest:       decodeAs[events.RecordIngestDetail],
	events.TransferRequested:  decodeAs[events.TransferRequestedDetail],
	events.LegalHoldSet:       decodeAs[events.LegalHoldDetail],
	events.LegalHoldReleased:  decodeAs[events.LegalHoldDetail],
	events.ContractEnded:      decodeAs[events.ContractEndedDetail],
	events.ErasureRequested:   decodeAs[events.ErasureRequestedDetail],
	events.RecordTagged:       decodeAs[events.RecordTaggedDetail],
	events.ResidencyViolation: decodeAs[events.ResidencyViolationDetail],
	events.RecordRelocated:    decodeAs[events.RecordRelocatedDetail],
	events.TransferDecided:    decodeAs[events.TransferDecidedDetail],
	events.RetentionExpired:   decodeAs[events.RetentionExpiredDetail],
	events.RecordDeleted:      decodeAs[events.RecordDeletedDetail],
	events.ErasureCompleted:   decodeAs[events.ErasureCompletedDetail],
}

func TestEventBridgeSampleDetails(t *testing.T) {
	for name, e := range detailSamples(t) {
		t.Run(name, func(t *testing.T) {
			if err := validate(t, e.DetailType, e.Detail); err != nil {
				t.Errorf("expect the detail to match the %s schema, got %v", e.DetailType, err)
			}
			decode, ok := decoders[e.DetailType]
			if !ok {
				t.Fatalf("expect a decoder for %q, got none", e.DetailType)
			}
			got, err := decode(e.Detail)
			if err != nil {
				t.Fatalf("expect the detail to decode, got %v", err)
			}
			dyn, err := events.DecodeDetail(e.DetailType, e.Detail)
			if err != nil {
				t.Fatalf("expect DecodeDetail to decode, got %v", err)
			}
			if diff := cmp.Diff(got, dyn); diff != "" {
				t.Errorf("expect Decode and DecodeDetail to agree, got diff (-Decode +DecodeDetail):\n%s", diff)
			}
			// What Residency re-encodes still matches the schema.
			if err := validate(t, e.DetailType, mustJSON(t, got)); err != nil {
				t.Errorf("expect the re-encoded detail to match the schema, got %v", err)
			}
		})
	}
}

func TestSQSLedgerSample(t *testing.T) {
	const name = "sqs-ledger-entry.json"
	e := parseSample(t, name, samples(t)[name]).(*lambdaevents.SQSEvent)
	if len(e.Records) != 1 {
		t.Fatalf("expect 1 message, got %d", len(e.Records))
	}
	m := e.Records[0]
	if m.EventSource != "aws:sqs" || m.EventSourceARN != "arn:aws:sqs:eu-central-1:"+account+":residency-ledger.fifo" {
		t.Errorf("expect the ledger FIFO queue, got %s %s", m.EventSource, m.EventSourceARN)
	}
	sum := md5.Sum([]byte(m.Body))
	if got := hex.EncodeToString(sum[:]); got != m.Md5OfBody {
		t.Errorf("expect md5OfBody %s, got %s", got, m.Md5OfBody)
	}
	if err := validate(t, events.LedgerEntry, []byte(m.Body)); err != nil {
		t.Errorf("expect the body to match the ledger entry schema, got %v", err)
	}
	var entry struct {
		ID         string `json:"id"`
		Region     string `json:"region"`
		Record     string `json:"record"`
		SubjectRef string `json:"subject_ref"`
	}
	if err := json.Unmarshal([]byte(m.Body), &entry); err != nil {
		t.Fatalf("expect a JSON body, got %v", err)
	}
	if got := m.Attributes["MessageDeduplicationId"]; got != entry.ID {
		t.Errorf("expect MessageDeduplicationId %s, got %s", entry.ID, got)
	}
	if got := m.Attributes["MessageGroupId"]; got != entry.Region {
		t.Errorf("expect MessageGroupId %s, got %s", entry.Region, got)
	}
	for _, r := range []string{entry.Record, entry.SubjectRef} {
		if !ref.MatchString(r) {
			t.Errorf("expect a keyed reference, no raw personal data, got %q", r)
		}
	}
}

func TestAPIGatewaySamples(t *testing.T) {
	cases := map[string]struct {
		path  string
		query map[string]string
	}{
		"apigw-report.json": {"/v1/report", map[string]string{"from": "2026-11-01", "to": "2026-11-30", "format": "json"}},
		"apigw-verify.json": {"/v1/verify", nil},
	}
	all := samples(t)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := parseSample(t, name, all[name]).(*lambdaevents.APIGatewayV2HTTPRequest)
			if r.Version != "2.0" || r.RouteKey != "GET "+c.path || r.RawPath != c.path || r.RequestContext.HTTP.Method != "GET" {
				t.Errorf("expect GET %s on an HTTP API, got %s %s %s", c.path, r.Version, r.RouteKey, r.RawPath)
			}
			if diff := cmp.Diff(c.query, r.QueryStringParameters); diff != "" {
				t.Errorf("expect the query parameters, got diff (-want +got):\n%s", diff)
			}
			q, err := url.ParseQuery(r.RawQueryString)
			if err != nil {
				t.Fatalf("expect a raw query string, got %v", err)
			}
			flat := map[string]string{}
			for k, v := range q {
				flat[k] = strings.Join(v, ",")
			}
			if len(flat) == 0 {
				flat = nil
			}
			if diff := cmp.Diff(r.QueryStringParameters, flat); diff != "" {
				t.Errorf("expect rawQueryString to agree with queryStringParameters, got diff:\n%s", diff)
			}
			a := r.RequestContext.Authorizer
			if a == nil || a.IAM == nil {
				t.Fatal("expect an IAM authorizer context, got none")
			}
			if a.IAM.AccountID != account || a.IAM.AccessKey == "" || a.IAM.CallerID == "" ||
				!strings.HasPrefix(a.IAM.UserARN, "arn:aws:sts::"+account+":assumed-role/ResidencyCompliance/") {
				t.Errorf("expect the compliance role of account %s, got %+v", account, a.IAM)
			}
		})
	}
}
