package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Ledger is what a report reads.
type Ledger interface {
	Chains(ctx context.Context) ([]string, error)
	ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error
	ScanLedger(ctx context.Context, q ledger.Query, fn func(*ledger.Entry) error) error
}

// Query selects what a report covers. Zero fields select everything.
type Query struct {
	From, To    time.Time // To is exclusive
	Kinds       []ledger.Kind
	Region      string
	Destination string // to_country
	Mechanism   string
	SubjectRef  string
}

// ChainStatus is the verification result of one region's chain.
type ChainStatus struct {
	Region      string      `json:"region"`
	Entries     int64       `json:"entries"`
	Verified    bool        `json:"verified"`
	Head        ledger.Head `json:"head"`
	FirstBadSeq int64       `json:"first_bad_seq,omitempty"`
	Problem     string      `json:"problem,omitempty"`
}

// LedgerStatus sums up the chains.
type LedgerStatus struct {
	Entries  int64                  `json:"entries"`
	Verified bool                   `json:"verified"`
	Head     map[string]ledger.Head `json:"head"`
	Chains   []ChainStatus          `json:"chains"`
}

// RegisterRow is one line of the transfer register.
type RegisterRow struct {
	ToCountry  string    `json:"to_country"`
	Importer   string    `json:"importer"`
	Mechanism  string    `json:"mechanism"`
	Reference  string    `json:"reference"`
	Categories []string  `json:"categories"`
	Allowed    int       `json:"allowed"`
	Denied     int       `json:"denied"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// Summary counts the entries of the report.
type Summary struct {
	ByKind      map[ledger.Kind]int `json:"by_kind"`
	ByMechanism map[string]int      `json:"by_mechanism"`
	Register    []RegisterRow       `json:"transfer_register"`
}

// Report is the compliance report.
type Report struct {
	From        string         `json:"from"`
	To          string         `json:"to"`
	GeneratedAt time.Time      `json:"generated_at"`
	Ledger      LedgerStatus   `json:"ledger"`
	Summary     Summary        `json:"summary"`
	Entries     []ledger.Entry `json:"entries"`
}

// Verify checks every region's chain from its first entry.
func Verify(ctx context.Context, l Ledger) (LedgerStatus, error) {
	st := LedgerStatus{Verified: true, Head: map[string]ledger.Head{}, Chains: []ChainStatus{}}
	regions, err := l.Chains(ctx)
	if err != nil {
		return st, err
	}
	for _, r := range regions {
		v := ledger.NewVerifier(r)
		cs := ChainStatus{Region: r}
		err := l.ScanChain(ctx, r, func(e *ledger.Entry) error {
			cs.Entries++
			v.Add(e)
			return nil
		})
		if err != nil {
			return st, err
		}
		cs.Head = v.Head()
		var b *ledger.BreakError
		if errors.As(v.Err(), &b) {
			cs.FirstBadSeq, cs.Problem = b.Seq, b.Reason
		} else {
			cs.Verified = true
		}
		st.Verified = st.Verified && cs.Verified
		st.Entries += cs.Entries
		st.Head[r] = cs.Head
		st.Chains = append(st.Chains, cs)
	}
	return st, nil
}

func (q Query) match(e *ledger.Entry) bool {
	return (q.Destination == "" || e.ToCountry == q.Destination) &&
		(q.Mechanism == "" || e.Mechanism == q.Mechanism) &&
		(q.SubjectRef == "" || e.SubjectRef == q.SubjectRef)
}

// Build reads the entries q selects and verifies the ledger.
func Build(ctx context.Context, l Ledger, q Query, now time.Time) (*Report, error) {
	status, err := Verify(ctx, l)
	if err != nil {
		return nil, fmt.Errorf("verify ledger: %w", err)
	}
	rep := &Report{
		From: dateOrEmpty(q.From), To: dateOrEmpty(q.To), GeneratedAt: now.UTC(), Ledger: status,
		Summary: Summary{ByKind: map[ledger.Kind]int{}, ByMechanism: map[string]int{}}, Entries: []ledger.Entry{},
	}
	for _, k := range ledger.Kinds {
		rep.Summary.ByKind[k] = 0
	}
	reg := map[[4]string]*RegisterRow{}
	err = l.ScanLedger(ctx, ledger.Query{From: q.From, To: q.To, Kinds: q.Kinds, Region: q.Region}, func(e *ledger.Entry) error {
		if !q.match(e) {
			return nil
		}
		rep.Entries = append(rep.Entries, *e)
		rep.Summary.ByKind[e.Kind]++
		if e.Kind != ledger.KindTransfer && e.Kind != ledger.KindDenial {
			return nil
		}
		rep.Summary.ByMechanism[mechanismOrDenied(e)]++
		ref := e.Reference
		if e.Kind == ledger.KindDenial {
			ref = "" // a denial's reference is its reason, one per request
		}
		k := [4]string{e.ToCountry, e.Importer, e.Mechanism, ref}
		row := reg[k]
		if row == nil {
			row = &RegisterRow{ToCountry: e.ToCountry, Importer: e.Importer, Mechanism: e.Mechanism, Reference: ref, FirstSeen: e.Time, Categories: []string{}}
			reg[k] = row
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
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, row := range reg {
		rep.Summary.Register = append(rep.Summary.Register, *row)
	}
	sort.Slice(rep.Summary.Register, func(i, j int) bool {
		a, b := rep.Summary.Register[i], rep.Summary.Register[j]
		return a.ToCountry+"\x00"+a.Importer+"\x00"+a.Mechanism < b.ToCountry+"\x00"+b.Importer+"\x00"+b.Mechanism
	})
	if rep.Summary.Register == nil {
		rep.Summary.Register = []RegisterRow{}
	}
	return rep, nil
}

func mechanismOrDenied(e *ledger.Entry) string {
	if e.Kind == ledger.KindDenial {
		return "denied"
	}
	return e.Mechanism
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Formats the report renders.
var Formats = []string{"table", "json", "csv"}

// Write renders the report in format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write(ledger.CSVHeader)
		for i := range r.Entries {
			cw.Write(r.Entries[i].CSVRow())
		}
		cw.Flush()
		return cw.Error()
	case "table", "":
		return r.writeTable(w)
	}
	return fmt.Errorf("unknown report format %q (use one of %s)", format, strings.Join(Formats, ", "))
}

func (r *Report) writeTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	period := "all time"
	if r.From != "" || r.To != "" {
		period = fmt.Sprintf("%s to %s", orDash(r.From), orDash(r.To))
	}
	fmt.Fprintf(tw, "Residency compliance report (%s), generated %s\n", period, r.GeneratedAt.Format(time.RFC3339))
	verdict := "VERIFIED"
	if !r.Ledger.Verified {
		verdict = "BROKEN"
	}
	fmt.Fprintf(tw, "Ledger: %d entries, %s\n", r.Ledger.Entries, verdict)
	for _, c := range r.Ledger.Chains {
		state := "intact"
		if !c.Verified {
			state = fmt.Sprintf("BROKEN at seq %d: %s", c.FirstBadSeq, c.Problem)
		}
		fmt.Fprintf(tw, "  %s\t%d entries\thead %d %s\t%s\n", c.Region, c.Entries, c.Head.Seq, short(c.Head.Hash), state)
	}
	fmt.Fprintf(tw, "\nSummary\n")
	for _, k := range ledger.Kinds {
		fmt.Fprintf(tw, "  %s\t%d\n", k, r.Summary.ByKind[k])
	}
	if len(r.Summary.Register) > 0 {
		fmt.Fprintf(tw, "\nTransfer register (GDPR Art. 30(1)(e))\n")
		fmt.Fprintf(tw, "  TO\tIMPORTER\tMECHANISM\tREFERENCE\tCATEGORIES\tALLOWED\tDENIED\tLAST SEEN\n")
		for _, row := range r.Summary.Register {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", row.ToCountry, row.Importer, orDash(row.Mechanism), orDash(row.Reference),
				strings.Join(row.Categories, ","), row.Allowed, row.Denied, row.LastSeen.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(tw, "\nEntries\n")
	fmt.Fprintf(tw, "  TIME\tREGION\tSEQ\tKIND\tSOURCE\tSUBJECT\tFROM\tTO\tIMPORTER\tMECHANISM\tDECISION\tREFERENCE\n")
	for _, e := range r.Entries {
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339), e.Region, e.Seq, e.Kind, orDash(e.Source),
			orDash(e.SubjectRef), where(e.FromRegion, e.FromCountry), where(e.ToRegion, e.ToCountry), orDash(e.Importer),
			orDash(e.Mechanism), orDash(e.Decision), orDash(e.Reference))
	}
	return tw.Flush()
}

func where(region, country string) string {
	switch {
	case region != "" && country != "":
		return region + " (" + country + ")"
	case region != "":
		return region
	case country != "":
		return country
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
