package capacity

import (
	"fmt"
	"math"
	"slices"
)

// Load is the traffic of one region.
type Load struct {
	Name string
	// Writes are the platform's writes to watched tables, per second.
	Writes float64
	// Misplaced is the fraction of them written in a region their policy
	// does not allow.
	Misplaced float64
	// Burst is a number of misplaced records written at once on top.
	Burst float64
}

// BaseLoad is the stated load: 2,000 writes/s per region, 1% misplaced,
// and a burst of one million misplaced records.
var BaseLoad = Load{Name: "1x", Writes: 2000, Misplaced: 0.01, Burst: 1e6}

// Scaled returns l with k times the writes (the burst stays the same).
func (l Load) Scaled(k float64, name string) Load {
	l.Writes *= k
	l.Name = name
	return l
}

// Loads are the loads of the doc: 1x, 10x and 100x of BaseLoad.
var Loads = []Load{BaseLoad, BaseLoad.Scaled(10, "10x"), BaseLoad.Scaled(100, "100x")}

// Stage is one step of the path at a load: what it can take and what the
// load asks of it, in Unit per second.
type Stage struct {
	Name string
	Unit string
	// Capacity and Demand are in Unit per second (Lambda concurrency: in
	// executions).
	Capacity, Demand float64
	// Quotas are the ids of the quotas that set Capacity.
	Quotas []string
	// Ours is true when the limit comes from how Residency uses the
	// service (and a change of ours removes it), false for an AWS quota
	// that only a quota increase raises.
	Ours bool
	// Fix is what removes the bottleneck.
	Fix string
}

// Utilization is Demand over Capacity: above 1 the stage falls behind.
func (s Stage) Utilization() float64 {
	if s.Capacity <= 0 {
		return math.Inf(1)
	}
	return s.Demand / s.Capacity
}

// Model computes the stages of a region at a load.
type Model struct {
	Costs      Costs
	Deployment Deployment
}

// Default is the model with DefaultCosts and DefaultDeployment.
var Default = Model{Costs: DefaultCosts, Deployment: DefaultDeployment}

// mix is what a stream batch holds, as fractions of its records.
type mix struct {
	writes, removes float64 // records to tag; REMOVEs (the rest are tag echoes)
	violations      float64 // fraction of the writes that are misplaced
}

// steadyMix: each platform write streams its INSERT and the echo of its
// tag; a misplaced one also the REMOVE of the router's delete.
func steadyMix(m float64) mix {
	n := 2 + m
	return mix{writes: 1 / n, removes: m / n, violations: m}
}

// burstMix: every record misplaced.
var burstMix = mix{writes: 1.0 / 3, removes: 1.0 / 3, violations: 1}

// streamRecords is the stream records per platform write.
func streamRecords(m float64) float64 { return 2 + m }

// cpuScale turns the benchmark's CPU time into the function's.
func (md Model) cpuScale(fn string) float64 {
	vcpus := md.Deployment.MemoryMB[fn] / QuotaByID(QLambdaVCPU).Value
	return md.Costs.BenchVCPUs / vcpus
}

// taggerBatch is the time (ms) of a full stream batch of mix x.
func (md Model) taggerBatch(x mix) float64 {
	c, d := md.Costs, md.Deployment
	entries := QuotaByID(QPutEventsEntries).Value
	perRecord := c.TaggerCPU*md.cpuScale("tagger") +
		x.writes*(c.TagAndCatalog*c.RoundTrip/DefaultCosts.RoundTrip+
			// their ledger entries, 10 to a SendMessageBatch.
			x.violations*c.SQSSend/10) +
		// a REMOVE: one conditional catalog delete, TagWritesInFlight in
		// flight.
		x.removes*c.RoundTrip/d.TagWritesInFlight
	// Record Tagged for each write, Residency Violation for the
	// misplaced, 10 to a PutEvents call, PutEventsInFlight calls at once.
	calls := math.Ceil(d.StreamBatch * x.writes * (1 + x.violations) / entries)
	publish := math.Ceil(calls/d.PutEventsInFlight) * c.PutEvents
	// Per batch: the invocation, and one look at the erased list
	// (BatchGetItem, 100 keys a call, 4 calls at once).
	return c.Invoke + c.RoundTrip + d.StreamBatch*perRecord + publish
}

