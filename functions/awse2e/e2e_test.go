package awse2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
)

func TestMain(m *testing.M) { os.Exit(mototest.Run(m)) }

const us, eu = "us-east-1", "eu-central-1"

// world is one deployment on moto: tables in two regions, us-east-1's bus
// with a rule sending violations to a queue (standing in for the router's
// trigger), and us-east-1's ledger FIFO queue.
type world struct {
	t          *testing.T
	ctx        context.Context
	ddb        map[string]*dynamodb.Client
	streams    *dynamodbstreams.Client
	sqs        *sqs.Client
	violations string
	ledgerQ    string
	store      *dynamostore.Store
	tagger     *tagger.Handler
	router     *router.Handler
	ledger     *ledgerfn.Handler
	stream     shardReader // us-east-1's users stream
}

func setup(t *testing.T) *world {
	mototest.Reset(t)
	w := &world{t: t, ctx: mototest.Context(t), ddb: map[string]*dynamodb.Client{}}
	clients := map[string]dynamostore.API{}
	for _, r := range []string{us, eu} {
		c := dynamodb.NewFromConfig(mototest.Config(t, r))
		w.ddb[r] = c
		clients[r] = c
		if err := dynamostore.CreateTables(w.ctx, c, "residency-catalog", "residency-ledger"); err != nil {
			t.Fatal(err)
		}
		_, err := c.CreateTable(w.ctx, &dynamodb.CreateTableInput{TableName: aws.String("users"), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}},
			StreamSpecification: &ddbtypes.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: ddbtypes.StreamViewTypeNewAndOldImages}})
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg := mototest.Config(t, us)
	w.streams = dynamodbstreams.NewFromConfig(cfg)
	w.sqs = sqs.NewFromConfig(cfg)
	eb := eventbridge.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(w.ctx, &eventbridge.CreateEventBusInput{Name: aws.String("residency")}); err != nil {
		t.Fatal(err)
	}
	q, err := w.sqs.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String("violations")})
	if err != nil {
		t.Fatal(err)
	}
	w.violations = *q.QueueUrl
	attrs, _ := w.sqs.GetQueueAttributes(w.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	eb.PutRule(w.ctx, &eventbridge.PutRuleInput{Name: aws.String("violations"), EventBusName: aws.String("residency"),
		EventPattern: aws.String(`{"source":["residency"],"detail-type":["Residency Violation"]}`)})
	eb.PutTargets(w.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("violations"), EventBusName: aws.String("residency"),
		Targets: []ebtypes.Target{{Id: aws.String("router"), Arn: aws.String(attrs.Attributes["QueueArn"])}}})
	lq, err := w.sqs.CreateQueue(w.ctx, &sqs.CreateQueueInput{QueueName: aws.String("residency-ledger.fifo"),
		Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	w.ledgerQ = *lq.QueueUrl
	k := kms.NewFromConfig(cfg)
	key, err := k.CreateKey(w.ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	derived, err := awsadapter.DeriveKey(w.ctx, k, *key.KeyMetadata.KeyId)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := pseudonym.New(derived)
	if err != nil {
		t.Fatal(err)
	}
	w.store = dynamostore.New(us, clients)
	p := policy.MustExample()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	bus := &eventbus.Bus{API: eb, Name: "residency"}
	queue := &sqsqueue.LedgerQueue{API: w.sqs, URL: w.ledgerQ}
	w.tagger = &tagger.Handler{Region: us, Policy: p, Refs: refs, Tables: w.store, Catalog: w.store, Contracts: w.store, Scanner: w.store, Cursors: refs,
		Bus: bus, Ledger: queue, Now: time.Now, Log: log}
	w.router = &router.Handler{Region: us, Policy: p, Refs: refs, Tables: w.store, Bus: bus, Ledger: queue, Now: time.Now, Log: log}
	w.ledger = &ledgerfn.Handler{Store: w.store, Log: log}
	return w
}

// streamBatch reads the us-east-1 users stream records written since the
// last call, as Lambda's event source mapping would deliver them.
func (w *world) streamBatch() []byte {
	var ev lambdaevents.DynamoDBEvent
	for _, r := range w.stream.next(w.t, w.ctx, w.ddb[us], w.streams) {
		ev.Records = append(ev.Records, toLambda(w.t, r))
	}
	b, _ := json.Marshal(ev)
	return b
}

// shardReader reads a users table's stream from its start, a position of
// its own: each read asks for an iterator at the first record it has not
// read. Following NextShardIterator instead can loop: moto numbers a
// shard's records by its length at each write, unguarded, so two writes at
// once (the tagger's concurrent tag writes) may share a number, and the
// iterator after the second (AFTER_SEQUENCE_NUMBER the shared number)
// gives that record again at every read (the fresh-clone CI saw 499 reads
// of it). moto's sequence numbers are the shard's first plus the record's
// place, which is what the position counts.
type shardReader struct {
	arn, shard *string
	first      *big.Int // the shard's first sequence number
	read       int64    // records read so far
}

func (r *shardReader) next(t *testing.T, ctx context.Context, ddb *dynamodb.Client, streams *dynamodbstreams.Client) []stypes.Record {
	t.Helper()
	if r.arn == nil {
		d, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")})
		if err != nil {
			t.Fatal(err)
		}
		st, err := streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: d.Table.LatestStreamArn})
		if err != nil {
			t.Fatal(err)
		}
		shard := st.StreamDescription.Shards[0]
		first, ok := new(big.Int).SetString(aws.ToString(shard.SequenceNumberRange.StartingSequenceNumber), 10)
		if !ok {
			t.Fatalf("expect a decimal first sequence number, got %q", aws.ToString(shard.SequenceNumberRange.StartingSequenceNumber))
		}
		r.arn, r.shard, r.first = d.Table.LatestStreamArn, shard.ShardId, first
	}
	at := new(big.Int).Add(r.first, big.NewInt(r.read)).String()
	it, err := streams.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{StreamArn: r.arn, ShardId: r.shard,
		ShardIteratorType: stypes.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(at)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	r.read += int64(len(out.Records))
	return out.Records
}

func toLambda(t *testing.T, r stypes.Record) lambdaevents.DynamoDBEventRecord {
	conv := func(m map[string]stypes.AttributeValue) map[string]lambdaevents.DynamoDBAttributeValue {
		if m == nil {
			return nil
		}
		it := record.Item{}
		for k, v := range m {
			it[k] = plain(v)
		}
		out, err := ddbjson.FromItem(it)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// As Lambda delivers it: the write time, whole seconds.
	var at lambdaevents.SecondsEpochTime
	if r.Dynamodb.ApproximateCreationDateTime != nil {
		at = lambdaevents.SecondsEpochTime{Time: r.Dynamodb.ApproximateCreationDateTime.Truncate(time.Second)}
	}
	return lambdaevents.DynamoDBEventRecord{
		EventID: aws.ToString(r.EventID), EventName: string(r.EventName), EventSource: "aws:dynamodb", EventVersion: "1.1",
		AWSRegion:      aws.ToString(r.AwsRegion), // moto reports this wrongly; the tagger reads the region from the ARN
		EventSourceArn: "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/moto",
		Change: lambdaevents.DynamoDBStreamRecord{Keys: conv(r.Dynamodb.Keys), NewImage: conv(r.Dynamodb.NewImage), OldImage: conv(r.Dynamodb.OldImage),
			SequenceNumber: aws.ToString(r.Dynamodb.SequenceNumber), StreamViewType: string(r.Dynamodb.StreamViewType), ApproximateCreationDateTime: at},
	}
}

func plain(v stypes.AttributeValue) any {
	switch x := v.(type) {
	case *stypes.AttributeValueMemberS:
		return x.Value
	case *stypes.AttributeValueMemberN:
		return json.Number(x.Value)
	case *stypes.AttributeValueMemberBOOL:
		return x.Value
	case *stypes.AttributeValueMemberM:
		m := map[string]any{}
		for k, e := range x.Value {
			m[k] = plain(e)
		}
		return m
	case *stypes.AttributeValueMemberL:
		var l []any
		for _, e := range x.Value {
			l = append(l, plain(e))
		}
		return l
	}
	return nil
}

func (w *world) put(item map[string]string) {
	av := map[string]ddbtypes.AttributeValue{}
	for k, v := range item {
		av[k] = &ddbtypes.AttributeValueMemberS{Value: v}
	}
	if _, err := w.ddb[us].PutItem(w.ctx, &dynamodb.PutItemInput{TableName: aws.String("users"), Item: av}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) invoke(h func(context.Context, json.RawMessage) (any, error), payload []byte) []byte {
	out, err := lambda.NewHandler(h).Invoke(w.ctx, payload)
	if err != nil {
		w.t.Fatalf("handler failed: %v", err)
	}
	return out
}

// receive drains a queue into an SQS event, as Lambda's SQS poller would.
func (w *world) receive(url string) lambdaevents.SQSEvent {
	var ev lambdaevents.SQSEvent
	for {
		out, err := w.sqs.ReceiveMessage(w.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return ev
		}
		for _, m := range out.Messages {
			ev.Records = append(ev.Records, lambdaevents.SQSMessage{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body),
				Attributes: m.Attributes, EventSource: "aws:sqs"})
			w.sqs.DeleteMessage(w.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func (w *world) chain() []ledger.Entry {
	var out []ledger.Entry
	v := ledger.NewVerifier(us)
	if err := w.store.ScanChain(w.ctx, us, func(e *ledger.Entry) error { out = append(out, *e); return v.Add(e) }); err != nil {
		w.t.Fatalf("expect an intact chain, got %v", err)
	}
	return out
}

func (w *world) flushLedger() {
	ev := w.receive(w.ledgerQ)
	if len(ev.Records) == 0 {
		return
	}
	payload, _ := json.Marshal(ev)
	var resp lambdaevents.SQSEventResponse
	json.Unmarshal(w.invoke(w.ledger.Invoke, payload), &resp)
	if len(resp.BatchItemFailures) > 0 {
		w.t.Fatalf("expect the ledger to take every message, got failures %+v", resp.BatchItemFailures)
	}
}

func TestMisplacedRecordIsRelocated(t *testing.T) {
	w := setup(t)
	key := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#u-1001"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}

	// GIVEN a French subject's profile written in us-east-1, and a poison record
	w.put(map[string]string{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "FR", "created_at": "2026-11-20T09:14:03Z"})
	w.put(map[string]string{"pk": "USER#bad", "sk": "PROFILE", "country": "FR"})

	// WHEN the tagger gets the stream batch
	first := w.streamBatch()
	var resp lambdaevents.DynamoDBEventResponse
	json.Unmarshal(w.invoke(w.tagger.Invoke, first), &resp)

	// THEN the poison record fails alone
	if len(resp.BatchItemFailures) != 1 {
		t.Fatalf("expect one failed record, got %+v", resp.BatchItemFailures)
	}
	// AND the tag write comes back as a MODIFY that causes no write
	echo := w.streamBatch()
	if !strings.Contains(string(echo), `"MODIFY"`) {
		t.Fatalf("expect the tag write's MODIFY, got %s", echo)
	}
	w.invoke(w.tagger.Invoke, echo)
	if again := w.streamBatch(); strings.Contains(string(again), "eventName") {
		t.Fatalf("expect no write for the echo, got %s", again)
	}

	// WHEN the router gets the violation through the bus
	violations := w.receive(w.violations)
	if len(violations.Records) != 1 {
		t.Fatalf("expect one violation delivered by the rule, got %d", len(violations.Records))
	}
	w.invoke(w.router.Invoke, []byte(violations.Records[0].Body))
	w.flushLedger()

	// THEN the record is in eu-central-1 and gone from us-east-1
	got, err := w.ddb[eu].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"), Key: key})
	if err != nil || got.Item == nil {
		t.Fatalf("expect the record in eu-central-1, got %v", err)
	}
	gone, _ := w.ddb[us].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"), Key: key})
	if gone.Item != nil {
		t.Fatal("expect the record gone from us-east-1")
	}
	// AND the ledger holds the violation and the relocation, without personal data
	entries := w.chain()
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, string(e.Kind))
	}
	if strings.Join(kinds, ",") != "violation,relocation" {
		t.Fatalf("expect violation,relocation, got %v", kinds)
	}
	if b, _ := json.Marshal(entries); strings.Contains(string(b), "u-1001") {
		t.Fatalf("expect no subject id in the ledger, got %s", b)
	}

	// AND the deletion of the misplaced copy reaches the tagger as a REMOVE
	removed := w.streamBatch()
	if !strings.Contains(string(removed), `"REMOVE"`) {
		t.Fatalf("expect the REMOVE of the misplaced copy, got %s", removed)
	}
	w.invoke(w.tagger.Invoke, removed)
	if _, err := w.store.GetItem(w.ctx, us, "users", record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}); err == nil {
		t.Fatal("expect no copy left in us-east-1")
	}

	// WHEN the first batch and the violation are delivered again
	w.invoke(w.tagger.Invoke, first)
	w.invoke(w.router.Invoke, []byte(violations.Records[0].Body))
	w.flushLedger()
	w.receive(w.violations)

	// THEN nothing changes
	if n := len(w.chain()); n != 2 {
		t.Fatalf("expect the ledger unchanged at 2 entries, got %d", n)
	}
	if again := w.streamBatch(); strings.Contains(string(again), "eventName") {
		t.Fatalf("expect no write on redelivery, got %s", again)
	}
	if _, err := w.store.GetItem(w.ctx, eu, "users", record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}); err != nil {
		t.Fatalf("expect the relocated copy kept, got %v", err)
	}
}
