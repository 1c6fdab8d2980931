package awse2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// counter counts a store's DynamoDB requests by region and operation.
type counter struct {
	mu    sync.Mutex
	calls map[string]int // "region Operation"
}

func (c *counter) add(region, op string) {
	c.mu.Lock()
	c.calls[region+" "+op]++
	c.mu.Unlock()
}

func (c *counter) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// counted is a region's DynamoDB client that counts the requests of the
// operations a relocation may use.
type counted struct {
	dynamostore.API
	region string
	c      *counter
}

func (k counted) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	k.c.add(k.region, "GetItem")
	return k.API.GetItem(ctx, in, o...)
}

func (k counted) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	k.c.add(k.region, "PutItem")
	return k.API.PutItem(ctx, in, o...)
}

func (k counted) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	k.c.add(k.region, "DeleteItem")
	return k.API.DeleteItem(ctx, in, o...)
}

func (k counted) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	k.c.add(k.region, "BatchGetItem")
	return k.API.BatchGetItem(ctx, in, o...)
}

// A burst of 101 misplaced records reaches the router as SQS batches of up
// to 100 violations (the stack's batch size): each batch reads the
// misplaced copies with one BatchGetItem in us-east-1, copies each home
// with a conditional PutItem, verifies the copies with one BatchGetItem in
// eu-central-1 and deletes each misplaced copy conditionally; no GetItem
// one record at a time. A redelivered batch writes nothing.
func TestBurstIsRelocatedInBatches(t *testing.T) {
	w := setup(t)
	const misplaced, stay = 101, 3
	for i := range misplaced + stay {
		country := "FR"
		if i >= misplaced {
			country = "US"
		}
		w.put(map[string]string{"pk": fmt.Sprintf("USER#b-%03d", i), "sk": "PROFILE", "user_id": fmt.Sprintf("b-%03d", i), "country": country, "created_at": "2026-11-20T09:14:03Z"})
	}
	// The violations as the tagger publishes them (sealed keys), made here
	// rather than by the tagger so that the test spends its minute on the
	// router's requests.
	var violations []string
	for i := range misplaced {
		key := record.Key{"pk": fmt.Sprintf("USER#b-%03d", i), "sk": "PROFILE"}
		ev := map[string]any{"version": "0", "id": fmt.Sprintf("v-%03d", i), "detail-type": events.ResidencyViolation, "source": "residency",
			"region": us, "time": "2026-11-20T09:14:04Z", "detail": map[string]any{
				"source": "users", "record_ref": w.tagger.Refs.Record("users", key), "record_sealed": w.tagger.Refs.Seal([]byte(key.String())),
				"region": us, "home_region": eu, "action": "relocate", "category": "profile", "subject_country": "FR",
				"detected_at": "2026-11-20T09:14:04Z", "written_at": "2026-11-20T09:14:03Z"}}
		b, _ := json.Marshal(ev)
		violations = append(violations, string(b))
	}
	cnt := &counter{calls: map[string]int{}}
	clients := map[string]dynamostore.API{}
	for r, c := range w.ddb {
		clients[r] = counted{API: c, region: r, c: cnt}
	}
	w.router.Tables = dynamostore.New(us, clients)
	route := func(bodies []string) {
		t.Helper()
		ev := lambdaevents.SQSEvent{}
		for i, b := range bodies {
			ev.Records = append(ev.Records, lambdaevents.SQSMessage{MessageId: fmt.Sprintf("m-%d", i), Body: b, EventSource: "aws:sqs"})
		}
		payload, _ := json.Marshal(ev)
		var resp lambdaevents.SQSEventResponse
		if err := json.Unmarshal(w.invoke(w.router.Invoke, payload), &resp); err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("expect every violation relocated, got failures %+v (%v)", resp.BatchItemFailures, err)
		}
	}

	// WHEN the router gets the burst as two batches, the second with a
	// violation delivered twice
	route(violations[:100])
	route(append(violations[100:], violations[100]))

	// THEN the requests were batched per region and table
	want := map[string]int{
		us + " BatchGetItem": 2, eu + " BatchGetItem": 2, // the misplaced copies, then the copies home
		eu + " PutItem": misplaced, us + " DeleteItem": misplaced,
	}
	got := cnt.get()
	for k, n := range want {
		if got[k] != n {
			t.Errorf("expect %d %s requests, got %d", n, k, got[k])
		}
	}
	if got[us+" GetItem"]+got[eu+" GetItem"] != 0 {
		t.Errorf("expect no single-item reads, got %v", got)
	}
	// AND every French profile is home and gone from us-east-1; the US
	// ones stay
	for i := range misplaced + stay {
		pk := fmt.Sprintf("USER#b-%03d", i)
		atHome, here := w.item(eu, "users", pk) != nil, w.item(us, "users", pk) != nil
		if wantHome := i < misplaced; atHome != wantHome || here == wantHome {
			t.Fatalf("%s: expect at home %v and in us-east-1 %v, got %v and %v", pk, wantHome, !wantHome, atHome, here)
		}
	}
	w.flushLedger()
	relocations := func() int {
		n := 0
		for _, e := range w.chain() {
			if e.Kind == ledger.KindRelocation {
				n++
			}
		}
		return n
	}
	if n := relocations(); n != misplaced {
		t.Fatalf("expect %d relocation entries, got %d", misplaced, n)
	}

	// WHEN the first batch is delivered again
	before := cnt.get()
	route(violations[:100])
	w.flushLedger()

	// THEN it reads, finds the records gone, and writes nothing
	after := cnt.get()
	for _, op := range []string{eu + " PutItem", us + " DeleteItem"} {
		if after[op] != before[op] {
			t.Errorf("expect no %s on redelivery, got %d more", op, after[op]-before[op])
		}
	}
	if n := relocations(); n != misplaced {
		t.Fatalf("expect no new relocation entries on redelivery, got %d", n)
	}
	if b, _ := json.Marshal(w.chain()); strings.Contains(string(b), "b-001") {
		t.Fatal("expect no subject id in the ledger")
	}
}
