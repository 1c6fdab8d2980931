package awse2e

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/events/eventstest"
	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// The retention function on DynamoDB through moto_server: records written to
// the users table, tagged and catalogued by the tagger from the real stream,
// swept on the schedule's event, with the platform's hold, contract and
// erasure events, receipts appended by the ledger function from the FIFO
// queue, and the published events read from the bus's rule's queue.

const opDeleteItem = "DynamoDB_20120810.DeleteItem"

// Failures the proxy (the throttler) answers with, in the services' JSON
// protocols; the SDK retries neither, so the request fails at once.
const (
	// The role lost dynamodb:DeleteItem in the middle of a sweep.
	ddbAccessDenied = "com.amazon.coral.service#AccessDeniedException"
	// The ledger queue's KMS key became unusable.
	sqsKMSAccessDenied = "com.amazonaws.sqs#KmsAccessDenied"
)

const examplePolicy = "../../shared/policy/example.yaml"

// clock is the functions' clock, moved by the tests. The tagger and the
// retention function share it: the tagger keeps the catalog entries of due
// records when their deletions stream by, judged by its own clock.
type clock struct{ current time.Time }

func (c *clock) now() time.Time { return c.current }

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// stack is one region's functions on the world's moto, wired as their
// Lambda mains wire them from the environment the region's stack gives them:
// its bus (with a rule delivering the retention function's events to a
// queue), its ledger FIFO queue, its HMAC key.
type stack struct {
	w         *world
	region    string
	policy    string // the policy file (RESIDENCY_POLICY)
	clock     *clock
	sqs       *sqs.Client
	ledgerQ   string
	outbox    string // the queue of Retention Expired, Record Deleted, Erasure Completed
	hmacKey   string
	tagger    *tagger.Handler
	retention *retention.Handler
	ledger    *ledgerfn.Handler
	streams   *dynamodbstreams.Client // outside us-east-1, whose stream the world reads
	stream    shardReader
}

