package awse2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// The operations the throttler answers, by their X-Amz-Target.
const (
	opUpdateItem       = "DynamoDB_20120810.UpdateItem"
	opBatchWriteItem   = "DynamoDB_20120810.BatchWriteItem"
	opPutEvents        = "AWSEvents.PutEvents"
	opSendMessageBatch = "AmazonSQS.SendMessageBatch"
)

// The throttling errors of the real services, as their JSON protocols send
// them: the __type the SDK reads the error code from.
const (
	ddbProvisioned = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
	ddbThrottling  = "com.amazon.coral.availability#ThrottlingException"
	ebThrottling   = "ThrottlingException"
	sqsThrottled   = "com.amazonaws.sqs#RequestThrottled"
)

// throttler is an HTTP proxy on 127.0.0.1 in front of moto_server. It
// answers the next requests of an operation, as planned, with a 400 and a
// throttling error in the service's JSON protocol, and forwards every other
// request to moto.
type throttler struct {
	URL  string
	mu   sync.Mutex
	plan map[string][]string // by operation: the error types of its next requests
	// only, when set, limits the plan of an operation to the requests
	// whose body holds this text (one record's, when requests of a batch
	// run at once).
	only      map[string]string
	calls     map[string]int // requests received, by operation
	throttled map[string]int // requests answered with an error, by operation
	moto      *httputil.ReverseProxy
}

