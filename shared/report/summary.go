package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
)

// ChainStatus is the verification result of one region's chain.
type ChainStatus struct {
	Region      string      `json:"region"`
	Entries     int64       `json:"entries"`
	Verified    bool        `json:"verified"`
	Head        ledger.Head `json:"head"`
	FirstBadSeq int64       `json:"first_bad_seq,omitempty"`
	Problem     string      `json:"problem,omitempty"`
	// Digests is how many signed digests of the chain were checked;
	// SignedSeq and SignedAt are the newest one's to_seq and time. Entries
	// after SignedSeq await the next digest.
	Digests   int        `json:"digests"`
	SignedSeq int64      `json:"signed_seq"`
	SignedAt  *time.Time `json:"signed_at,omitempty"`
}

// Signed describes what the digests vouch for: "signed to seq N at T (k
// digests)", "no signed digest", or, when checked is false, "digests not
// checked".
func (c *ChainStatus) Signed(checked bool) string {
	switch {
	case !checked:
		return "digests not checked"
	case c.Digests == 0 || c.SignedAt == nil:
		return "no signed digest: a truncated tail cannot be detected"
	}
	s := fmt.Sprintf("signed to seq %d at %s (%d digests)", c.SignedSeq, c.SignedAt.Format(time.RFC3339), c.Digests)
	if n := c.Head.Seq - c.SignedSeq; n > 0 && c.Verified {
		s += fmt.Sprintf(", %d newer entries await the next digest", n)
	}
	return s
}