// shards is the stream shards of the watched table at l: one per
// partition; an on-demand table holds capacity for twice its previous
// peak, and a partition takes 1,000 WCU, so the table has at least that
// many. Fewer shards mean more records per shard: this is the tagger's
// worst case.
func (md Model) shards(l Load) float64 {
	wcu := l.Writes * md.tableWRUPerWrite(l.Misplaced)
	return math.Max(1, math.Ceil(2*wcu/QuotaByID(QPartitionWrites).Value))
}

// tableWRUPerWrite: the platform's write, the tagger's tag write, and the
// router's delete of a misplaced record.
func (md Model) tableWRUPerWrite(m float64) float64 { return (2 + m) * md.Costs.ItemKB }

// routerBatch is one router invocation of n violations (ms), as
// router.relocate does them: one BatchGetItem of the misplaced records,
// the conditional puts home WritesInFlight at a time, one BatchGetItem of
// the copies home, the conditional deletes WritesInFlight at a time, then
// the ledger entries 10 to a SendMessageBatch and Record Relocated 10 to a
// PutEvents call.
func (md Model) routerBatch(n float64) float64 {
	c, d := md.Costs, md.Deployment
	n = math.Max(1, n)
	inFlight := math.Ceil(n / d.WritesInFlight)
	tens := math.Ceil(n / 10)
	return c.Invoke + math.Ceil(n/100)*c.RoundTrip + inFlight*c.CrossRegion + math.Ceil(n/100)*c.CrossRegion +
		inFlight*c.RoundTrip + tens*c.SQSSend + tens*c.PutEvents
}

// violationBatch is the violations an invocation gets at l: what the queue
// gathers within the batching window, at most ViolationBatch, at least one.
func (md Model) violationBatch(violations float64) float64 {
	d := md.Deployment
	return math.Max(1, math.Min(d.ViolationBatch, violations*d.ViolationWindow))
}

// routerWait is how long a violation waits in the queue for its batch (s):
// until the batch is full or the window ends.
func (md Model) routerWait(violations float64) float64 {
	d := md.Deployment
	if violations <= 0 {
		return d.ViolationWindow
	}
	return math.Min(d.ViolationWindow, d.ViolationBatch/violations)
}

// ledgerBatch is one ledger invocation (ms), as dynamostore.Store.Append
// does it: read the head (GetItem) then the Merkle tree's stored hashes it
// extends (one BatchGetItem), and beside them the entries' id items (one
// BatchGetItem, whatever the batch's size up to 49): two round trips one
// after another; then one transaction.
func (md Model) ledgerBatch() float64 {
	c := md.Costs
	return c.Invoke + 2*c.RoundTrip + c.Transact
}

// ledgerChainCapacity is the entries/s one chain (message group) takes:
// one batch at a time, and at most what its partition key takes in
// transactional writes.
func (md Model) ledgerChainCapacity() float64 {
	byTime := md.Deployment.LedgerBatch / md.ledgerBatch() * 1000
	byPartition := QuotaByID(QPartitionWrites).Value / (QuotaByID(QTransactWCU).Value * md.Costs.ItemKB)
	return math.Min(byTime, byPartition)
}

// Stage names.
const (
	StageTable       = "platform table writes"
	StageTagger      = "stream shards -> tagger"
	StagePutEvents   = "EventBridge PutEvents"
	StageInvocations = "EventBridge invocations"
	StageConcurrency = "Lambda concurrency"
	StageQueue       = "ledger queue (SQS FIFO, one group)"
	StageLedger      = "ledger chain append"
	StageCatalog     = "catalog table writes"
)

