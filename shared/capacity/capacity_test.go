package capacity

import (
	"bytes"
	"flag"
	"math"
	"os"
	"strings"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "write docs/capacity.md from the model")

const capacityDoc = "../../docs/capacity.md"

// TestCapacityDoc keeps docs/capacity.md the same as what the model
// computes. Regenerate it with
// go test ./shared/capacity -run TestCapacityDoc -update-docs.
func TestCapacityDoc(t *testing.T) {
	want := Default.Markdown()
	if *updateDocs {
		if err := os.WriteFile(capacityDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(capacityDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the model computes: run go test ./shared/capacity -run TestCapacityDoc -update-docs", capacityDoc)
	}
}

func TestEveryQuotaHasASource(t *testing.T) {
	seen := map[string]bool{}
	for _, q := range Quotas {
		if seen[q.ID] {
			t.Errorf("expect unique quota ids, got %q twice", q.ID)
		}
		seen[q.ID] = true
		if !strings.HasPrefix(q.Source, "https://docs.aws.amazon.com/") {
			t.Errorf("quota %s: expect an AWS documentation page as source, got %q", q.ID, q.Source)
		}
		if q.Value <= 0 || q.Unit == "" || q.Name == "" {
			t.Errorf("quota %s: expect a name, a positive value and a unit, got %+v", q.ID, q)
		}
	}
	// Every quota a stage cites exists, in every region at every load.
	for _, r := range Regions {
		for _, l := range Loads {
			for _, s := range Default.Stages(r, l) {
				if len(s.Quotas) == 0 || s.Fix == "" {
					t.Errorf("%s %s %s: expect the quotas that set it and its fix", r, l.Name, s.Name)
				}
				for _, id := range s.Quotas {
					if !seen[id] {
						t.Errorf("%s: expect quota %q to be listed", s.Name, id)
					}
				}
			}
		}
	}
}

func TestPutEventsQuotaDiffersByRegion(t *testing.T) {
	q := QuotaByID(QPutEvents)
	cases := map[string]float64{"us-east-1": 10000, "eu-west-1": 10000, "eu-central-1": 2400, "ap-east-2": 400}
	for region, want := range cases {
		t.Run(region, func(t *testing.T) {
			if got := q.In(region); got != want {
				t.Errorf("expect %v requests/s, got %v", want, got)
			}
		})
	}
}

func TestBottleneckChangesWithLoad(t *testing.T) {
	cases := map[string]struct {
		load Load
		want string
	}{
		"1x":   {Loads[0], StageTagger},
		"10x":  {Loads[1], StageLedger},
		"100x": {Loads[2], StageLedger},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			for _, r := range Regions {
				if got := Default.Bottleneck(r, c.load); got.Name != c.want {
					t.Errorf("%s: expect %s, got %s (%.2f)", r, c.want, got.Name, got.Utilization())
				}
			}
		})
	}
	// At 1x every stage keeps up; at 10x at least one falls behind.
	if u := Default.Bottleneck("us-east-1", Loads[0]).Utilization(); u >= 1 {
		t.Errorf("expect every stage to keep up at 1x, got a share of %.2f", u)
	}
	if u := Default.Bottleneck("us-east-1", Loads[1]).Utilization(); u < 1 {
		t.Errorf("expect a stage to fall behind at 10x, got at most %.2f", u)
	}
}

func TestUtilizationGrowsWithLoad(t *testing.T) {
	for _, r := range Regions {
		low, high := Default.Stages(r, Loads[0]), Default.Stages(r, Loads[2])
		for i := range low {
			if high[i].Utilization() < low[i].Utilization() {
				t.Errorf("%s %s: expect at least the 1x share at 100x, got %.3f < %.3f", r, low[i].Name, high[i].Utilization(), low[i].Utilization())
			}
		}
	}
}

func TestFasterLedgerMovesTheBottleneck(t *testing.T) {
	// With the chain sharded into 40 message groups, the ledger and its
	// queue no longer bind at 10x.
	md := Default
	md.Deployment.LedgerGroups = 40
	if got := md.Bottleneck("us-east-1", Loads[1]); got.Name == StageLedger || got.Name == StageQueue {
		t.Errorf("expect the bottleneck to move off the ledger, got %s (%.2f)", got.Name, got.Utilization())
	}
}

