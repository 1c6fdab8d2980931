package reporttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Appender is the ledger write the generator needs (the stores' Append).
type Appender interface {
	Append(ctx context.Context, region string, drafts []ledger.Entry) ([]ledger.Entry, error)
}

// Regions are the chains the generator writes.
var Regions = []string{"eu-central-1", "eu-west-1", "us-east-1"}

type flow struct {
	to, toRegion, importer, mechanism, reference, decision string
	kind                                                   ledger.Kind
}

var flows = []flow{
	{"US", "us-east-1", "Acme Inc", "scc", "scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)", "allowed", ledger.KindTransfer},
	{"US", "", "Example Processor Inc", "dpf", "dpf-example-processor (Decision (EU) 2023/1795)", "allowed", ledger.KindTransfer},
	{"JP", "", "Tokyo Insights KK", "adequacy", "Commission Implementing Decision (EU) 2019/419", "allowed", ledger.KindTransfer},
	{"GB", "", "London Metrics Ltd", "adequacy", "Commission Implementing Decision (EU) 2021/1772", "allowed", ledger.KindTransfer},
	{"CH", "", "Zurich Data AG", "adequacy", "Commission Decision 2000/518/EC", "allowed", ledger.KindTransfer},
	{"IN", "", "Bangalore Analytics Pvt Ltd", "derogation", "GDPR Art. 49(1)(a) explicit consent", "allowed", ledger.KindTransfer},
	{"IN", "", "Bangalore Analytics Pvt Ltd", "none", "no adequacy decision for IN; no SCC agreement; no BCR; no derogation", "denied", ledger.KindDenial},
	{"SG", "", "Lion City Labs Pte Ltd", "none", "no adequacy decision for SG; no SCC agreement; no BCR; no derogation", "denied", ledger.KindDenial},
}

var categories = []string{"events", "profile", "billing"}

func ref(prefix string, i int) string {
	sum := sha256.Sum256([]byte(prefix + strconv.Itoa(i)))
	return prefix + "_" + hex.EncodeToString(sum[:16])
}

// Generate appends n entries to l, spread evenly from start over period, in
// time order, deterministically for a seed. It appends in batches of at most
// batch entries per chain (each batch one transaction) and returns how many
// entries of each kind it wrote.
func Generate(ctx context.Context, l Appender, n int, start time.Time, period time.Duration, seed uint64) (map[ledger.Kind]int, error) {
	const batch = 5000
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pending := map[string][]ledger.Entry{}
	counts := map[ledger.Kind]int{}
	flush := func(region string) error {
		if len(pending[region]) == 0 {
			return nil
		}
		if _, err := l.Append(ctx, region, pending[region]); err != nil {
			return err
		}
		pending[region] = pending[region][:0]
		return nil
	}
	add := func(e ledger.Entry) error {
		counts[e.Kind]++
		pending[e.Region] = append(pending[e.Region], e)
		if len(pending[e.Region]) >= batch {
			return flush(e.Region)
		}
		return nil
	}
	step := period / time.Duration(max(n, 1))
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * step).UTC()
		subject := ref("sub", rng.IntN(50000))
		record := ref("rec", rng.IntN(200000))
		category := categories[rng.IntN(len(categories))]
		e := ledger.Entry{ID: "gen-" + strconv.Itoa(i), Time: at, Source: "users", Record: record, SubjectRef: subject,
			Category: category, PolicyVersion: "2026-11-01"}
		switch p := rng.IntN(100); {
		case p < 62: // transfers and denials, from the EU regions
			f := flows[rng.IntN(len(flows)-2)] // allowed
			if rng.IntN(10) == 0 {
				f = flows[len(flows)-2+rng.IntN(2)] // one request in ten is denied
			}
			e.Kind, e.Region, e.Actor = f.kind, Regions[rng.IntN(2)], "router"
			e.FromRegion, e.FromCountry = e.Region, map[string]string{"eu-central-1": "DE", "eu-west-1": "IE"}[e.Region]
			e.ToRegion, e.ToCountry, e.Importer, e.Mechanism, e.Reference, e.Decision = f.toRegion, f.to, f.importer, f.mechanism, f.reference, f.decision
		case p < 66: // a violation: an EU record found in the US, most relocated soon after
			e.Kind, e.Region, e.Actor, e.Decision = ledger.KindViolation, "us-east-1", "tagger", "relocate"
			e.FromRegion, e.FromCountry, e.ToRegion, e.ToCountry = "us-east-1", "US", "eu-central-1", "DE"
			e.Reference = "policy 2026-11-01 residency rule 1"
			if rng.IntN(10) < 9 && i+1 < n {
				if err := add(e); err != nil {
					return counts, err
				}
				i++
				e.ID, e.Time = "gen-"+strconv.Itoa(i), start.Add(time.Duration(i)*step).UTC()
				e.Kind, e.Actor, e.Decision = ledger.KindRelocation, "router", "relocated"
			}
		default: // a deletion receipt, retention or erasure
			e.Kind, e.Region, e.Actor, e.Decision = ledger.KindDeletion, Regions[rng.IntN(3)], "retention", "deleted"
			e.FromRegion = e.Region
			e.Reference = fmt.Sprintf("retention of %s: 25mo from created, due %s", category, at.Format(time.RFC3339))
			if rng.IntN(10) == 0 {
				e.Reference = "GDPR Art. 17 erasure request dsr-" + strconv.Itoa(i)
			}
		}
		if err := add(e); err != nil {
			return counts, err
		}
	}
	for _, r := range Regions {
		if err := flush(r); err != nil {
			return counts, err
		}
	}
	return counts, nil
}
