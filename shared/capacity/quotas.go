package capacity

import "fmt"

// Regions are the regions the model is computed for: the example policy's.
var Regions = []string{"eu-central-1", "eu-west-1", "us-east-1"}

// Quota is a documented AWS limit on the path of a record.
type Quota struct {
	ID   string
	Name string
	// Value is the default quota, in Unit; ByRegion overrides it where the
	// quota differs by region.
	Value    float64
	ByRegion map[string]float64
	Unit     string
	// Source is the AWS documentation page that gives the value.
	Source string
	// Note says how the model uses it, or what is uncertain about it.
	Note string
}

// In returns the quota's value in region.
func (q Quota) In(region string) float64 {
	if v, ok := q.ByRegion[region]; ok {
		return v
	}
	return q.Value
}

// The documentation pages the quotas come from.
const (
	srcLambdaQuotas   = "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html"
	srcLambdaInvoke   = "https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html"
	srcLambdaDDB      = "https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html"
	srcLambdaDDBParam = "https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html"
	srcLambdaSQS      = "https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html"
	srcLambdaMemory   = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"
	srcDDBQuotas      = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"
	srcDDBPartitions  = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
	srcDDBTransact    = "https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html"
	srcDDBTxCapacity  = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html"
	srcEBQuotas       = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html"
	srcEBPutEvents    = "https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html"
	srcSQSQuotas      = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html"
	srcSQSHighFIFO    = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html"
	srcKMSQuotas      = "https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html"
)

// The quota ids the model reads.
const (
	QLambdaConcurrency = "lambda-concurrency"
	QLambdaPayload     = "lambda-payload"
	QLambdaVCPU        = "lambda-vcpu-memory"
	QStreamPolls       = "stream-polls"
	QStreamBatch       = "stream-batch-max"
	QStreamParallel    = "stream-parallelization-max"
	QStreamReaders     = "stream-readers"
	QPartitionWrites   = "ddb-partition-wcu"
	QPartitionReads    = "ddb-partition-rcu"
	QTableWrites       = "ddb-table-ondemand-wru"
	QTransactItems     = "ddb-transact-items"
	QTransactWCU       = "ddb-transact-wcu"
	QPutEvents         = "eb-putevents"
	QPutEventsEntries  = "eb-putevents-entries"
	QInvocations       = "eb-invocations"
	QFIFOAction        = "sqs-fifo-action"
	QFIFOHighAction    = "sqs-fifo-high-throughput"
	QFIFOGroup         = "sqs-fifo-group"
	QLambdaFIFO        = "lambda-sqs-fifo-group"
	QKMSSymmetric      = "kms-symmetric"
	QKMSECC            = "kms-ecc"
)