// LedgerStatus sums up the chains.
type LedgerStatus struct {
	Entries  int64                  `json:"entries"`
	Verified bool                   `json:"verified"`
	Head     map[string]ledger.Head `json:"head"`
	Chains   []ChainStatus          `json:"chains"`
	// DigestsChecked says the signed digests were checked too: without
	// them, a truncated tail or a chain rewritten from some entry on cannot
	// be detected.
	DigestsChecked bool `json:"digests_checked"`
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

// Remediation is the relocation entry that fixed a violation: the same
// region, source and record reference, after it.
type Remediation struct {
	Time     time.Time `json:"time"`
	Region   string    `json:"region"`
	Seq      int64     `json:"seq"`
	Decision string    `json:"decision"` // relocated | quarantined
	ToRegion string    `json:"to_region"`
}

// Statuses of a violation.
const (
	ViolationOpen        = "open"       // the policy says relocate or quarantine, and no relocation entry followed
	ViolationRemediated  = "remediated" // a relocation entry followed
	ViolationAlertedOnly = "alert"      // the policy only alerts on it
)

// remediationWindow is how long after a report's period a relocation is
// still looked for, to relate it to a violation of the period.
const remediationWindow = 30 * 24 * time.Hour

// Violation is a violation entry and what became of it.
type Violation struct {
	Time        time.Time    `json:"time"`
	Region      string       `json:"region"`
	Seq         int64        `json:"seq"`
	Source      string       `json:"source"`
	Record      string       `json:"record"`
	SubjectRef  string       `json:"subject_ref"`
	Category    string       `json:"category"`
	HomeRegion  string       `json:"home_region"`
	Action      string       `json:"action"` // the policy's on_violation: relocate | quarantine | alert
	Rule        string       `json:"rule"`
	Status      string       `json:"status"`
	Remediation *Remediation `json:"remediation"`
}

// MaxListedViolations bounds the violations a summary lists (open ones
// first); the counts cover all of them.
const MaxListedViolations = 1000

// Violations counts the violations of the period and lists them with their
// remediation: the relocation entry of the same region, source and record
// that followed (up to 30 days after the period).
type Violations struct {
	Total      int         `json:"total"`
	Remediated int         `json:"remediated"`
	Open       int         `json:"open"`
	AlertOnly  int         `json:"alert_only"`
	List       []Violation `json:"list"`
	Truncated  bool        `json:"truncated,omitempty"`
}

// Deletions counts the deletion receipts of the period.
type Deletions struct {
	Total      int            `json:"total"`
	ByCategory map[string]int `json:"by_category"`
	ByReason   map[string]int `json:"by_reason"` // retention | erasure (GDPR Art. 17) | other, read from the receipt's reference
	ByDecision map[string]int `json:"by_decision"`
}

// Day counts one UTC day's entries, by kind.
type Day struct {
	Day            string `json:"day"` // YYYY-MM-DD
	Transfers      int    `json:"transfers"`
	Denials        int    `json:"denials"`
	Violations     int    `json:"violations"`
	OpenViolations int    `json:"open_violations"`
	Remediated     int    `json:"remediated_violations"`
	Relocations    int    `json:"relocations"`
	Deletions      int    `json:"deletions"`
	Erasures       int    `json:"erasures"` // of the deletions, by GDPR Art. 17 request
}

// Summary counts the entries of the report.
type Summary struct {
	Entries     int                 `json:"entries"`
	ByKind      map[ledger.Kind]int `json:"by_kind"`
	ByMechanism map[string]int      `json:"by_mechanism"`
	Register    []RegisterRow       `json:"transfer_register"`
	Violations  Violations          `json:"violations"`
	Deletions   Deletions           `json:"deletions"`
	Timeline    []Day               `json:"timeline"`
}

// Hold is a legal hold in force; a hold on one record names it by
// reference.
type Hold struct {
	ID         string    `json:"hold_id"`
	SubjectRef string    `json:"subject_ref,omitempty"`
	Source     string    `json:"source,omitempty"`
	Record     string    `json:"record,omitempty"`
	Reason     string    `json:"reason"`
	SetAt      time.Time `json:"set_at"`
}

// Header is a report but for its entries: the period, the filters, the
// ledger's verification, the summary and the holds in force.
type Header struct {
	From        string            `json:"from"`
	To          string            `json:"to"`
	GeneratedAt time.Time         `json:"generated_at"`
	Filters     map[string]string `json:"filters,omitempty"`
	Ledger      LedgerStatus      `json:"ledger"`
	Summary     Summary           `json:"summary"`
	Holds       []Hold            `json:"holds"`
}

// Options are a report's inputs besides the ledger and the query.
type Options struct {
	Now   time.Time  // generated_at
	Holds HoldLister // the holds in force (optional)
	Refs  RecordRefs // names held records (required with Holds)
	// Digests, when set, has the verification check the signed digests.
	Digests *digest.Checker
}

// Verify checks every region's chain from its first entry and, when
// digests is not nil, the signed digests and the chain against them (each
// digest's head hash, and that the chain reaches the newest digest). It
// reads the chains concurrently, at most GOMAXPROCS at a time.
func Verify(ctx context.Context, l Ledger, digests *digest.Checker) (LedgerStatus, error) {
	st, _, err := verifyAll(ctx, l, digests, nil)
	return st, err
}

// verifyAll verifies every chain, concurrently, and, when summary is not
// nil, feeds each chain's entries to a summarizer of its own as it reads
// them: the summary costs no read of its own.
func verifyAll(ctx context.Context, l Ledger, digests *digest.Checker, summary func() *summarizer) (LedgerStatus, []*summarizer, error) {
	st := LedgerStatus{Verified: true, Head: map[string]ledger.Head{}, Chains: []ChainStatus{}, DigestsChecked: digests != nil}
	regions, err := l.Chains(ctx)
	if err != nil {
		return st, nil, err
	}
	if digests != nil {
		// A region with digests but no entries lost its whole chain.
		signed, err := digests.Regions(ctx)
		if err != nil {
			return st, nil, fmt.Errorf("list digests: %w", err)
		}
		for _, r := range signed {
			if !slices.Contains(regions, r) {
				regions = append(regions, r)
			}
		}
		slices.Sort(regions)
	}
	chains := make([]ChainStatus, len(regions))
	sums := make([]*summarizer, len(regions))
	errs := make([]error, len(regions))
	var g errgroup.Group
	g.SetLimit(max(1, runtime.GOMAXPROCS(0)))
	for i, r := range regions {
		if summary != nil {
			sums[i] = summary()
		}
		g.Go(func() error {
			chains[i], errs[i] = verifyChain(ctx, l, r, digests, sums[i])
			return nil
		})
	}
	g.Wait()
	if err := errors.Join(errs...); err != nil {
		return st, nil, err
	}
	for _, cs := range chains {
		st.Verified = st.Verified && cs.Verified
		st.Entries += cs.Entries
		st.Head[cs.Region] = cs.Head
		st.Chains = append(st.Chains, cs)
	}
	return st, sums, nil
}

// chainPageSize is how many entries one keyset read of a chain asks for.
const chainPageSize = 5000

func verifyChain(ctx context.Context, l Ledger, region string, digests *digest.Checker, s *summarizer) (ChainStatus, error) {
	v := ledger.NewVerifier(region)
	cs := ChainStatus{Region: region}
	var signed digest.Result
	if digests != nil {
		var err error
		if signed, err = digests.Check(ctx, region); err != nil {
			return cs, err
		}
		signed.Anchor(v)
		cs.Digests, cs.SignedSeq = signed.Digests, signed.SignedSeq
		if !signed.SignedAt.IsZero() {
			at := signed.SignedAt.UTC()
			cs.SignedAt = &at
		}
	}
	if s != nil && s.q.Region != "" && s.q.Region != region {
		s = nil
	}
	var after int64
	for {
		n := 0
		err := l.ScanChainAfter(ctx, region, after, chainPageSize, func(e *ledger.Entry) error {
			n++
			cs.Entries++
			after = e.Seq
			v.Add(e)
			if s != nil {
				s.observe(e)
			}
			return nil
		})
		if err != nil {
			return cs, err
		}
		if n < chainPageSize {
			break
		}
	}
	cs.Head = v.Head()
	var b *ledger.BreakError
	switch {
	case errors.As(v.Close(), &b) && (signed.Problem == "" || b.Seq <= signed.ProblemSeq):
		cs.FirstBadSeq, cs.Problem = b.Seq, b.Reason
	case signed.Problem != "":
		cs.FirstBadSeq, cs.Problem = signed.ProblemSeq, "digests: "+signed.Problem
	default:
		cs.Verified = true
	}
	return cs, nil
}

// NewHeader starts a header for q: period, filters and generation time, with
// no verification and an empty summary.
func NewHeader(q Query, now time.Time) *Header {
	h := &Header{
		From: dateOrEmpty(q.From), To: dateOrEmpty(q.To), GeneratedAt: now.UTC(), Filters: q.filters(),
		Ledger: LedgerStatus{Head: map[string]ledger.Head{}, Chains: []ChainStatus{}}, Holds: []Hold{},
		Summary: Summary{
			ByKind: map[ledger.Kind]int{}, ByMechanism: map[string]int{}, Register: []RegisterRow{},
			Violations: Violations{List: []Violation{}},
			Deletions:  Deletions{ByCategory: map[string]int{}, ByReason: map[string]int{}, ByDecision: map[string]int{}},
			Timeline:   []Day{},
		},
	}
	for _, k := range ledger.Kinds {
		h.Summary.ByKind[k] = 0
	}
	return h
}

// Summarize verifies every chain and, in the same read of each chain,
// summarizes the entries q selects; then it lists the holds in force. Its
// memory grows with the register, the days of the period and the violations
// still open, not with the entries.
func Summarize(ctx context.Context, l Ledger, q Query, opt Options) (*Header, error) {
	h := NewHeader(q, opt.Now)
	st, sums, err := verifyAll(ctx, l, opt.Digests, func() *summarizer { return newSummarizer(q) })
	if err != nil {
		return nil, fmt.Errorf("verify and summarize ledger: %w", err)
	}
	h.Ledger = st
	s := newSummarizer(q)
	for _, o := range sums {
		s.merge(o)
	}
	s.finish(&h.Summary)
	if opt.Holds != nil {
		holds, err := opt.Holds.ListHolds(ctx)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		for _, hd := range holds {
			row := Hold{ID: hd.ID, SubjectRef: hd.SubjectRef, Source: hd.Source, Reason: hd.Reason, SetAt: hd.SetAt.UTC()}
			if len(hd.Key) > 0 && opt.Refs != nil {
				row.Record = opt.Refs.Record(hd.Source, hd.Key)
			}
			h.Holds = append(h.Holds, row)
		}
	}
	return h, nil
}

type violationKey struct{ region, source, record string }

// summarizer accumulates a Summary, one entry at a time in time order.
type summarizer struct {
	q          Query
	sum        Summary
	reg        map[[4]string]*RegisterRow
	days       map[string]*Day
	lastDay    *Day
	lastYear   int
	lastYDay   int
	pending    map[violationKey][]Violation // open violations, awaiting a relocation
	remediated []Violation                  // listed remediated and alert-only violations
}

func newSummarizer(q Query) *summarizer {
	return &summarizer{
		q: q, reg: map[[4]string]*RegisterRow{}, days: map[string]*Day{}, pending: map[violationKey][]Violation{},
		sum: Summary{ByKind: map[ledger.Kind]int{}, ByMechanism: map[string]int{},
			Deletions: Deletions{ByCategory: map[string]int{}, ByReason: map[string]int{}, ByDecision: map[string]int{}}},
	}
}

func (s *summarizer) day(t time.Time) *Day {
	t = t.UTC()
	if y, d := t.Year(), t.YearDay(); s.lastDay != nil && y == s.lastYear && d == s.lastYDay {
		return s.lastDay
	}
	key := t.Format(time.DateOnly)
	d := s.days[key]
	if d == nil {
		d = &Day{Day: key}
		s.days[key] = d
	}
	s.lastDay, s.lastYear, s.lastYDay = d, t.Year(), t.YearDay()
	return d
}

// deletionReason classifies a deletion receipt by its reference.
func deletionReason(e *ledger.Entry) string {
	switch {
	case strings.HasPrefix(e.Reference, "GDPR Art. 17"):
		return "erasure"
	case strings.HasPrefix(e.Reference, "retention"):
		return "retention"
	}
	return "other"
}

// observe takes the next entry of a chain, in seq order: a relocation
// appended after a violation in the same chain came after it.
func (s *summarizer) observe(e *ledger.Entry) {
	if !s.q.From.IsZero() && e.Time.Before(s.q.From) {
		return
	}
	if !s.q.To.IsZero() && !e.Time.Before(s.q.To) {
		// After the period, a relocation may still remediate a violation of
		// it.
		if e.Kind == ledger.KindRelocation && e.Time.Before(s.q.To.Add(remediationWindow)) {
			s.remediate(e)
		}
		return
	}
	s.add(e)
}

// merge adds another chain's summary to s.
func (s *summarizer) merge(o *summarizer) {
	if o == nil {
		return
	}
	s.sum.Entries += o.sum.Entries
	for k, n := range o.sum.ByKind {
		s.sum.ByKind[k] += n
	}
	for k, n := range o.sum.ByMechanism {
		s.sum.ByMechanism[k] += n
	}
	v, ov := &s.sum.Violations, o.sum.Violations
	v.Total, v.Remediated, v.AlertOnly, v.Truncated = v.Total+ov.Total, v.Remediated+ov.Remediated, v.AlertOnly+ov.AlertOnly, v.Truncated || ov.Truncated
	d, od := &s.sum.Deletions, o.sum.Deletions
	d.Total += od.Total
	for _, m := range [][2]map[string]int{{d.ByCategory, od.ByCategory}, {d.ByReason, od.ByReason}, {d.ByDecision, od.ByDecision}} {
		for k, n := range m[1] {
			m[0][k] += n
		}
	}
	for k, row := range o.reg {
		mine := s.reg[k]
		if mine == nil {
			s.reg[k] = row
			continue
		}
		mine.Allowed += row.Allowed
		mine.Denied += row.Denied
		for _, c := range row.Categories {
			if !slices.Contains(mine.Categories, c) {
				mine.Categories = append(mine.Categories, c)
			}
		}
		slices.Sort(mine.Categories)
		if row.FirstSeen.Before(mine.FirstSeen) {
			mine.FirstSeen = row.FirstSeen
		}
		if row.LastSeen.After(mine.LastSeen) {
			mine.LastSeen = row.LastSeen
		}
	}
	for k, day := range o.days {
		mine := s.days[k]
		if mine == nil {
			s.days[k] = day
			continue
		}
		mine.Transfers += day.Transfers
		mine.Denials += day.Denials
		mine.Violations += day.Violations
		mine.Remediated += day.Remediated
		mine.Relocations += day.Relocations
		mine.Deletions += day.Deletions
		mine.Erasures += day.Erasures
	}
	for k, vs := range o.pending {
		s.pending[k] = append(s.pending[k], vs...)
	}
	s.remediated = append(s.remediated, o.remediated...)
	s.lastDay = nil
}

func (s *summarizer) add(e *ledger.Entry) {
	if e.Kind == ledger.KindRelocation {
		s.remediate(e)
	}
	if !s.q.wants(e.Kind) || !s.q.match(e) {
		return
	}
	s.sum.Entries++
	s.sum.ByKind[e.Kind]++
	d := s.day(e.Time)
	switch e.Kind {
	case ledger.KindTransfer, ledger.KindDenial:
		s.register(e)
		if e.Kind == ledger.KindTransfer {
			d.Transfers++
		} else {
			d.Denials++
		}
	case ledger.KindViolation:
		d.Violations++
		s.violation(e)
	case ledger.KindRelocation:
		d.Relocations++
	case ledger.KindDeletion:
		d.Deletions++
		reason := deletionReason(e)
		if reason == "erasure" {
			d.Erasures++
		}
		del := &s.sum.Deletions
		del.Total++
		del.ByCategory[orDash(e.Category)]++
		del.ByReason[reason]++
		del.ByDecision[orDash(e.Decision)]++
	}
}

func (s *summarizer) register(e *ledger.Entry) {
	s.sum.ByMechanism[mechanismOrDenied(e)]++
	ref := e.Reference
	if e.Kind == ledger.KindDenial {
		ref = "" // a denial's reference is its reason, one per request
	}
	k := [4]string{e.ToCountry, e.Importer, e.Mechanism, ref}
	row := s.reg[k]
	if row == nil {
		row = &RegisterRow{ToCountry: e.ToCountry, Importer: e.Importer, Mechanism: e.Mechanism, Reference: ref, FirstSeen: e.Time, Categories: []string{}}
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

func (s *summarizer) violation(e *ledger.Entry) {
	v := Violation{Time: e.Time, Region: e.Region, Seq: e.Seq, Source: e.Source, Record: e.Record, SubjectRef: e.SubjectRef,
		Category: e.Category, HomeRegion: e.ToRegion, Action: e.Decision, Rule: e.Reference}
	s.sum.Violations.Total++
	if v.Action == "alert" {
		v.Status = ViolationAlertedOnly
		s.sum.Violations.AlertOnly++
		s.keep(v)
		return
	}
	v.Status = ViolationOpen
	k := violationKey{e.Region, e.Source, e.Record}
	s.pending[k] = append(s.pending[k], v)
}

// remediate relates a relocation to the open violations of the same record
// in the same region that came before it.
func (s *summarizer) remediate(e *ledger.Entry) {
	if e.Decision == "routed" { // preventive: the record never landed in the wrong region
		return
	}
	k := violationKey{e.Region, e.Source, e.Record}
	vs := s.pending[k]
	if len(vs) == 0 {
		return
	}
	delete(s.pending, k)
	for _, v := range vs {
		v.Status = ViolationRemediated
		v.Remediation = &Remediation{Time: e.Time, Region: e.Region, Seq: e.Seq, Decision: e.Decision, ToRegion: e.ToRegion}
		s.sum.Violations.Remediated++
		s.day(v.Time).Remediated++
		s.keep(v)
	}
}

// keep lists a violation that is not open while the list has room; open
// ones are listed at the end, first.
func (s *summarizer) keep(v Violation) {
	if len(s.remediated) < MaxListedViolations {
		s.remediated = append(s.remediated, v)
	} else {
		s.sum.Violations.Truncated = true
	}
}

func byPosition(a, b Violation) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Seq, b.Seq))
}

