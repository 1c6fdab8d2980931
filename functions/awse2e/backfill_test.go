package awse2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

// ddbCounter counts a DynamoDB client's calls as an SDK middleware: the
// operations, the read units Scan reports (it asks for them with
// ReturnConsumedCapacity), and the writes to each table.
type ddbCounter struct {
	mu       sync.Mutex
	ops      map[string]int
	scanRCU  float64
	scanned  int
	writes   map[string]int // table -> items written
	gets     map[string]int // table -> keys asked for by BatchGetItem and GetItem
	reported bool           // a Scan reported its consumed capacity
}

func newCounter() *ddbCounter {
	return &ddbCounter{ops: map[string]int{}, writes: map[string]int{}, gets: map[string]int{}}
}

// take returns the counts so far and starts again from zero.
func (c *ddbCounter) take() *ddbCounter {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := &ddbCounter{ops: c.ops, writes: c.writes, gets: c.gets, scanRCU: c.scanRCU, scanned: c.scanned, reported: c.reported}
	c.ops, c.writes, c.gets, c.scanRCU, c.scanned, c.reported = map[string]int{}, map[string]int{}, map[string]int{}, 0, 0, false
	return was
}

func (c *ddbCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if s, ok := in.Parameters.(*dynamodb.ScanInput); ok {
			s.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
		}
		out, md, err := next.HandleInitialize(ctx, in)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ops[middleware.GetOperationName(ctx)]++
		switch p := in.Parameters.(type) {
		case *dynamodb.UpdateItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.PutItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.DeleteItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.GetItemInput:
			c.gets[aws.ToString(p.TableName)]++
		case *dynamodb.BatchGetItemInput:
			for table, ka := range p.RequestItems {
				c.gets[table] += len(ka.Keys)
			}
		case *dynamodb.BatchWriteItemInput:
			for table, reqs := range p.RequestItems {
				c.writes[table] += len(reqs)
			}
		}
		if so, ok := out.Result.(*dynamodb.ScanOutput); ok && err == nil {
			c.scanned += len(so.Items)
			if so.ConsumedCapacity != nil && so.ConsumedCapacity.CapacityUnits != nil {
				c.reported = true
				c.scanRCU += *so.ConsumedCapacity.CapacityUnits
			}
		}
		return out, md, err
	}), middleware.After)
}

// TestBackfillPagesOnDynamoDB: the tagger, given backfill pages as the
// state machine sends them, scans the users table on moto in two segments,
// a page of 2 at a time following next_cursor, and tags every record that
// was there before it watched the table: the misplaced one is announced as
// a violation, a malformed one fails alone by reference, and a second pass
// writes nothing.
func TestBackfillPagesOnDynamoDB(t *testing.T) {
	w := setup(t)
	for i := range 5 {
		country := "US"
		if i == 2 {
			country = "FR" // misplaced: an EEA subject in us-east-1
		}
		w.put(map[string]string{"pk": fmt.Sprintf("USER#b-%d", i), "sk": "PROFILE", "user_id": fmt.Sprintf("b-%d", i), "country": country,
			"created_at": "2026-10-01T00:00:00Z"})
	}
	w.put(map[string]string{"pk": "USER#b-bad", "sk": "PROFILE", "country": "US"}) // no user_id
	w.streamBatch()                                                                // the puts' own stream records: not this test's concern
	// The tagger's store, on clients that count their calls.
	count := newCounter()
	clients := map[string]dynamostore.API{}
	for _, r := range []string{us, eu} {
		clients[r] = dynamodb.NewFromConfig(mototest.Config(t, r), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, count.middleware) })
	}
	counted := dynamostore.New(us, clients)
	w.tagger.Tables, w.tagger.Catalog, w.tagger.Contracts, w.tagger.Scanner = counted, counted, counted, counted

	pass := func() (total tagger.BackfillPageResult) {
		t.Helper()
		for seg := range 2 {
			cursor := ""
			for page := 0; ; page++ {
				payload, _ := json.Marshal(map[string]any{"backfill": tagger.BackfillPage{Region: "us-east-1", Table: "users",
					Segment: seg, Segments: 2, Cursor: cursor, Limit: 2}})
				var res tagger.BackfillPageResult
				if err := json.Unmarshal(w.invoke(w.tagger.Invoke, payload), &res); err != nil {
					t.Fatal(err)
				}
				if res.Items > 2 || page > 10 {
					t.Fatalf("expect pages of at most 2 that end, got %+v", res)
				}
				// The cursor is sealed: no record key in it, even decoded.
				if raw, _ := base64.RawURLEncoding.DecodeString(res.NextCursor); strings.Contains(res.NextCursor+string(raw), "USER#") {
					t.Fatalf("expect a sealed cursor, got %q", res.NextCursor)
				}
				total.Items += res.Items
				total.Tagged += res.Tagged
				total.Unchanged += res.Unchanged
				total.Violations += res.Violations
				total.Failed = append(total.Failed, res.Failed...)
				if cursor = res.NextCursor; cursor == "" {
					break
				}
			}
		}
		return total
	}
	first := pass()
	firstCount := count.take()
	if first.Items != 6 || first.Tagged != 5 || first.Violations != 1 || len(first.Failed) != 1 ||
		!strings.HasPrefix(first.Failed[0].Record, "rec_") || !strings.Contains(first.Failed[0].Reason, `"user_id" missing`) {
		t.Fatalf("expect 6 records: 5 tagged, 1 violation, 1 failed by reference, got %+v", first)
	}
	out, err := w.ddb[us].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#b-2"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil || out.Item[record.TagAttribute] == nil {
		t.Fatalf("expect the misplaced record tagged in place, got %v (%v)", out.Item, err)
	}
	second := pass()
	secondCount := count.take()
	if second.Tagged != 0 || second.Unchanged != 5 || second.Violations != 0 {
		t.Fatalf("expect a second pass to write nothing, got %+v", second)
	}
	// Reads and writes per item. The first pass writes each tag once
	// (UpdateItem on users) and a catalog entry; the second, whose tags are
	// all current, writes nothing at all. Scan reads every item once.
	if firstCount.scanned != 6 || firstCount.writes["users"] != 5 {
		t.Errorf("expect 6 items scanned and 5 tags written by the first pass, got %d scanned, writes %v", firstCount.scanned, firstCount.writes)
	}
	if secondCount.scanned != 6 || len(secondCount.writes) != 0 || secondCount.ops["UpdateItem"]+secondCount.ops["PutItem"]+secondCount.ops["BatchWriteItem"] != 0 {
		t.Errorf("expect the second pass to scan 6 items and write none, got %d scanned, writes %v, calls %v", secondCount.scanned, secondCount.writes, secondCount.ops)
	}
	if secondCount.reported && secondCount.scanRCU > float64(secondCount.scanned) {
		t.Errorf("expect at most one read unit per item scanned, got %.1f for %d", secondCount.scanRCU, secondCount.scanned)
	}
	// Besides the scan, each page looks its subjects up on the erased list
	// (BatchGetItem of the catalog table, strongly consistent): one key an
	// item, which DynamoDB charges a read unit each, found or not.
	if secondCount.gets["residency-catalog"] != secondCount.scanned-1 { // the malformed record has no subject
		t.Errorf("expect one erased-list key per item with a subject, got %v", secondCount.gets)
	}
	for name, c := range map[string]*ddbCounter{"first": firstCount, "second": secondCount} {
		t.Logf("%s pass: %d items scanned, %.1f scan read units (reported: %v), keys read by table %v, calls %v, items written by table %v",
			name, c.scanned, c.scanRCU, c.reported, c.gets, c.ops, c.writes)
	}
}
