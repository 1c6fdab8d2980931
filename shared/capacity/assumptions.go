package capacity

// Assumption is a per-record cost or latency the model uses that is not a
// quota: measured here by a benchmark, or assumed.
type Assumption struct {
	Name  string
	Value float64
	Unit  string
	// Measured names the benchmark that measured it ("" when assumed).
	Measured string
	Note     string
}

// Costs are the per-record costs and latencies of the model, in
// milliseconds unless named otherwise.
type Costs struct {
	// RoundTrip is a DynamoDB call from a function in the same region.
	RoundTrip float64
	// CrossRegion is a DynamoDB call to the home region (us-east-1 to
	// eu-central-1).
	CrossRegion float64
	// TagAndCatalog is the tag write and catalog write of one record at 8
	// in flight, at RoundTrip (BenchmarkBatchWrites: a 1,000-record batch).
	TagAndCatalog float64
	// TaggerCPU is the tagger's CPU per stream record on the machine that
	// measured it (BenchmarkPipeline, pipeline-decodestream).
	TaggerCPU float64
	// BenchVCPUs is the CPU the benchmark had: one core.
	BenchVCPUs float64
	// Invoke is the overhead of one invocation by an event source mapping.
	Invoke float64
	// PutEvents and SQSSend are one call of each.
	PutEvents, SQSSend float64
	// Transact is one TransactWriteItems of a ledger batch.
	Transact float64
	// Delivery is EventBridge's delay from PutEvents to the target's
	// invocation.
	Delivery float64
	// ItemKB is the size of a record, a catalog entry and a ledger entry.
	ItemKB float64
	// CatalogIndexes are the catalog's global secondary indexes a new entry
	// writes (due index and subject index).
	CatalogIndexes float64
}

// DefaultCosts are the figures the doc is computed with.
var DefaultCosts = Costs{
	RoundTrip:      4,
	CrossRegion:    90,
	TagAndCatalog:  0.56,
	TaggerCPU:      0.005,
	BenchVCPUs:     1,
	Invoke:         20,
	PutEvents:      20,
	SQSSend:        10,
	Transact:       20,
	Delivery:       500,
	ItemKB:         1,
	CatalogIndexes: 2,
}

// Assumptions lists c with where each figure comes from.
func (c Costs) Assumptions() []Assumption {
	return []Assumption{
		{Name: "DynamoDB round trip in region", Value: c.RoundTrip, Unit: "ms", Note: "assumed (the figure BenchmarkBatchWrites simulates)"},
		{Name: "DynamoDB round trip us-east-1 to eu-central-1", Value: c.CrossRegion, Unit: "ms", Note: "assumed (transatlantic RTT plus the call)"},
		{Name: "tag write and catalog write per record, 8 in flight", Value: c.TagAndCatalog, Unit: "ms",
			Measured: "BenchmarkBatchWrites (shared/dynamostore): 560 ms for a 1,000-record batch at 4 ms a call"},
		{Name: "tagger CPU per stream record (decode, decide, build the writes)", Value: c.TaggerCPU, Unit: "ms",
			Measured: "BenchmarkPipeline/pipeline-decodestream (functions/tagger): 5.0 ms per 1,000 records; scaled by 1,769 MB / 256 MB for the function"},
		{Name: "keyed reference (HMAC-SHA256) per subject", Value: 0.0003, Unit: "ms",
			Measured: "BenchmarkSubject (shared/pseudonym): 308 ns; part of the CPU figure above"},
		{Name: "local stack end to end, 1,000-record batches, 1 in 150 misplaced", Value: 20650, Unit: "records/s",
			Measured: "BenchmarkRun (shared/local), median of 3 runs, 2026-12-06; for comparison only: SQLite, one process, no network"},
		{Name: "local stack end to end, 1,000-record batches, 10% misplaced", Value: 15114, Unit: "records/s",
			Measured: "BenchmarkRun (shared/local), median of 3 runs, 2026-12-06; for comparison only"},
		{Name: "local stack end to end, 1,000-record batches, every record misplaced", Value: 4574, Unit: "records/s",
			Measured: "BenchmarkRun (shared/local), median of 3 runs, 2026-12-06; for comparison only"},
		{Name: "event source mapping invocation overhead", Value: c.Invoke, Unit: "ms", Note: "assumed"},
		{Name: "PutEvents call", Value: c.PutEvents, Unit: "ms", Note: "assumed"},
		{Name: "SQS SendMessageBatch call", Value: c.SQSSend, Unit: "ms", Note: "assumed"},
		{Name: "TransactWriteItems of a ledger batch", Value: c.Transact, Unit: "ms", Note: "assumed"},
		{Name: "EventBridge delivery to the router", Value: c.Delivery, Unit: "ms", Note: "assumed"},
		{Name: "record, catalog entry and ledger entry size", Value: c.ItemKB, Unit: "KB", Note: "assumed: every write is 1 WRU (2 in a transaction)"},
		{Name: "catalog indexes written per new entry", Value: c.CatalogIndexes, Unit: "GSIs", Note: "the due and subject indexes (infra/resources.go)"},
	}
}

// Deployment is how the stack configures the path (infra/triggers.go,
// infra/functions.go, shared/dynamostore).
type Deployment struct {
	StreamBatch, Parallelization float64
	LedgerBatch                  float64
	// TagWritesInFlight is the tagger's concurrent conditional writes.
	TagWritesInFlight float64
	// PutEventsInFlight is the concurrent PutEvents calls of one publish
	// (shared/awsadapter/eventbus).
	PutEventsInFlight float64
	// MemoryMB per function.
	MemoryMB map[string]float64
	// LedgerGroups is the message groups (chains) per region.
	LedgerGroups float64
	// ViolationBatch and ViolationWindow are the violations queue's event
	// source mapping: up to ViolationBatch messages an invocation, gathered
	// for at most ViolationWindow seconds (infra/triggers.go).
	ViolationBatch, ViolationWindow float64
	// WritesInFlight is the store's concurrent conditional writes of one
	// batch (dynamostore's parallel): the router's puts and deletes.
	WritesInFlight float64
}

// DefaultDeployment is the stack as built today.
var DefaultDeployment = Deployment{
	StreamBatch: 100, Parallelization: 1, LedgerBatch: 10, TagWritesInFlight: 8, PutEventsInFlight: 8, LedgerGroups: 1,
	ViolationBatch: 100, ViolationWindow: 5, WritesInFlight: 8,
	MemoryMB: map[string]float64{"tagger": 256, "router": 256, "ledger": 256, "retention": 512, "reports": 512},
}