// The tagger's fix says the deployment's figures, not the default's.
func TestTaggerFixSaysTheDeployment(t *testing.T) {
	cases := map[string]struct {
		parallelization, putEventsInFlight float64
		want                               string
	}{
		"the default": {1, 8, "raise ParallelizationFactor (1 today, up to 10) in infra/triggers.go; a batch's events already go 8 PutEvents calls at once"},
		"another":     {2, 4, "raise ParallelizationFactor (2 today, up to 10) in infra/triggers.go; a batch's events already go 4 PutEvents calls at once"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			md := Default
			md.Deployment.Parallelization, md.Deployment.PutEventsInFlight = c.parallelization, c.putEventsInFlight
			if got := stageByName(md.Stages("us-east-1", Loads[0]), StageTagger).Fix; got != c.want {
				t.Errorf("expect %q, got %q", c.want, got)
			}
		})
	}
}

func TestBurstDrain(t *testing.T) {
	e := Default.Exposure("us-east-1", Loads[0])
	if e.Rate <= 0 || math.IsInf(e.Drain, 0) {
		t.Fatalf("expect the burst to drain at 1x, got rate %v, drain %v", e.Rate, e.Drain)
	}
	if got := e.Drain * e.Rate; math.Abs(got-BaseLoad.Burst) > 1e-6*BaseLoad.Burst {
		t.Errorf("expect drain time times rate to be the burst, got %v", got)
	}
	if e.Last <= e.Drain || e.Steady <= 0 || e.Steady > 10 {
		t.Errorf("expect the last record exposed after the drain plus a steady exposure of seconds, got %+v", e)
	}
	if e.Ledger < e.Drain {
		t.Errorf("expect the ledger to complete after the data is gone, got %v < %v", e.Ledger, e.Drain)
	}
	// Twice the burst takes twice as long.
	l := Loads[0]
	l.Burst *= 2
	if got := Default.Exposure("us-east-1", l).Drain; math.Abs(got-2*e.Drain) > 1e-6*got {
		t.Errorf("expect twice the drain time for twice the burst, got %v and %v", got, e.Drain)
	}
	// At 100x the path is saturated: the burst never drains and the steady
	// exposure grows.
	if e := Default.Exposure("us-east-1", Loads[2]); !math.IsInf(e.Drain, 1) || !math.IsInf(e.Steady, 1) {
		t.Errorf("expect no drain at 100x, got %+v", e)
	}
}

func TestCostPerMillion(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-1"} {
		lines := Default.CostPerMillion(r, BaseLoad.Misplaced)
		for _, l := range lines {
			if l.Quantity < 0 || !strings.HasPrefix(l.Page, "https://aws.amazon.com/") {
				t.Errorf("%s %s: expect a quantity and a price page, got %+v", r, l.Item, l)
			}
		}
		// More misplaced records cost more.
		if lo, hi := Total(lines), Total(Default.CostPerMillion(r, 0.5)); hi <= lo {
			t.Errorf("%s: expect 50%% misplaced to cost more than 1%%, got %v <= %v", r, hi, lo)
		}
	}
	// Frankfurt's DynamoDB is dearer than Virginia's.
	if us, eu := Total(Default.CostPerMillion("us-east-1", 0.01)), Total(Default.CostPerMillion("eu-central-1", 0.01)); eu <= us {
		t.Errorf("expect eu-central-1 to cost more than us-east-1, got %v <= %v", eu, us)
	}
}

func TestNum(t *testing.T) {
	cases := map[float64]string{0: "0", 2.5: "2.5", 1000: "1,000", 1234567.4: "1,234,567", -40000: "-40,000", math.Inf(1): "never"}
	for in, want := range cases {
		if got := num(in); got != want {
			t.Errorf("num(%v): expect %q, got %q", in, want, got)
		}
	}
}
