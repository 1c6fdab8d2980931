package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
)

// ChainStatus and LedgerStatus are the ledger's verification results
// (see [ledger.VerifyChains]), as reports carry them.
type (
	ChainStatus  = ledger.ChainStatus
	LedgerStatus = ledger.Status
)

// Statuses of a violation.
const (
	ViolationOpen        = "open"       // the policy says relocate or quarantine, and no relocation entry followed
	ViolationRemediated  = "remediated" // a relocation entry followed
	ViolationAlertedOnly = "alert"      // the policy only alerts on it
	// ViolationGone is the decision (action) of a violation whose record
	// was deleted before it was tagged: remediated by that deletion.
	ViolationGone = "gone"
)

// remediationWindow is how long after a report's period a relocation is
// still looked for, to relate it to a violation of the period.
const remediationWindow = 30 * 24 * time.Hour

// MaxListedViolations bounds the violations a summary lists (open ones
// first); the counts cover all of them.
const MaxListedViolations = 1000

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
	// Register lists the restricted transfers, allowed and denied, and
	// the hosting of records outside the exporter's regime.
	Register []RegisterRow `json:"transfer_register"`
	// Unrestricted counts the transfer entries left out of the register:
	// allowed with no mechanism (within the exporter's regime, or not
	// personal data).
	Unrestricted int `json:"unrestricted_transfers"`
	// Expiring lists the policy's mechanisms that end in the period or
	// within 90 days of its end, with what relied on them.
	Expiring   []ExpiringMechanism `json:"expiring_mechanisms"`
	Violations Violations          `json:"violations"`
	Deletions  Deletions           `json:"deletions"`
	Timeline   []Day               `json:"timeline"`
	// Coverage says, per region and watched source, whether a backfill
	// brought the records that predate Residency under it, and when.
	Coverage []Coverage `json:"backfill_coverage"`
	// Exposure is how long misplaced records stayed exposed (exposure.go).
	Exposure ExposureSummary `json:"exposure"`
	// Requests are the erasure requests on the one-month clock (requests.go).
	Requests Requests `json:"requests"`
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
	// Controller is the policy's organization, the controller the report
	// is evidence for, PolicyVersion the policy's version and PolicySHA256
	// the SHA-256 of its file, in hex (all empty without a policy).
	Controller    *Controller `json:"controller,omitempty"`
	PolicyVersion string      `json:"policy_version,omitempty"`
	PolicySHA256  string      `json:"policy_sha256,omitempty"`
	// DigestKeys are the keys the signed digests were checked against, by
	// id, with their fingerprints (empty when digests were not checked);
	// each chain names the key of its newest digest (signed_key_id).
	DigestKeys []digest.KeyInfo `json:"digest_keys,omitempty"`
	Ledger     LedgerStatus     `json:"ledger"`
	Summary    Summary          `json:"summary"`
	Holds      []Hold           `json:"holds"`
}

// Options are a report's inputs besides the ledger and the query.
type Options struct {
	Now   time.Time  // generated_at
	Holds HoldLister // the holds in force (optional)
	Refs  RecordRefs // names held records (required with Holds)
	// Digests, when set, has the verification check the signed digests.
	Digests *digest.Checker
	// Policy, when set, adds to the register the hosting of records in the
	// regions outside the exporter's regime (with Catalog) and lists the
	// mechanisms that expire (ExpiringMechanisms).
	Policy *policy.Policy
	// Catalog is the catalog of the Regions (default: the policy's): it
	// counts the records each holds, and finds a subject's records, so
	// that a report about one subject lists the holds on its records and
	// no other subject's.
	Catalog Catalog
	Regions []string
}

// Verify checks every region's chain from its first entry and, when
// digests is not nil, the signed digests and the chain against them: see
// [ledger.VerifyChains].
func Verify(ctx context.Context, l Ledger, digests *digest.Checker) (LedgerStatus, error) {
	return ledger.VerifyChains(ctx, l, checker(digests), nil)
}