func (s *summarizer) finish(out *Summary) {
	sum := s.sum
	var open []Violation
	for _, vs := range s.pending {
		open = append(open, vs...)
	}
	sum.Violations.Open = len(open)
	for _, v := range open {
		s.day(v.Time).OpenViolations++
	}
	slices.SortFunc(open, byPosition)
	slices.SortFunc(s.remediated, byPosition)
	list := open[:min(len(open), MaxListedViolations)]
	room := MaxListedViolations - len(list)
	if len(open) > len(list) || len(s.remediated) > room {
		sum.Violations.Truncated = true
	}
	list = append(list, s.remediated[:min(len(s.remediated), room)]...)
	slices.SortFunc(list, byPosition)
	sum.Violations.List = append([]Violation{}, list...)

	sum.Register = []RegisterRow{}
	for _, row := range s.reg {
		sum.Register = append(sum.Register, *row)
	}
	slices.SortFunc(sum.Register, func(a, b RegisterRow) int {
		return cmp.Or(cmp.Compare(a.ToCountry, b.ToCountry), cmp.Compare(a.Importer, b.Importer), cmp.Compare(a.Mechanism, b.Mechanism),
			cmp.Compare(a.Reference, b.Reference))
	})
	sum.Timeline = []Day{}
	for _, d := range s.days {
		sum.Timeline = append(sum.Timeline, *d)
	}
	slices.SortFunc(sum.Timeline, func(a, b Day) int { return cmp.Compare(a.Day, b.Day) })
	for _, k := range ledger.Kinds {
		sum.ByKind[k] += 0
	}
	*out = sum
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