// Stages are the stages of region at l, in the order a record meets them.
func (md Model) Stages(region string, l Load) []Stage {
	d := md.Deployment
	m, w := l.Misplaced, l.Writes
	violations := m * w
	shards := md.shards(l)
	tBatch := md.taggerBatch(steadyMix(m))
	perShard := d.Parallelization * d.StreamBatch / tBatch * 1000 // stream records/s
	taggerCap := shards * perShard / streamRecords(m)             // platform writes/s
	taggerBusy := shards * d.Parallelization * math.Min(1, w/taggerCap)
	entries := QuotaByID(QPutEventsEntries).Value
	// The tagger sends each batch's events 10 to a request, and so does
	// the router its Record Relocated.
	putEvents := w*(1+m)/entries + violations/entries
	n := md.violationBatch(violations)
	routerBusy := violations / n * md.routerBatch(n) / 1000
	// SQS sends to the chain's group: the tagger once per batch that has a
	// violation, the router once per 10 relocations of a batch.
	batches := w * streamRecords(m) / d.StreamBatch
	perBatch := d.StreamBatch * steadyMix(m).writes * m
	taggerSends := batches * (1 - math.Exp(-perBatch)) // batches with at least one
	ledgerEntries := 2 * violations                    // the violation and the relocation
	return []Stage{
		{Name: StageTable, Unit: "WRU", Capacity: QuotaByID(QTableWrites).In(region), Demand: w * md.tableWRUPerWrite(m),
			Quotas: []string{QTableWrites, QPartitionWrites}, Ours: false,
			Fix: "ask for a higher per-table quota; the tag write doubles the platform's writes, so a tag kept in the catalog only (not on the record) would halve them"},
		{Name: StageTagger, Unit: "writes", Capacity: taggerCap, Demand: w,
			Quotas: []string{QStreamPolls, QStreamBatch, QStreamParallel, QPartitionWrites}, Ours: true,
			Fix: fmt.Sprintf("raise ParallelizationFactor (%s today, up to %s) in infra/triggers.go; a batch's events already go %s PutEvents calls at once",
				num(d.Parallelization), num(QuotaByID(QStreamParallel).Value), num(d.PutEventsInFlight))},
		{Name: StagePutEvents, Unit: "requests", Capacity: QuotaByID(QPutEvents).In(region), Demand: putEvents,
			Quotas: []string{QPutEvents, QPutEventsEntries}, Ours: true,
			Fix: "publish Record Tagged only when someone subscribes (or in summary events); else a quota increase"},
		{Name: StageInvocations, Unit: "invocations", Capacity: QuotaByID(QInvocations).In(region), Demand: violations,
			Quotas: []string{QInvocations}, Ours: true,
			Fix: "each violation is one EventBridge invocation, also to the SQS queue: the tagger sending violations to the queue itself (SendMessageBatch) would skip the rule (new issue)"},
		{Name: StageConcurrency, Unit: "executions", Capacity: QuotaByID(QLambdaConcurrency).Value,
			Demand: taggerBusy + routerBusy + d.LedgerGroups,
			Quotas: []string{QLambdaConcurrency, QStreamParallel}, Ours: false,
			Fix: "a concurrency quota increase (the router takes up to 100 violations an execution already)"},
		{Name: StageQueue, Unit: "sends", Capacity: QuotaByID(QFIFOGroup).Value * d.LedgerGroups, Demand: taggerSends + violations/10,
			Quotas: []string{QFIFOGroup, QFIFOAction, QFIFOHighAction}, Ours: true,
			Fix: "more message groups (a chain per shard; the router already sends a batch's entries 10 to a call); high throughput mode alone does not lift one group's limit"},
		{Name: StageLedger, Unit: "entries", Capacity: md.ledgerChainCapacity() * d.LedgerGroups, Demand: ledgerEntries,
			Quotas: []string{QLambdaFIFO, QTransactItems, QTransactWCU, QPartitionWrites}, Ours: true,
			Fix: "shard the chain per message group with a merged, signed digest (new issue, with issue 18's checkpoints); a batch already reads its ids with one BatchGetItem, and an SQS FIFO trigger delivers at most 10 messages"},
		{Name: StageCatalog, Unit: "WRU", Capacity: QuotaByID(QTableWrites).In(region),
			Demand: w * (1 + m) * md.Costs.ItemKB, // an entry per write, a delete per relocation
			Quotas: []string{QTableWrites}, Ours: true,
			Fix: "a per-table quota increase for the catalog (its indexes have their own); or a catalog table per source"},
	}
}

// Bottleneck returns the stage with the highest utilization at l: the
// first to fall behind as the load grows (with its utilization; below 1 it
// still keeps up, at 1/utilization times the load it will not).
func (md Model) Bottleneck(region string, l Load) Stage {
	st := md.Stages(region, l)
	return slices.MaxFunc(st, func(a, b Stage) int {
		switch ua, ub := a.Utilization(), b.Utilization(); {
		case ua < ub:
			return -1
		case ua > ub:
			return 1
		}
		return 0
	})
}
