package report

import (
	"cmp"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// Remediation is the relocation entry that fixed a violation: the same
// region, source and record reference, after it.
type Remediation struct {
	Time     time.Time `json:"time"`
	Region   string    `json:"region"`
	Seq      int64     `json:"seq"`
	Decision string    `json:"decision"` // relocated | quarantined
	ToRegion string    `json:"to_region"`
}

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
	// Reason is why the last relocation of an open violation failed (the
	// reference of its failed relocation entry); "" when none failed.
	Reason string `json:"reason,omitempty"`
}

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

type violationKey struct{ region, source, record string }

func (s *summarizer) violation(e *ledger.Entry) {
	v := Violation{Time: e.Time, Region: e.Region, Seq: e.Seq, Source: e.Source, Record: e.Record, SubjectRef: e.SubjectRef,
		Category: e.Category, HomeRegion: e.ToRegion, Action: e.Decision, Rule: e.Reference}
	s.sum.Violations.Total++
	switch v.Action {
	case "alert":
		v.Status = ViolationAlertedOnly
		s.sum.Violations.AlertOnly++
		s.keep(v)
		return
	case ViolationGone:
		// Deleted before it was tagged: the deletion remediated it.
		v.Status = ViolationRemediated
		v.Remediation = &Remediation{Time: e.Time, Region: e.Region, Seq: e.Seq, Decision: "deleted before it was tagged"}
		s.sum.Violations.Remediated++
		s.day(v.Time).Remediated++
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
	if e.Decision == ledger.DecisionFailed {
		// An attempt that failed: still open, and now we know why.
		for i := range vs {
			vs[i].Reason = e.Reference
		}
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