// Quotas are the quotas on the path, as the pages named give them.
var Quotas = []Quota{
	// Concurrent executions: 1,000 per account and region by default
	// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
	{ID: QLambdaConcurrency, Name: "Lambda concurrent executions (account, region)", Value: 1000, Unit: "executions",
		Source: srcLambdaQuotas, Note: "shared by the five functions; new accounts start lower"},
	// Synchronous invocation payload, the stream batches' limit: 6 MB
	// (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html).
	{ID: QLambdaPayload, Name: "Lambda synchronous invocation payload", Value: 6, Unit: "MB",
		Source: srcLambdaInvoke, Note: "a stream batch of 100 records of at most 2 images of 1 KB is well under it; 10,000 such records would not be"},
	// 1,769 MB of memory is one vCPU
	// (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html).
	{ID: QLambdaVCPU, Name: "Lambda memory per vCPU", Value: 1769, Unit: "MB",
		Source: srcLambdaMemory, Note: "scales the CPU time measured here to a 256 MB function"},
	// Lambda polls each stream shard 4 times a second
	// (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html).
	{ID: QStreamPolls, Name: "Lambda polls of a DynamoDB stream shard", Value: 4, Unit: "polls/s",
		Source: srcLambdaDDB, Note: "a record waits 125 ms on average for its poll when the shard keeps up"},
	// BatchSize up to 10,000 (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html).
	{ID: QStreamBatch, Name: "DynamoDB stream event source mapping BatchSize (max)", Value: 10000, Unit: "records",
		Source: srcLambdaDDBParam, Note: "the stack sets 100"},
	// ParallelizationFactor up to 10 (same page).
	{ID: QStreamParallel, Name: "DynamoDB stream ParallelizationFactor (max)", Value: 10, Unit: "batches per shard",
		Source: srcLambdaDDBParam, Note: "the stack sets 1"},
	// No more than two readers of a stream shard at once
	// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
	{ID: QStreamReaders, Name: "Simultaneous readers of a DynamoDB stream shard", Value: 2, Unit: "readers",
		Source: srcDDBQuotas, Note: "the tagger's mapping is one; the platform may add one more, not two"},
	// A partition takes 1,000 WCU and 3,000 RCU a second
	// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html).
	{ID: QPartitionWrites, Name: "DynamoDB writes per partition", Value: 1000, Unit: "WCU/s",
		Source: srcDDBPartitions, Note: "one stream shard per partition; the ledger chain is one partition key"},
	{ID: QPartitionReads, Name: "DynamoDB reads per partition", Value: 3000, Unit: "RCU/s", Source: srcDDBPartitions},
	// On-demand tables: 40,000 write request units a second per table by
	// default (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
	{ID: QTableWrites, Name: "DynamoDB on-demand table writes (per table)", Value: 40000, Unit: "WRU/s",
		Source: srcDDBQuotas, Note: "adjustable; 40,000 RRU/s for reads too"},
	// TransactWriteItems: 100 actions, 4 MB
	// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
	{ID: QTransactItems, Name: "TransactWriteItems actions per transaction", Value: 100, Unit: "items",
		Source: srcDDBTransact, Note: "and 4 MB; the ledger writes 49 entries (99 items) at most per transaction"},
	// A transactional write costs 2 WCU per KB
	// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html).
	{ID: QTransactWCU, Name: "Write units per transactional item of 1 KB", Value: 2, Unit: "WCU",
		Source: srcDDBTxCapacity},
	// PutEvents requests a second, by region
	// (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html).
	{ID: QPutEvents, Name: "EventBridge PutEvents requests", Value: 400, Unit: "requests/s",
		ByRegion: map[string]float64{"us-east-1": 10000, "eu-west-1": 10000, "eu-central-1": 2400},
		Source:   srcEBQuotas, Note: "per account and region, all buses; 400 in the smallest regions"},
	// 10 entries per PutEvents request
	// (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html).
	{ID: QPutEventsEntries, Name: "EventBridge PutEvents entries per request", Value: 10, Unit: "entries",
		Source: srcEBPutEvents},
	// Rule target invocations a second, by region (same page as PutEvents).
	{ID: QInvocations, Name: "EventBridge invocations (rule targets)", Value: 750, Unit: "invocations/s",
		ByRegion: map[string]float64{"us-east-1": 18750, "eu-west-1": 18750, "eu-central-1": 4500},
		Source:   srcEBQuotas, Note: "throttled invocations are delayed, not dropped"},
	// FIFO queues: 300 transactions a second per API action (3,000
	// messages with batches of 10) without high throughput mode
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html).
	{ID: QFIFOAction, Name: "SQS FIFO transactions per API action (standard throughput)", Value: 300, Unit: "TPS",
		Source: srcSQSQuotas, Note: "the ledger queue's mode today; 3,000 messages/s when every call carries 10"},
	// High throughput mode: 70,000 TPS per action in us-east-1 and
	// eu-west-1; other regions less (quotas-messages page, high throughput
	// section).
	{ID: QFIFOHighAction, Name: "SQS FIFO transactions per API action (high throughput mode)", Value: 2400, Unit: "TPS",
		ByRegion: map[string]float64{"us-east-1": 70000, "eu-west-1": 70000},
		Source:   srcSQSQuotas, Note: "eu-central-1: the page's value is lower than 70,000; the model uses 2,400, the smallest tier, as a floor"},
	// A message group lives in one partition: 300 TPS per action, 3,000
	// messages with batching, in either mode
	// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/high-throughput-fifo.html).
	{ID: QFIFOGroup, Name: "SQS FIFO transactions per message group (one partition)", Value: 300, Unit: "TPS",
		Source: srcSQSHighFIFO, Note: "the ledger queue has one message group per region chain"},
	// Lambda reads a FIFO message group one batch at a time
	// (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html).
	{ID: QLambdaFIFO, Name: "Lambda batches in flight per FIFO message group", Value: 1, Unit: "batch",
		Source: srcLambdaSQS, Note: "so a chain is appended by one ledger invocation at a time"},
	// GenerateMac shares the symmetric cryptographic quota: 10,000 a second
	// by default, 20,000 in eu-central-1
	// (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html).
	{ID: QKMSSymmetric, Name: "KMS symmetric and HMAC requests (GenerateMac)", Value: 10000, Unit: "requests/s",
		ByRegion: map[string]float64{"eu-central-1": 20000},
		Source:   srcKMSQuotas, Note: "us-east-1 and eu-west-1 are in a higher tier of the page; 10,000 is the floor; Residency calls GenerateMac once per cold start"},
	// ECC keys (ECC_NIST_P256 Sign): 300 requests a second (same page).
	{ID: QKMSECC, Name: "KMS ECC requests (Sign, ECC_NIST_P256)", Value: 300, Unit: "requests/s",
		Source: srcKMSQuotas, Note: "the ledger signs one digest per region an hour"},
}

// QuotaByID returns the quota with id; it panics on an unknown id, which is
// a bug of this package (the tests read every id the model uses).
func QuotaByID(id string) Quota {
	for _, q := range Quotas {
		if q.ID == id {
			return q
		}
	}
	panic(fmt.Sprintf("capacity: no quota %q", id))
}