func newStack(w *world, region, policyFile string, clk *clock) *stack {
	t := w.t
	cfg := mototest.Config(t, region)
	s := &stack{w: w, region: region, policy: policyFile, clock: clk, sqs: w.sqs, ledgerQ: w.ledgerQ}
	eb := eventbridge.NewFromConfig(cfg)
	if region != us { // the world has us-east-1's bus and ledger queue
		s.sqs = sqs.NewFromConfig(cfg)
		s.streams = dynamodbstreams.NewFromConfig(cfg)
		if _, err := eb.CreateEventBus(w.ctx, &eventbridge.CreateEventBusInput{Name: aws.String("residency")}); err != nil {
			t.Fatal(err)
		}
		q, err := s.sqs.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String(awsenv.DefaultLedgerQueue),
			Attributes: map[string]string{"FifoQueue": "true"}})
		if err != nil {
			t.Fatal(err)
		}
		s.ledgerQ = aws.ToString(q.QueueUrl)
	}
	q, err := s.sqs.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String("retention-events")})
	if err != nil {
		t.Fatal(err)
	}
	s.outbox = aws.ToString(q.QueueUrl)
	attrs, err := s.sqs.GetQueueAttributes(w.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String("retention-events"), EventBusName: aws.String("residency"),
		EventPattern: aws.String(`{"source":["residency"],"detail-type":["Retention Expired","Record Deleted","Erasure Completed"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("retention-events"), EventBusName: aws.String("residency"),
		Targets: []ebtypes.Target{{Id: aws.String("consumer"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	key, err := kms.NewFromConfig(cfg).CreateKey(w.ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256,
		KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	s.hmacKey = aws.ToString(key.KeyMetadata.KeyId)

	// As functions/tagger/lambda/main.go and functions/ledger/lambda/main.go
	// wire them (the logger aside).
	app, p := s.load("tagger", mototest.Endpoint(t))
	store := app.Store()
	s.tagger = &tagger.Handler{Region: app.Region, Policy: p, Refs: app.Refs, Tables: store, Catalog: store, Contracts: store,
		Objects: &s3objects.Objects{API: s3.NewFromConfig(app.Config)}, Bus: &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: clk.now, Log: quiet}
	s.ledger = &ledgerfn.Handler{Store: store, Log: quiet, Region: app.Region}
	s.retention = s.retentionVia(mototest.Endpoint(t))
	return s
}

// load reads the function's environment, as its Lambda main does, with the
// SDK sending every request to endpoint.
func (s *stack) load(fn, endpoint string) (*awsapp.App, *policy.Policy) {
	t := s.w.t
	for k, v := range map[string]string{
		"AWS_REGION": s.region, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_ENDPOINT_URL": endpoint, awsenv.Regions: us + "," + eu, awsenv.Policy: s.policy, awsenv.EventBus: "residency",
		awsenv.LedgerQueueURL: s.ledgerQ, awsenv.HMACKeyID: s.hmacKey, awsenv.CatalogTable: "residency-catalog", awsenv.LedgerTable: "residency-ledger",
	} {
		t.Setenv(k, v)
	}
	app, err := awsapp.Load(s.w.ctx, fn, awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Load(os.Getenv(awsenv.Policy)) // awspolicy.MustLoad, without the exit
	if err != nil {
		t.Fatal(err)
	}
	return app, p
}

// retentionVia wires the retention function exactly as
// functions/retention/lambda/main.go does (the clock and logger aside), its
// SDK clients sending to endpoint: moto, or a proxy in front of it.
func (s *stack) retentionVia(endpoint string) *retention.Handler {
	app, p := s.load("retention", endpoint)
	store := app.Store()
	return &retention.Handler{Region: app.Region, Policy: p, Refs: app.Refs, Catalog: store, Holds: store,
		Contracts: store, Tables: store, Objects: &s3objects.Objects{API: s3.NewFromConfig(app.Config)},
		Bus:    &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: s.clock.now, Log: quiet}
}

// regional is the world seen from this stack's region: its SQS client,
// ledger queue and ledger function, so the world's helpers serve it.
func (s *stack) regional() *world {
	w := *s.w
	w.sqs, w.ledgerQ, w.ledger = s.sqs, s.ledgerQ, s.ledger
	return &w
}

// put writes a record to the region's users table, as the platform does.
func (s *stack) put(item record.Item) {
	key := record.Key{"pk": item["pk"], "sk": item["sk"]}
	if err := s.w.store.PutItem(s.w.ctx, s.region, "users", key, item, false); err != nil {
		s.w.t.Fatal(err)
	}
}

func (s *stack) exists(key record.Key) bool {
	_, err := s.w.store.GetItem(s.w.ctx, s.region, "users", key)
	if err != nil && !errors.Is(err, record.ErrNotFound) {
		s.w.t.Fatal(err)
	}
	return err == nil
}

// streamBatch reads the region's users stream records written since the
// last call, as Lambda's event source mapping delivers them.
func (s *stack) streamBatch() []byte {
	if s.streams == nil {
		return s.w.streamBatch()
	}
	var ev lambdaevents.DynamoDBEvent
	for _, r := range s.stream.next(s.w.t, s.w.ctx, s.w.ddb[s.region], s.streams) {
		rec := toLambda(s.w.t, r)
		rec.EventSourceArn = "arn:aws:dynamodb:" + s.region + ":123456789012:table/users/stream/moto"
		ev.Records = append(ev.Records, rec)
	}
	b, _ := json.Marshal(ev)
	return b
}

// maxSettleRecords is the most stream records tagWrites reads before it
// calls the tagger's writes an echo loop.
const maxSettleRecords = 500

// tagWrites runs the tagger on what the stream holds (the platform's writes,
// deletions), then on the echo of its own writes, until the stream is
// quiet; it returns how many batches that took.
func (s *stack) tagWrites() int {
	records := 0
	for n := 0; ; n++ {
		batch := s.streamBatch()
		if !strings.Contains(string(batch), "eventName") {
			return n
		}
		// moto's GetRecords may split the stream's records across reads
		// as it likes (under load, down to a record a read: the fresh-clone
		// CI saw a retag's echo as a 21st batch), so the batches it takes
		// to settle say nothing. What an echo loop cannot do is settle: it
		// writes records without end, so the bound is on records, far
		// above what the tests write between two calls (a few dozen).
		if records += strings.Count(string(batch), `"eventName"`); records > maxSettleRecords {
			s.w.t.Fatalf("expect the tagger's writes to settle, got %d stream records in %d batches, the last %s", records, n+1, batch)
		}
		var resp lambdaevents.DynamoDBEventResponse
		if err := json.Unmarshal(s.w.invoke(s.tagger.Invoke, batch), &resp); err != nil {
			s.w.t.Fatal(err)
		}
		if len(resp.BatchItemFailures) > 0 {
			s.w.t.Fatalf("expect every stream record tagged, got failures %+v", resp.BatchItemFailures)
		}
	}
}

// sample is a golden sample of events/samples for region, with detail in
// place of the sample's (nil: the sample's own).
func sample(t *testing.T, name, region string, detail any) []byte {
	t.Helper()
	b := eventstest.Sample(t, name+".json")
	var ev map[string]json.RawMessage
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	ev["region"], _ = json.Marshal(region)
	if detail != nil {
		ev["detail"], _ = json.Marshal(detail)
	}
	b, _ = json.Marshal(ev)
	return b
}

// sweepResponse is the sweep's JSON response, as the contract names its
// fields.
type sweepResponse struct {
	Region    string `json:"region"`
	Due       int    `json:"due"`
	Deleted   int    `json:"deleted"`
	Held      int    `json:"held"`
	Emitted   int    `json:"emitted"`
	Changed   int    `json:"changed"`
	ItemsRead int    `json:"items_read"`
	Complete  bool   `json:"complete"`
}

// sweep invokes the retention function with EventBridge Scheduler's event.
func (s *stack) sweep() sweepResponse {
	var r sweepResponse
	out := s.w.invoke(s.retention.Invoke, sample(s.w.t, "scheduler-retention-sweep", s.region, nil))
	if err := json.Unmarshal(out, &r); err != nil {
		s.w.t.Fatalf("expect the sweep's JSON response, got %s (%v)", out, err)
	}
	return r
}

// event delivers a platform event to the retention function, as the
// stack's rule does, and returns its response.
func (s *stack) event(name string, detail any) []byte {
	return s.w.invoke(s.retention.Invoke, sample(s.w.t, name, s.region, detail))
}

// receipts flushes the ledger queue through the ledger function and returns
// the region's deletion receipts by record reference, failing on a broken
// chain, a duplicate id or a record with two receipts.
func (s *stack) receipts() map[string]ledger.Entry {
	t := s.w.t
	s.regional().flushLedger()
	out := map[string]ledger.Entry{}
	ids := map[string]bool{}
	v := ledger.NewVerifier(s.region)
	err := s.w.store.ScanChain(s.w.ctx, s.region, func(e *ledger.Entry) error {
		if err := v.Add(e); err != nil {
			return err
		}
		if ids[e.ID] {
			t.Errorf("expect each ledger id once, got %s twice", e.ID)
		}
		ids[e.ID] = true
		if e.Kind != ledger.KindDeletion || e.Decision == ledger.DecisionErasureRequested {
			return nil // the request's own entry is not a receipt
		}
		if prev, ok := out[e.Record]; ok {
			t.Errorf("expect one receipt per record, got %s and %s for %s", prev.ID, e.ID, e.Record)
		}
		out[e.Record] = *e
		return nil
	})
	if err != nil {
		t.Fatalf("expect an intact %s chain, got %v", s.region, err)
	}
	return out
}

// rawLedger is every attribute value of the region's ledger table, as
// stored: entries, head, idempotency items.
func (s *stack) rawLedger() string {
	out, err := s.w.ddb[s.region].Scan(s.w.ctx, &dynamodb.ScanInput{TableName: aws.String("residency-ledger")})
	if err != nil {
		s.w.t.Fatal(err)
	}
	var b strings.Builder
	for _, it := range out.Items {
		for k, v := range it {
			switch x := v.(type) {
			case *ddbtypes.AttributeValueMemberS:
				b.WriteString(k + "=" + x.Value + "\n")
			case *ddbtypes.AttributeValueMemberN:
				b.WriteString(k + "=" + x.Value + "\n")
			}
		}
	}
	return b.String()
}

// published drains the events the bus's rule delivered, by detail-type.
func (s *stack) published() map[string][]json.RawMessage {
	out := map[string][]json.RawMessage{}
	for _, m := range s.regional().receive(s.outbox).Records {
		var ev lambdaevents.EventBridgeEvent
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
			s.w.t.Fatalf("expect an EventBridge event, got %s", m.Body)
		}
		if ev.Source != events.Source {
			s.w.t.Errorf("expect source %s, got %s", events.Source, ev.Source)
		}
		out[ev.DetailType] = append(out[ev.DetailType], ev.Detail)
	}
	return out
}

func decodeAll[T any](t *testing.T, raws []json.RawMessage) []T {
	t.Helper()
	out := make([]T, len(raws))
	for i, r := range raws {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("decode %s: %v", r, err)
		}
	}
	return out
}

func profileKey(subject string) record.Key {
	return record.Key{"pk": "USER#" + subject, "sk": "PROFILE"}
}

// profile is a users record of subject, created at created.
func profile(subject, country, created string) record.Item {
	return record.Item{"pk": "USER#" + subject, "sk": "PROFILE", "user_id": subject, "country": country, "created_at": created}
}

// The hourly sweep deletes exactly the due records no hold covers, each
// with a receipt in the region's ledger and its events on the bus; it does
// nothing more when run again; released holds make their records due.
func TestRetentionSweepOnDynamoDB(t *testing.T) {
	w := setup(t)
	clk := &clock{current: at("2026-11-22T00:00:00Z")} // the schedule's hour
	s := newStack(w, us, examplePolicy, clk)
	refs := s.retention.Refs

	// GIVEN three profiles past their retention (25 months after creation
	// ended yesterday), one not yet due, one due under a hold on its
	// subject, one due under a hold on the record itself
	due, held, notDue := []string{"u-3001", "u-3002", "u-3003"}, []string{"u-3005", "u-3006"}, "u-3004"
	for _, id := range append(slices.Clone(due), held...) {
		s.put(profile(id, "US", "2024-10-21T09:00:00Z"))
	}
	s.put(profile(notDue, "US", "2024-12-01T09:00:00Z"))
	s.tagWrites()
	all := append(append(slices.Clone(due), held...), notDue)
	for _, id := range all {
		if es, err := w.store.EntriesBySubject(w.ctx, us, refs.Subject(id)); err != nil || len(es) != 1 {
			t.Fatalf("expect %s catalogued once, got %d entries (%v)", id, len(es), err)
		}
	}
	s.event("eventbridge-legal-hold-set", events.LegalHoldDetail{HoldID: "hold-3005", SubjectID: "u-3005", Reason: "litigation hold"})
	s.event("eventbridge-legal-hold-set", events.LegalHoldDetail{HoldID: "hold-3006", Source: "users", Record: profileKey("u-3006"), Reason: "audit"})

	// WHEN the schedule invokes the retention function
	res := s.sweep()

	// THEN it reports the due records, the deleted ones and the held ones;
	// it read the due entries, and the holds that kept two of them
	want := sweepResponse{Region: us, Due: 5, Deleted: 3, Held: 2, Emitted: 3, ItemsRead: 5 + 2, Complete: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("sweep response (-want +got):\n%s", diff)
	}
	// AND exactly the due unheld records are gone, with their catalog entries
	for _, id := range all {
		kept := !slices.Contains(due, id)
		if s.exists(profileKey(id)) != kept {
			t.Errorf("expect %s kept: %v, got the opposite", id, kept)
		}
		if es, _ := w.store.EntriesBySubject(w.ctx, us, refs.Subject(id)); (len(es) == 1) != kept {
			t.Errorf("expect %s's catalog entry kept: %v, got %d entries", id, kept, len(es))
		}
	}
	// AND each deletion has its receipt in us-east-1's chain
	receipts := s.receipts()
	if len(receipts) != len(due) {
		t.Fatalf("expect %d receipts, got %d", len(due), len(receipts))
	}
	for _, id := range due {
		r, ok := receipts[refs.Record("users", profileKey(id))]
		if !ok {
			t.Errorf("expect a receipt for %s", id)
			continue
		}
		if r.Region != us || r.Source != "users" || r.SubjectRef != refs.Subject(id) || r.Category != "profile" ||
			r.Decision != "deleted" || r.Actor != retention.Actor || !strings.Contains(r.Reference, "due 2026-11-21T09:00:00Z") {
			t.Errorf("expect %s's retention receipt, got %+v", id, r)
		}
	}
	// AND Retention Expired and Record Deleted reached the bus, the latter
	// naming each receipt
	pub := s.published()
	expired := decodeAll[events.RetentionExpiredDetail](t, pub[events.RetentionExpired])
	deleted := decodeAll[events.RecordDeletedDetail](t, pub[events.RecordDeleted])
	if len(expired) != len(due) || len(deleted) != len(due) {
		t.Fatalf("expect %d Retention Expired and Record Deleted, got %d and %d", len(due), len(expired), len(deleted))
	}
	for _, d := range deleted {
		r, ok := receipts[d.RecordRef]
		if !ok || d.Receipt != r.ID || d.Reason != events.ReasonRetention || d.SubjectRef != r.SubjectRef {
			t.Errorf("expect Record Deleted to name its receipt, got %+v (receipt %+v)", d, r)
		}
	}
	for _, e := range expired {
		if _, ok := receipts[e.RecordRef]; !ok || !e.RetainUntil.Equal(at("2026-11-21T09:00:00Z")) {
			t.Errorf("expect Retention Expired of a deleted record, got %+v", e)
		}
	}

	// WHEN the deletions stream by the tagger, and the sweep runs again
	s.tagWrites()
	clk.current = clk.current.Add(time.Hour)
	res = s.sweep()

	// THEN it deletes nothing, writes no receipt, announces nothing
	want = sweepResponse{Region: us, Due: 2, Held: 2, ItemsRead: 4, Complete: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("second sweep response (-want +got):\n%s", diff)
	}
	if got := s.receipts(); len(got) != len(due) {
		t.Fatalf("expect the ledger unchanged at %d receipts, got %d", len(due), len(got))
	}
	if got := s.published(); len(got) != 0 {
		t.Fatalf("expect no event, got %v", got)
	}

	// WHEN the holds are released, and the sweep runs
	s.event("eventbridge-legal-hold-released", events.LegalHoldDetail{HoldID: "hold-3005", SubjectID: "u-3005", Reason: "matter closed"})
	s.event("eventbridge-legal-hold-released", events.LegalHoldDetail{HoldID: "hold-3006", Source: "users", Record: profileKey("u-3006"), Reason: "audit closed"})
	clk.current = clk.current.Add(time.Hour)
	res = s.sweep()

	// THEN the held records go, with their receipts; the one not due stays
	want = sweepResponse{Region: us, Due: 2, Deleted: 2, Emitted: 2, ItemsRead: 2, Complete: true}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("sweep after the releases (-want +got):\n%s", diff)
	}
	if !s.exists(profileKey(notDue)) {
		t.Fatalf("expect %s kept", notDue)
	}
	receipts = s.receipts()
	if len(receipts) != len(due)+len(held) {
		t.Fatalf("expect %d receipts, got %d", len(due)+len(held), len(receipts))
	}
	for _, id := range held {
		if s.exists(profileKey(id)) {
			t.Errorf("expect %s deleted", id)
		}
		if r, ok := receipts[refs.Record("users", profileKey(id))]; !ok || r.SubjectRef != refs.Subject(id) {
			t.Errorf("expect %s's receipt, got %+v", id, r)
		}
	}
	if pub := s.published(); len(pub[events.RecordDeleted]) != len(held) || len(pub[events.RetentionExpired]) != len(held) {
		t.Fatalf("expect the held records' Retention Expired and Record Deleted, got %v", pub)
	}
	// AND no receipt carries a subject id or a record key in the clear
	raw := s.rawLedger()
	for _, id := range append(all, "USER#") {
		if strings.Contains(raw, id) {
			t.Fatalf("expect no %q in the ledger table, got:\n%s", id, raw)
		}
	}
}

// A sweep that fails part-way (the invocation returns an error: Lambda
// retries it, or the next hour's schedule comes) leaves nothing behind: a
// clean invocation deletes every due record, and each has exactly one
// receipt, in one unbroken chain.
func TestRetentionCrashMidSweepResumes(t *testing.T) {
	cases := map[string]struct {
		plan    map[string][]string
		failure string        // what the failed invocation's error says
		gone    int           // records deleted by the failed invocation
		resumed sweepResponse // the clean invocation's response
	}{
		// Page 1's two deletions pass, page 2's second fails, page 3 is
		// never read: the clean sweep finds page 2's failed record and
		// page 3.
		"DeleteItem fails on the second page": {
			plan:    map[string][]string{opDeleteItem: {"", "", "", ddbAccessDenied}},
			failure: "1 of 2 records not deleted",
			gone:    3,
			resumed: sweepResponse{Region: us, Due: 3, Deleted: 3, Emitted: 3, ItemsRead: 3, Complete: true},
		},
		// Page 1's records are deleted, their receipts never sent: their
		// catalog entries (which the tagger keeps when their deletions
		// stream by) are how the clean sweep finds them and writes the
		// receipts.
		"receipts not sent after the deletions": {
			plan:    map[string][]string{opSendMessageBatch: {sqsKMSAccessDenied}},
			failure: "send receipts",
			gone:    2,
			resumed: sweepResponse{Region: us, Due: 6, Deleted: 6, Emitted: 6, ItemsRead: 6, Complete: true},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := setup(t)
			clk := &clock{current: at("2026-11-22T00:00:00Z")}
			s := newStack(w, us, examplePolicy, clk)
			refs := s.retention.Refs
			// GIVEN six due records, and a retention function whose
			// requests go through a proxy, reading two due entries a page
			// (as it reads 500 in production)
			var due []string
			for i := range 6 {
				id := "u-500" + strconv.Itoa(i+1)
				due = append(due, id)
				s.put(profile(id, "US", "2024-10-21T09:00:00Z"))
			}
			s.tagWrites()
			th := newThrottler(t)
			s.retention = s.retentionVia(th.URL)
			s.retention.BatchSize = 2

			// WHEN a request of the sweep fails hard
			th.throttle(c.plan)
			_, err := lambda.NewHandler(s.retention.Invoke).Invoke(w.ctx, sample(t, "scheduler-retention-sweep", us, nil))

			// THEN the invocation fails, saying why, naming no subject
			if err == nil || !strings.Contains(err.Error(), c.failure) {
				t.Fatalf("expect the sweep to fail with %q, got %v", c.failure, err)
			}
			if strings.Contains(err.Error(), "u-500") {
				t.Fatalf("expect no subject in the error, got %v", err)
			}
			gone := 0
			for _, id := range due {
				if !s.exists(profileKey(id)) {
					gone++
				}
			}
			if gone != c.gone {
				t.Fatalf("expect the sweep stopped part-way, %d of %d records deleted, got %d", c.gone, len(due), gone)
			}

			// WHEN the deletions stream by the tagger, and the next
			// invocation runs clean
			s.tagWrites()
			res := s.sweep()

			// THEN every due record is deleted, each with exactly one
			// receipt, and no due entry is left
			if diff := cmp.Diff(c.resumed, res); diff != "" {
				t.Fatalf("clean sweep response (-want +got):\n%s", diff)
			}
			for _, id := range due {
				if s.exists(profileKey(id)) {
					t.Errorf("expect %s deleted", id)
				}
			}
			receipts := s.receipts()
			for _, id := range due {
				if _, ok := receipts[refs.Record("users", profileKey(id))]; !ok {
					t.Errorf("expect a receipt for %s", id)
				}
			}
			if len(receipts) != len(due) {
				t.Errorf("expect %d receipts, got %d", len(due), len(receipts))
			}
			left, _, err := w.store.DueEntries(w.ctx, us, clk.current, catalog.Cursor{}, 100)
			if err != nil || len(left) != 0 {
				t.Fatalf("expect no due entry left, got %+v (%v)", left, err)
			}
			// AND each record's deletion was announced once, naming its receipt
			deleted := decodeAll[events.RecordDeletedDetail](t, s.published()[events.RecordDeleted])
			announced := map[string]int{}
			for _, d := range deleted {
				announced[d.Receipt]++
			}
			for ref, r := range receipts {
				if announced[r.ID] != 1 {
					t.Errorf("expect one Record Deleted for %s, got %d", ref, announced[r.ID])
				}
			}
			if again := s.sweep(); again.Due != 0 {
				t.Fatalf("expect nothing due after the resumed sweep, got %+v", again)
			}
		})
	}
}

// An erasure request reaches every region's retention function; each
// deletes the subject's records it catalogued, with a receipt each, and
// publishes Erasure Completed with its counts. Another subject's records
// stay.
func TestErasureInEveryRegion(t *testing.T) {
	w := setup(t)
	clk := &clock{current: at("2026-11-21T15:30:00Z")}
	stacks := map[string]*stack{us: newStack(w, us, examplePolicy, clk), eu: newStack(w, eu, examplePolicy, clk)}
	// GIVEN subject u-1004's records in both regions (an American subject's
	// data may be anywhere), and u-1005's beside them
	keys := map[string][]record.Key{
		us: {profileKey("u-1004"), {"pk": "USER#u-1004", "sk": "PREFS"}},
		eu: {profileKey("u-1004")},
	}
	for region, s := range stacks {
		for _, k := range keys[region] {
			s.put(record.Item{"pk": k["pk"], "sk": k["sk"], "user_id": "u-1004", "country": "US", "created_at": "2026-11-01T08:00:00Z"})
		}
		s.put(profile("u-1005", "US", "2026-11-01T08:00:00Z"))
		s.tagWrites()
		if es, err := w.store.EntriesBySubject(w.ctx, region, s.retention.Refs.Subject("u-1004")); err != nil || len(es) != len(keys[region]) {
			t.Fatalf("expect u-1004's %d records catalogued in %s, got %d (%v)", len(keys[region]), region, len(es), err)
		}
	}

	for region, s := range stacks {
		t.Run(region, func(t *testing.T) {
			refs := s.retention.Refs
			n := len(keys[region])
			// WHEN the request reaches the region's retention function
			out := s.event("eventbridge-erasure-requested", events.ErasureRequestedDetail{RequestID: "dsr-2026-1142", SubjectID: "u-1004",
				ReceivedAt: events.At(clk.current)})

			// THEN it answers, and announces, what it did
			var resp events.ErasureCompletedDetail
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatalf("expect the erasure's JSON response, got %s", out)
			}
			completed := decodeAll[events.ErasureCompletedDetail](t, s.published()[events.ErasureCompleted])
			if len(completed) != 1 {
				t.Fatalf("expect one Erasure Completed on %s's bus, got %d", region, len(completed))
			}
			for _, d := range []events.ErasureCompletedDetail{resp, completed[0]} {
				if d.RequestID != "dsr-2026-1142" || d.Region != region || d.SubjectRef != refs.Subject("u-1004") ||
					d.Deleted != n || d.Held != 0 || len(d.Receipts) != n {
					t.Errorf("expect %d deleted, 0 held, %d receipts, got %+v", n, n, d)
				}
			}
			// AND the subject's records are gone, each with its receipt
			receipts := s.receipts()
			if len(receipts) != n {
				t.Fatalf("expect %d receipts in %s's chain, got %d", n, region, len(receipts))
			}
			for _, k := range keys[region] {
				if s.exists(k) {
					t.Errorf("expect %v deleted", k)
				}
				r, ok := receipts[refs.Record("users", k)]
				if !ok || !slices.Contains(resp.Receipts, r.ID) || r.SubjectRef != refs.Subject("u-1004") ||
					r.Decision != "deleted" || !strings.Contains(r.Reference, "erasure request dsr-2026-1142") {
					t.Errorf("expect %v's erasure receipt, got %+v", k, r)
				}
			}
			if raw := s.rawLedger(); strings.Contains(raw, "u-1004") {
				t.Errorf("expect no subject id in %s's ledger table, got:\n%s", region, raw)
			}
			if es, _ := w.store.EntriesBySubject(w.ctx, region, refs.Subject("u-1004")); len(es) != 0 {
				t.Errorf("expect u-1004's catalog entries gone, got %+v", es)
			}
			// AND the other subject's record and entry stay
			if !s.exists(profileKey("u-1005")) {
				t.Error("expect u-1005's record kept")
			}
			if es, _ := w.store.EntriesBySubject(w.ctx, region, refs.Subject("u-1005")); len(es) != 1 {
				t.Errorf("expect u-1005's catalog entry kept, got %d", len(es))
			}

			// WHEN EventBridge delivers the request again
			s.event("eventbridge-erasure-requested", events.ErasureRequestedDetail{RequestID: "dsr-2026-1142", SubjectID: "u-1004",
				ReceivedAt: events.At(clk.current)})

			// THEN no receipt is added and the other subject's record stays
			if again := s.receipts(); len(again) != n {
				t.Errorf("expect the ledger unchanged at %d receipts, got %d", n, len(again))
			}
			if !s.exists(profileKey("u-1005")) {
				t.Error("expect u-1005's record kept")
			}
		})
	}
}

// An erasure that stopped after its deletions, before its receipts (the
// ledger queue failed), is finished by whichever comes first: the event's
// retry or the hourly sweep. Either way each record gets one receipt, and
// it must say the record was erased on that request.
func TestErasureStoppedBeforeItsReceiptsIsFinishedAsAnErasure(t *testing.T) {
	w := setup(t)
	clk := &clock{current: at("2026-11-21T15:30:00Z")}
	s := newStack(w, us, examplePolicy, clk)
	refs := s.retention.Refs
	keys := []record.Key{profileKey("u-1004"), {"pk": "USER#u-1004", "sk": "PREFS"}}
	for _, k := range keys {
		s.put(record.Item{"pk": k["pk"], "sk": k["sk"], "user_id": "u-1004", "country": "US", "created_at": "2026-11-01T08:00:00Z"})
	}
	s.put(profile("u-1005", "US", "2026-11-01T08:00:00Z"))
	s.tagWrites()
	request := sample(t, "eventbridge-erasure-requested", us, events.ErasureRequestedDetail{RequestID: "dsr-2026-1142", SubjectID: "u-1004",
		ReceivedAt: events.At(clk.current)})

	// GIVEN an erasure whose receipts could not be sent
	th := newThrottler(t)
	// (the request's own entry, sent first, has no category: it goes)
	th.throttleOnly(opSendMessageBatch, "profile", []string{sqsKMSAccessDenied})
	if _, err := lambda.NewHandler(s.retentionVia(th.URL).Invoke).Invoke(w.ctx, request); err == nil || !strings.Contains(err.Error(), "send receipts") {
		t.Fatalf("expect the erasure to fail sending its receipts, got %v", err)
	}
	for _, k := range keys {
		if s.exists(k) {
			t.Fatalf("expect %v deleted before the receipts failed", k)
		}
	}
	s.tagWrites() // the deletions stream by

	// WHEN the hourly sweep runs before the event's retry, then the retry
	clk.current = at("2026-11-21T16:00:00Z")
	s.sweep()
	s.w.invoke(s.retention.Invoke, request)

	// THEN each record has one receipt, and the other subject's record stays
	receipts := s.receipts()
	if len(receipts) != len(keys) {
		t.Fatalf("expect %d receipts, got %d", len(keys), len(receipts))
	}
	if !s.exists(profileKey("u-1005")) {
		t.Fatal("expect u-1005's record kept")
	}
	published := s.published()
	deleted := decodeAll[events.RecordDeletedDetail](t, published[events.RecordDeleted])
	if len(deleted) != len(keys) || len(published[events.RetentionExpired]) != 0 {
		t.Errorf("expect %d Record Deleted and no Retention Expired, got %d and %d", len(keys), len(deleted), len(published[events.RetentionExpired]))
	}
	for _, k := range keys {
		if r := receipts[refs.Record("users", k)]; !strings.Contains(r.Reference, "erasure request dsr-2026-1142") {
			t.Errorf("expect %v's receipt to name the erasure request, got %q", k, r.Reference)
		}
	}
	for _, d := range deleted {
		if d.Reason != events.ReasonErasure || d.RequestID != "dsr-2026-1142" {
			t.Errorf("expect Record Deleted for the erasure request, got %+v", d)
		}
	}
}

// contractPolicy keeps account data 30 days after its contract ends.
const contractPolicy = `version: "2026-12-01"
organization: {name: "Acme Analytics SAS", country: FR, role: controller}
regions: [eu-central-1, us-east-1]
residency:
  - subjects: [EEA, CH]
    home: eu-central-1
    allowed: [eu-central-1]
    on_violation: relocate
  - subjects: [ANY]
    home: us-east-1
    allowed: [ANY]
unknown_subject: strictest
categories:
  account: {personal: true, retention: 30d, from: contract_end}
sources:
  - table: users
    key: [pk, sk]
    subject_id: user_id
    subject_country: country
    category: account
    created_at: created_at
    contract: account_id
    ttl_attribute: expires_at
`

// Contract Ended starts the retention clock of the records linked to the
// contract: their tags (with the TTL backstop) and catalog entries get the
// retain-until, and the sweep after it deletes them.
func TestContractEndStartsRetention(t *testing.T) {
	w := setup(t)
	path := filepath.Join(t.TempDir(), "residency.yaml")
	if err := os.WriteFile(path, []byte(contractPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := &clock{current: at("2026-11-20T10:00:00Z")}
	s := newStack(w, us, path, clk)
	refs := s.retention.Refs
	if cat, ok := s.retention.Policy.Category("account"); !ok || cat.From != policy.FromContractEnd {
		t.Fatalf("expect account data kept from the contract's end, got %+v", cat)
	}
	// GIVEN two subjects' records linked to contract acct-77, one to acct-88
	linked := map[string]string{"u-7701": "acct-77", "u-7702": "acct-77", "u-8801": "acct-88"}
	for id, contract := range linked {
		item := profile(id, "US", "2025-03-01T00:00:00Z")
		item["account_id"] = contract
		s.put(item)
	}
	s.tagWrites()
	// retainUntil is the record's tag's and catalog entry's retain-until,
	// and its TTL backstop.
	retainUntil := func(id string) (tag string, entry time.Time, ttl any) {
		t.Helper()
		tg, ok := w.tagOf("USER#" + id)
		if !ok {
			t.Fatalf("expect %s tagged", id)
		}
		es, err := w.store.EntriesBySubject(w.ctx, us, refs.Subject(id))
		if err != nil || len(es) != 1 || es[0].Contract != linked[id] {
			t.Fatalf("expect %s's catalog entry linked to %s, got %+v (%v)", id, linked[id], es, err)
		}
		it, err := w.store.GetItem(w.ctx, us, "users", profileKey(id))
		if err != nil {
			t.Fatal(err)
		}
		return tg.RetainUntil, es[0].RetainUntil, it["expires_at"]
	}
	for id := range linked {
		if tag, entry, ttl := retainUntil(id); tag != "" || !entry.IsZero() || ttl != nil {
			t.Fatalf("expect no retention clock for %s before its contract ends, got %q, %v, %v", id, tag, entry, ttl)
		}
	}
	// AND nothing is due
	clk.current = at("2026-11-21T10:00:00Z")
	if res := s.sweep(); res.Due != 0 || res.Deleted != 0 {
		t.Fatalf("expect nothing due before the contract ends, got %+v", res)
	}

	// WHEN Contract Ended reaches the retention function
	clk.current = at("2026-11-21T11:00:00Z")
	s.event("eventbridge-contract-ended", events.ContractEndedDetail{Contract: "acct-77", EndedAt: events.At(at("2026-11-21T00:00:00Z"))})

	// THEN the linked records' tags, TTL backstops and catalog entries
	// carry the end plus 30 days
	until := at("2026-12-21T00:00:00Z")
	for _, id := range []string{"u-7701", "u-7702"} {
		tag, entry, ttl := retainUntil(id)
		if tag != record.FormatTime(until) || !entry.Equal(until) || ttl != json.Number(strconv.FormatInt(policy.TTL(tag), 10)) {
			t.Errorf("expect %s due %s (TTL %d), got tag %q, entry %v, TTL %v", id, until, policy.TTL(tag), tag, entry, ttl)
		}
	}
	if tag, entry, ttl := retainUntil("u-8801"); tag != "" || !entry.IsZero() || ttl != nil {
		t.Errorf("expect no clock for the other contract's record, got %q, %v, %v", tag, entry, ttl)
	}
	// AND the tagger, seeing the rewritten tags stream by, agrees: no write
	if n := s.tagWrites(); n != 1 {
		t.Fatalf("expect the tagger to leave the rewritten tags alone (one batch, no echo), got %d batches", n)
	}

	// WHEN the sweep runs just before the date, and just after
	clk.current = until.Add(-time.Hour)
	before := s.sweep()
	clk.current = until.Add(time.Hour)
	after := s.sweep()

	// THEN the linked records are deleted after it, with their receipts
	if before.Due != 0 {
		t.Fatalf("expect nothing due before %s, got %+v", until, before)
	}
	want := sweepResponse{Region: us, Due: 2, Deleted: 2, Emitted: 2, ItemsRead: 2, Complete: true}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Fatalf("sweep after the date (-want +got):\n%s", diff)
	}
	receipts := s.receipts()
	for _, id := range []string{"u-7701", "u-7702"} {
		if s.exists(profileKey(id)) {
			t.Errorf("expect %s deleted", id)
		}
		if r, ok := receipts[refs.Record("users", profileKey(id))]; !ok || !strings.Contains(r.Reference, "30d from contract_end") {
			t.Errorf("expect %s's receipt to name the contract-end rule, got %+v", id, r)
		}
	}
	if !s.exists(profileKey("u-8801")) || len(receipts) != 2 {
		t.Fatalf("expect acct-88's record kept and 2 receipts, got %d", len(receipts))
	}
}
