package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/jurisdiction"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
)

// Kinds of register row.
const (
	RowTransfer = "transfer" // transfers decided by the router, from the ledger
	RowHosting  = "hosting"  // records held in a region outside the exporter's regime, from the catalog
)

// RegisterRow is one line of the transfer register (GDPR Art. 30(1)(e)):
// restricted transfers only, allowed and denied, per destination country,
// importer, mechanism and reference; and the hosting of records in a region
// outside the exporter's regime, per region and category.
type RegisterRow struct {
	// Kind is "transfer" or "hosting".
	Kind       string   `json:"kind"`
	ToCountry  string   `json:"to_country"`
	Importer   string   `json:"importer"`
	Mechanism  string   `json:"mechanism"`
	Reference  string   `json:"reference"`
	Categories []string `json:"categories"`
	// Allowed and Denied count the transfer decisions (transfer rows).
	Allowed int `json:"allowed"`
	Denied  int `json:"denied"`
	// Region and Records are where a hosting row's records are held and
	// how many the catalog holds when the report is made (hosting rows);
	// Reason says why hosting with no mechanism is not covered.
	Region  string `json:"region,omitempty"`
	Records int    `json:"records,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// FirstSeen and LastSeen are the first and last decision (transfer
	// rows) or tagging of a record held (hosting rows).
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// ExpiringMechanism is a policy mechanism that ends in the report's period
// or within 90 days of its end ([policy.ExpiryWarning]), with the transfers
// of the period and the records hosted that relied on it.
type ExpiringMechanism struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Importer string `json:"importer"`
	// LastDay is the last day it covers transfers (YYYY-MM-DD); Expired
	// says that day is before the end of the report's period.
	LastDay       string `json:"last_day"`
	Expired       bool   `json:"expired"`
	Transfers     int    `json:"transfers"`
	HostedRecords int    `json:"hosted_records"`
}

// Catalog is what a report reads of the catalog: the records a region holds,
// by category, and a subject's records.
type Catalog interface {
	CountByCategory(ctx context.Context, region string) ([]catalog.Count, error)
	EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error)
}

// register adds a transfer or denial entry to its register row; an
// unrestricted transfer (allowed on no mechanism) is only counted.
func (s *summarizer) register(e *ledger.Entry) {
	s.sum.ByMechanism[mechanismOrDenied(e)]++
	if e.Kind == ledger.KindTransfer && (e.Mechanism == policy.MechanismNone || e.Mechanism == "") {
		s.sum.Unrestricted++
		return
	}
	ref := e.Reference
	if e.Kind == ledger.KindDenial {
		ref = "" // a denial's reference is its reason, one per request
	}
	k := [4]string{e.ToCountry, e.Importer, e.Mechanism, ref}
	row := s.reg[k]
	if row == nil {
		row = &RegisterRow{Kind: RowTransfer, ToCountry: e.ToCountry, Importer: e.Importer, Mechanism: e.Mechanism, Reference: ref,
			FirstSeen: e.Time, Categories: []string{}}
		s.reg[k] = row
	}
	if e.Kind == ledger.KindTransfer {
		row.Allowed++
	} else {
		row.Denied++
	}
	if e.Category != "" && !slices.Contains(row.Categories, e.Category) {
		row.Categories = append(row.Categories, e.Category)
		slices.Sort(row.Categories)
	}
	if e.Time.Before(row.FirstSeen) {
		row.FirstSeen = e.Time
	}
	if e.Time.After(row.LastSeen) {
		row.LastSeen = e.Time
	}
}

func sortRegister(reg []RegisterRow) {
	slices.SortFunc(reg, func(a, b RegisterRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ToCountry, b.ToCountry), cmp.Compare(a.Importer, b.Importer),
			cmp.Compare(a.Region, b.Region), cmp.Compare(a.Mechanism, b.Mechanism), cmp.Compare(a.Reference, b.Reference),
			slices.Compare(a.Categories, b.Categories))
	})
}

// addHosting adds the hosting rows: for each region outside the
// organization's regime, each personal category the region's catalog holds
// records of is disclosed to the policy's hosting provider there, a
// transfer decided as any other (the region's country, the provider as
// importer). The counts are the catalog's when the report is made; a
// report about one subject has no hosting rows.
func addHosting(ctx context.Context, sum *Summary, q Query, opt Options) error {
	p := opt.Policy
	if p == nil || p.Hosting == nil || opt.Catalog == nil || q.SubjectRef != "" || !q.wants(ledger.KindTransfer) {
		return nil
	}
	regime, ok := jurisdiction.RegimeOf(p.Organization.Country)
	if !ok {
		return nil
	}
	for _, region := range opt.regions() {
		country, ok := jurisdiction.RegionCountry(region)
		if !ok || regime.Covers(country) || (q.Region != "" && q.Region != region) || (q.Destination != "" && q.Destination != country) {
			continue
		}
		counts, err := opt.Catalog.CountByCategory(ctx, region)
		if err != nil {
			return fmt.Errorf("hosting rows: %w", err)
		}
		for _, c := range counts {
			if cat, ok := p.Category(c.Category); !ok || !cat.Personal {
				continue
			}
			d, err := p.Transfer(policy.TransferRequest{FromCountry: country, ToCountry: country, Importer: p.Hosting.Name, Category: c.Category}, opt.Now)
			if err != nil {
				return fmt.Errorf("hosting rows: %s in %s: %w", c.Category, region, err)
			}
			if !d.Restricted || (q.Mechanism != "" && q.Mechanism != d.Mechanism) {
				continue
			}
			row := RegisterRow{Kind: RowHosting, ToCountry: country, Importer: p.Hosting.Name, Mechanism: d.Mechanism, Reference: d.Reference,
				Categories: []string{c.Category}, Region: region, Records: c.Records, FirstSeen: c.FirstTagged.UTC(), LastSeen: c.LastTagged.UTC()}
			if d.Decision != policy.DecisionAllowed {
				row.Reason = d.Reason
			}
			sum.Register = append(sum.Register, row)
		}
	}
	sortRegister(sum.Register)
	return nil
}

// expiring lists the policy's mechanisms that end after the report's start
// and no later than 90 days after its end (its To, else its generation
// time), with the register's transfers and hosted records citing each.
func expiring(sum *Summary, q Query, opt Options) []ExpiringMechanism {
	out := []ExpiringMechanism{}
	if opt.Policy == nil {
		return out
	}
	end := q.To
	if end.IsZero() {
		end = opt.Now
	}
	for _, m := range opt.Policy.Expiring(q.From, end.Add(policy.ExpiryWarning)) {
		x := ExpiringMechanism{ID: m.ID, Type: string(m.Type), Importer: m.Importer.Name, LastDay: m.LastDay().Format(time.DateOnly),
			Expired: !m.End().After(end)}
		for _, row := range sum.Register {
			if m.Cites(row.Reference) {
				x.Transfers += row.Allowed
				x.HostedRecords += row.Records
			}
		}
		out = append(out, x)
	}
	return out
}
