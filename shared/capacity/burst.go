package capacity

import "math"

// Exposure is what a region does with the misplaced records of a load and
// its burst. Times are in seconds; +Inf when a stage on the way never
// catches up.
type Exposure struct {
	Region string
	Load   Load
	// Steady is how long a misplaced record of the steady load stays in the
	// wrong region: its stream poll, the tagger's batch, EventBridge's
	// delivery and the relocation.
	Steady float64
	// Rate is the misplaced records/s of the burst that the path from the
	// stream to the router's delete takes on top of the steady load, and
	// Limit the stage that sets it.
	Rate  float64
	Limit string
	// Drain is how long the burst takes to be gone from the wrong region;
	// Last is how long its last record stays there.
	Drain, Last float64
	// Ledger is how long until the burst's violations and relocations are
	// all in the ledger (the evidence lags; the data does not wait for it).
	Ledger float64
	// LedgerLimit is the stage that sets Ledger.
	LedgerLimit string
}

func stageByName(st []Stage, name string) Stage {
	for _, s := range st {
		if s.Name == name {
			return s
		}
	}
	panic("capacity: no stage " + name)
}

func spare(s Stage) float64 { return math.Max(0, s.Capacity-s.Demand) }

// Exposure computes region's exposure at l.
func (md Model) Exposure(region string, l Load) Exposure {
	st := md.Stages(region, l)
	d := md.Deployment
	e := Exposure{Region: region, Load: l}
	onPath := []string{StageTable, StageTagger, StagePutEvents, StageInvocations, StageConcurrency}
	violations := l.Misplaced * l.Writes
	n := md.violationBatch(violations)
	e.Steady = (1000/QuotaByID(QStreamPolls).Value/2+md.taggerBatch(steadyMix(l.Misplaced))+
		md.Costs.Delivery+md.routerBatch(n))/1000 + md.routerWait(violations)
	for _, n := range onPath {
		if stageByName(st, n).Utilization() >= 1 {
			e.Steady = math.Inf(1)
		}
	}
	// The burst's rate through each stage, in misplaced records/s.
	shards := md.shards(l)
	tagger := stageByName(st, StageTagger)
	entries := QuotaByID(QPutEventsEntries).Value
	rates := []struct {
		stage string
		rate  float64
	}{
		// Its INSERT, its tag's echo and its REMOVE, in the time the
		// shards have left.
		{StageTagger, shards * d.Parallelization * math.Max(0, 1-tagger.Utilization()) *
			d.StreamBatch / md.taggerBatch(burstMix) * 1000 / 3},
		// Record Tagged, Residency Violation and Record Relocated, 10 to a
		// request.
		{StagePutEvents, spare(stageByName(st, StagePutEvents)) / (3 / entries)},
		{StageInvocations, spare(stageByName(st, StageInvocations))},
		// Every shard's tagger busy; the router has what is left, in full
		// batches.
		{StageConcurrency, math.Max(0, QuotaByID(QLambdaConcurrency).Value-shards*d.Parallelization-d.LedgerGroups) *
			d.ViolationBatch / md.routerBatch(d.ViolationBatch) * 1000},
		// The tag write and the delete of each.
		{StageTable, spare(stageByName(st, StageTable)) / (2 * md.Costs.ItemKB)},
	}
	e.Rate = math.Inf(1)
	for _, r := range rates {
		if r.rate < e.Rate {
			e.Rate, e.Limit = r.rate, r.stage
		}
	}
	e.Drain = drain(l.Burst, e.Rate)
	e.Last = e.Drain + e.Steady
	// The ledger: two entries per record; the queue takes a send per 10
	// relocations and one per tagger batch.
	ledger := spare(stageByName(st, StageLedger)) / 2
	queue := spare(stageByName(st, StageQueue)) / (0.1 + 3/d.StreamBatch)
	e.LedgerLimit = StageLedger
	if queue < ledger {
		ledger, e.LedgerLimit = queue, StageQueue
	}
	if e.Rate < ledger {
		ledger, e.LedgerLimit = e.Rate, e.Limit
	}
	e.Ledger = drain(l.Burst, ledger)
	return e
}

func drain(n, rate float64) float64 {
	if rate <= 0 {
		return math.Inf(1)
	}
	return n / rate
}