func newThrottler(t *testing.T) *throttler {
	target, err := url.Parse(mototest.Endpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	th := &throttler{plan: map[string][]string{}, only: map[string]string{}, calls: map[string]int{}, throttled: map[string]int{},
		moto: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(th) // on 127.0.0.1
	t.Cleanup(srv.Close)
	th.URL = srv.URL
	return th
}

// throttle plans the next requests of each operation: one error type per
// request to answer.
func (th *throttler) throttle(plan map[string][]string) {
	th.mu.Lock()
	defer th.mu.Unlock()
	for op, errs := range plan {
		th.plan[op] = append(th.plan[op], errs...)
	}
}

// throttleOnly plans the next requests of op whose body holds text.
func (th *throttler) throttleOnly(op, text string, errs []string) {
	th.mu.Lock()
	th.only[op] = text
	th.mu.Unlock()
	th.throttle(map[string][]string{op: errs})
}

func (th *throttler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	th.mu.Lock()
	th.calls[op]++
	var errType string
	if p := th.plan[op]; len(p) > 0 && (th.only[op] == "" || bytes.Contains(body, []byte(th.only[op]))) {
		errType, th.plan[op] = p[0], p[1:]
		th.throttled[op]++
	}
	th.mu.Unlock()
	if errType == "" {
		th.moto.ServeHTTP(w, r)
		return
	}
	io.Copy(io.Discard, r.Body)
	ct := "application/x-amz-json-1.0" // DynamoDB, SQS
	if strings.HasPrefix(op, "AWSEvents.") {
		ct = "application/x-amz-json-1.1"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("throttled-%d", time.Now().UnixNano()))
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":%q,"message":"Rate of requests exceeds the allowed throughput."}`, errType)
}

// counts returns the requests received and answered with an error, by
// operation.
func (th *throttler) counts() (calls, throttled map[string]int) {
	th.mu.Lock()
	defer th.mu.Unlock()
	calls, throttled = map[string]int{}, map[string]int{}
	for k, v := range th.calls {
		calls[k] = v
	}
	for k, v := range th.throttled {
		throttled[k] = v
	}
	return calls, throttled
}

// lambdaTagger wires the tagger as its Lambda main does, from the
// environment a stack gives it, with the SDK sending every request through
// the throttler.
func lambdaTagger(t *testing.T, w *world, th *throttler) func([]byte) lambdaevents.DynamoDBEventResponse {
	key, err := kms.NewFromConfig(mototest.Config(t, us)).CreateKey(w.ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256,
		KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_REGION": us, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
		"AWS_ENDPOINT_URL": th.URL, awsenv.Regions: us + "," + eu, awsenv.EventBus: "residency", awsenv.LedgerQueueURL: w.ledgerQ,
		awsenv.HMACKeyID: aws.ToString(key.KeyMetadata.KeyId), awsenv.CatalogTable: "residency-catalog", awsenv.LedgerTable: "residency-ledger",
	} {
		t.Setenv(k, v)
	}
	// As functions/tagger/lambda/main.go wires it (the policy aside).
	app, err := awsapp.Load(w.ctx, "tagger", awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	if err != nil {
		t.Fatal(err)
	}
	store := app.Store()
	h := &tagger.Handler{Region: app.Region, Policy: policy.MustExample(), Refs: app.Refs, Tables: store, Catalog: store, Contracts: store,
		Bus:    &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: time.Now,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	handler := lambda.NewHandler(lambdaraw.Handler(h.Invoke))
	return func(payload []byte) lambdaevents.DynamoDBEventResponse {
		out, err := handler.Invoke(w.ctx, payload)
		if err != nil {
			t.Fatalf("expect a response with batch item failures, got the error %v", err)
		}
		var resp lambdaevents.DynamoDBEventResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
}

func (w *world) tagOf(pk string) (record.Tag, bool) {
	it, err := w.store.GetItem(w.ctx, us, "users", record.Key{"pk": pk, "sk": "PROFILE"})
	if err != nil {
		w.t.Fatal(err)
	}
	return record.TagOf(it)
}

// Throttled requests are retried by the SDK's standard retryer, with its
// backoff, as the Lambda mains configure it; the batch then succeeds whole:
// every tag, catalog entry, event and ledger message is written once.
func TestThrottlingIsRetried(t *testing.T) {
	cases := map[string]map[string][]string{
		"DynamoDB ProvisionedThroughputExceededException": {
			opUpdateItem:     {ddbProvisioned, ddbProvisioned}, // the first tag write, twice: its third attempt succeeds
			opBatchWriteItem: {ddbProvisioned},                 // the catalog entries
		},
		"DynamoDB ThrottlingException, EventBridge and SQS throttling": {
			opUpdateItem:       {ddbThrottling},
			opPutEvents:        {ebThrottling},
			opSendMessageBatch: {sqsThrottled},
		},
	}
	for name, plan := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN a compliant record and a misplaced one written in us-east-1
			w := setup(t)
			th := newThrottler(t)
			invoke := lambdaTagger(t, w, th)
			w.put(map[string]string{"pk": "USER#u-2001", "sk": "PROFILE", "user_id": "u-2001", "country": "US", "created_at": "2026-11-20T09:00:00Z"})
			w.put(map[string]string{"pk": "USER#u-2002", "sk": "PROFILE", "user_id": "u-2002", "country": "FR", "created_at": "2026-11-20T09:00:00Z"})
			batch := w.streamBatch()

			// WHEN the services throttle the tagger's requests
			th.throttle(plan)
			resp := invoke(batch)

			// THEN the batch succeeds
			if len(resp.BatchItemFailures) != 0 {
				t.Fatalf("expect no failed record, got %+v", resp.BatchItemFailures)
			}
			calls, throttled := th.counts()
			for op, errs := range plan {
				if throttled[op] != len(errs) {
					t.Errorf("expect %d throttled %s, got %d", len(errs), op, throttled[op])
				}
				if calls[op] <= throttled[op] {
					t.Errorf("expect %s retried after %d throttles, got %d requests", op, throttled[op], calls[op])
				}
			}
			// every tag: the throttled write was retried, not lost
			for pk, status := range map[string]string{"USER#u-2001": record.StatusCompliant, "USER#u-2002": record.StatusViolation} {
				if tag, ok := w.tagOf(pk); !ok || tag.Status != status {
					t.Errorf("expect %s tagged %s, got %+v", pk, status, tag)
				}
			}
			// every catalog entry (read through the due index, on the day both are due)
			entries, _, err := w.store.DueEntries(w.ctx, us, time.Date(2028, 12, 21, 0, 0, 0, 0, time.UTC), catalog.Cursor{}, 10)
			if err != nil || len(entries) != 2 {
				t.Errorf("expect 2 catalog entries, got %d (%v)", len(entries), err)
			}
			// the violation on the bus (its rule delivers it to a queue) and its ledger entry
			if got := w.receive(w.violations); len(got.Records) != 1 {
				t.Errorf("expect one violation delivered by the bus, got %d", len(got.Records))
			}
			w.flushLedger()
			if entries := w.chain(); len(entries) != 1 || entries[0].Kind != "violation" {
				t.Errorf("expect the violation in the ledger once, got %+v", entries)
			}
		})
	}
}

// Throttling that outlasts the SDK's attempts fails the record it hit, alone
// and reported (Lambda retries it); the retried batch then succeeds.
func TestThrottlingBeyondTheSDKsAttemptsFailsTheRecordAlone(t *testing.T) {
	w := setup(t)
	th := newThrottler(t)
	invoke := lambdaTagger(t, w, th)
	w.put(map[string]string{"pk": "USER#u-2001", "sk": "PROFILE", "user_id": "u-2001", "country": "US", "created_at": "2026-11-20T09:00:00Z"})
	w.put(map[string]string{"pk": "USER#u-2003", "sk": "PROFILE", "user_id": "u-2003", "country": "CA", "created_at": "2026-11-20T09:00:00Z"})
	batch := w.streamBatch()
	var ev lambdaevents.DynamoDBEvent
	if err := json.Unmarshal(batch, &ev); err != nil || len(ev.Records) != 2 {
		t.Fatalf("expect a batch of 2 records, got %v", err)
	}

	// WHEN every attempt of the first record's tag write is throttled (the
	// batch's tag writes run at once: the plan picks that record's)
	attempts := make([]string, retry.DefaultMaxAttempts)
	for i := range attempts {
		attempts[i] = ddbProvisioned
	}
	th.throttleOnly(opUpdateItem, "USER#u-2001", attempts)
	resp := invoke(batch)

	// THEN the SDK gave up after its attempts, and only that record failed
	_, throttled := th.counts()
	if throttled[opUpdateItem] != retry.DefaultMaxAttempts {
		t.Fatalf("expect %d attempts throttled, got %d", retry.DefaultMaxAttempts, throttled[opUpdateItem])
	}
	want := ev.Records[0].Change.SequenceNumber
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != want {
		t.Fatalf("expect the first record (%s) to fail alone, got %+v", want, resp.BatchItemFailures)
	}
	if _, ok := w.tagOf("USER#u-2001"); ok {
		t.Fatal("expect the throttled record untagged")
	}
	if _, ok := w.tagOf("USER#u-2003"); !ok {
		t.Fatal("expect the other record tagged")
	}

	// WHEN Lambda delivers the batch again
	resp = invoke(batch)

	// THEN it succeeds
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("expect no failure on the retry, got %+v", resp.BatchItemFailures)
	}
	if tag, ok := w.tagOf("USER#u-2001"); !ok || tag.Status != record.StatusCompliant {
		t.Fatalf("expect the record tagged on the retry, got %+v", tag)
	}
}