// checker is digests as a ledger.DigestChecker: nil stays nil.
func checker(digests *digest.Checker) ledger.DigestChecker {
	if digests == nil {
		return nil
	}
	return digests
}

// NewHeader starts a header for q: period, filters and generation time, with
// no verification and an empty summary.
func NewHeader(q Query, now time.Time) *Header {
	h := &Header{
		From: dateOrEmpty(q.From), To: dateOrEmpty(q.To), GeneratedAt: now.UTC(), Filters: q.filters(),
		Ledger: ledger.NewStatus(), Holds: []Hold{},
		Summary: Summary{
			ByKind: map[ledger.Kind]int{}, ByMechanism: map[string]int{}, Register: []RegisterRow{}, Expiring: []ExpiringMechanism{},
			Violations: Violations{List: []Violation{}},
			Deletions:  Deletions{ByCategory: map[string]int{}, ByReason: map[string]int{}, ByDecision: map[string]int{}},
			Timeline:   []Day{},
			Coverage:   []Coverage{},
			Exposure:   ExposureSummary{ByRegion: []RegionExposure{}, ByDay: []DayExposure{}},
			Requests:   Requests{List: []Request{}},
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
	// Each chain feeds a summarizer of its own as it is verified: the
	// summary costs no read of its own.
	var sums []*summarizer
	st, err := ledger.VerifyChains(ctx, l, checker(opt.Digests), func(region string) func(*ledger.Entry) {
		if q.Region != "" && q.Region != region {
			return nil
		}
		o := newSummarizer(q)
		sums = append(sums, o)
		return o.observe
	})
	if err != nil {
		return nil, fmt.Errorf("verify and summarize ledger: %w", err)
	}
	h.Ledger = st
	addPolicyRegions(&h.Ledger, opt.Policy)
	if opt.Digests != nil {
		if h.DigestKeys, err = opt.Digests.Keys.List(); err != nil {
			return nil, fmt.Errorf("digest keys: %w", err)
		}
	}
	if p := opt.Policy; p != nil {
		h.PolicyVersion, h.PolicySHA256 = p.Version, p.SHA256
		if p.Organization.Name != "" {
			h.Controller = &Controller{Name: p.Organization.Name, Country: p.Organization.Country}
		}
	}
	s := newSummarizer(q)
	for _, o := range sums {
		s.merge(o)
	}
	s.finish(&h.Summary)
	h.Summary.Requests = s.requests.list(opt.Now)
	if err := addHosting(ctx, &h.Summary, q, opt); err != nil {
		return nil, err
	}
	h.Summary.Expiring = expiring(&h.Summary, q, opt)
	if err := addCoverage(ctx, &h.Summary, q, opt); err != nil {
		return nil, err
	}
	if opt.Holds != nil {
		holds, err := opt.Holds.ListHolds(ctx)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		mine, err := subjectRecords(ctx, q, opt)
		if err != nil {
			return nil, err
		}
		for _, hd := range holds {
			if q.SubjectRef != "" && !holdOf(hd, q.SubjectRef, mine) {
				continue // another subject's hold: its reason may name them
			}
			row := Hold{ID: hd.ID, SubjectRef: hd.SubjectRef, Source: hd.Source, Reason: hd.Reason, SetAt: hd.SetAt.UTC()}
			if len(hd.Key) > 0 && opt.Refs != nil {
				row.Record = opt.Refs.Record(hd.Source, hd.Key)
			}
			h.Holds = append(h.Holds, row)
		}
	}
	return h, nil
}

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
	exposure   exposures
	requests   requestTracker // erasure requests and their receipts
}

func newSummarizer(q Query) *summarizer {
	return &summarizer{
		q: q, reg: map[[4]string]*RegisterRow{}, days: map[string]*Day{}, pending: map[violationKey][]Violation{}, requests: requestTracker{},
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
	s.requests.observe(s.q, e)
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
	s.sum.Unrestricted += o.sum.Unrestricted
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
	mergeRows(s.reg, o.reg, func(mine, row *RegisterRow) {
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
	})
	mergeRows(s.days, o.days, func(mine, day *Day) {
		mine.Transfers += day.Transfers
		mine.Denials += day.Denials
		mine.Violations += day.Violations
		mine.Remediated += day.Remediated
		mine.Relocations += day.Relocations
		mine.Deletions += day.Deletions
		mine.Erasures += day.Erasures
	})
	for k, vs := range o.pending {
		s.pending[k] = append(s.pending[k], vs...)
	}
	s.remediated = append(s.remediated, o.remediated...)
	s.exposure.merge(&o.exposure)
	s.requests.merge(o.requests)
	s.lastDay = nil
}

// mergeRows adds the rows of src to dst: a key dst does not have takes
// src's row, one it has adds src's row to its own with add.
func mergeRows[K comparable, V any](dst, src map[K]*V, add func(mine, o *V)) {
	for k, row := range src {
		if mine := dst[k]; mine != nil {
			add(mine, row)
		} else {
			dst[k] = row
		}
	}
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
		if e.Decision != ledger.DecisionFailed {
			d.Relocations++
		}
		s.exposure.add(e)
	case ledger.KindDeletion:
		if e.Decision == ledger.DecisionHeldByObjectLock || e.Decision == ledger.DecisionErasureRequested {
			// Not deleted: S3 Object Lock keeps it, or an erasure request
			// was received (summary.requests); receipts follow.
			s.sum.Deletions.ByDecision[e.Decision]++
			return
		}
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
	sortRegister(sum.Register)
	sum.Timeline = []Day{}
	for _, d := range s.days {
		sum.Timeline = append(sum.Timeline, *d)
	}
	slices.SortFunc(sum.Timeline, func(a, b Day) int { return cmp.Compare(a.Day, b.Day) })
	for _, k := range ledger.Kinds {
		sum.ByKind[k] += 0
	}
	sum.Exposure = s.exposure.finish()
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

// subjectRecords are the records of q's subject in the catalog of opt's
// regions, by source and key; nil for a report about every subject.
func subjectRecords(ctx context.Context, q Query, opt Options) (map[[2]string]bool, error) {
	if q.SubjectRef == "" {
		return nil, nil
	}
	mine := map[[2]string]bool{}
	if opt.Catalog == nil {
		return mine, nil
	}
	for _, r := range opt.regions() {
		entries, err := opt.Catalog.EntriesBySubject(ctx, r, q.SubjectRef)
		if err != nil {
			return nil, fmt.Errorf("records of the subject in %s: %w", r, err)
		}
		for _, e := range entries {
			mine[[2]string{e.Source, e.Key.String()}] = true
		}
	}
	return mine, nil
}

// holdOf reports whether a hold concerns the subject: a hold on the
// subject, or on one of its records.
func holdOf(h catalog.Hold, subjectRef string, records map[[2]string]bool) bool {
	if h.SubjectRef != "" {
		return h.SubjectRef == subjectRef
	}
	return len(h.Key) > 0 && records[[2]string{h.Source, h.Key.String()}]
}

// regions are the regions whose catalog the report reads: Regions, else
// the policy's.
func (o Options) regions() []string {
	if o.Regions == nil && o.Policy != nil {
		return o.Policy.Regions
	}
	return o.Regions
}

// addPolicyRegions lists every region of p in st, also those whose chain
// has no entry (and no digest) yet: the report says so rather than leaving
// them out.
func addPolicyRegions(st *LedgerStatus, p *policy.Policy) {
	if p == nil {
		return
	}
	added := false
	for _, r := range p.Regions {
		if !slices.ContainsFunc(st.Chains, func(c ChainStatus) bool { return c.Region == r }) {
			st.Chains = append(st.Chains, ChainStatus{Region: r, Verified: true})
			st.Head[r] = ledger.Head{}
			added = true
		}
	}
	if added {
		slices.SortFunc(st.Chains, func(a, b ChainStatus) int { return strings.Compare(a.Region, b.Region) })
	}
}

// Controller names the controller a report is evidence for.
type Controller struct {
	Name    string `json:"name"`
	Country string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}
