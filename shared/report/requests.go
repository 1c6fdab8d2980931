package report

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// The statuses of an erasure request against the one-month clock of GDPR
// Art. 12(3).
const (
	RequestOnTime  = "on_time" // completed by the end of its due day
	RequestLate    = "late"    // completed after it
	RequestOpen    = "open"    // not completed, not yet due
	RequestOverdue = "overdue" // not completed, past due
)

// Request is one erasure request against the one-month clock: when it was
// received and completed (nil: not yet), its due day and its status.
//
// The id is the controller's request id as Erasure Requested carried it:
// a ticket number, never personal data (DESIGN: ledger ids and references
// name the platform's request ids, and the erasure certificate carries it),
// so the report shows it; the subject appears by its keyed reference only.
type Request struct {
	ID          string     `json:"id"`
	SubjectRef  string     `json:"subject_ref,omitempty"`
	ReceivedAt  time.Time  `json:"received_at"`
	Due         string     `json:"due"` // the due day, YYYY-MM-DD (UTC), through its last hour
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Status      string     `json:"status"`
	// Regions are the regions whose retention function recorded the
	// request; Records how many records they held to erase, Erased how
	// many receipts name it so far. Completed when every region's
	// receipts are in (a held or locked record keeps it open).
	Regions []string `json:"regions,omitempty"`
	Records int      `json:"records"`
	Erased  int      `json:"erased"`
}

// Requests are the erasure requests of the report's period (their entry in
// the ledger, ledger.DecisionErasureRequested, is in it) on the one-month
// clock, with how many are open and overdue.
type Requests struct {
	Total   int       `json:"total"`
	Open    int       `json:"open"`
	Overdue int       `json:"overdue"`
	Late    int       `json:"late"`
	List    []Request `json:"list"`
}

// OverdueList is the requests past due and not completed.
func (r *Requests) OverdueList() []Request {
	var out []Request
	for _, q := range r.List {
		if q.Status == RequestOverdue {
			out = append(out, q)
		}
	}
	return out
}

// requestRegion is one region's part of a request: what it held to
// erase, the receipts so far, and when the last came.
type requestRegion struct {
	records, erased int
	completed       time.Time
}

type requestState struct {
	subjectRef string
	received   time.Time
	regions    map[string]*requestRegion
}

// requestTracker follows erasure requests through a chain: the request's
// entry, then its receipts, which may come after the period.
type requestTracker map[string]*requestState

func (t requestTracker) observe(q Query, e *ledger.Entry) {
	if e.Kind != ledger.KindDeletion || !strings.HasPrefix(e.Reference, ledger.ErasureReference("")) {
		return
	}
	if id, received, n, ok := ledger.ParseErasureRequest(e); ok {
		// q.match tests the destination, mechanism and subject only: the
		// period and the region are tested here (receipts count whenever
		// they come).
		inPeriod := (q.From.IsZero() || !e.Time.Before(q.From)) && (q.To.IsZero() || e.Time.Before(q.To))
		if !inPeriod || !q.match(e) || (q.Region != "" && q.Region != e.Region) {
			return
		}
		st := t[id]
		if st == nil {
			st = &requestState{subjectRef: e.SubjectRef, received: received, regions: map[string]*requestRegion{}}
			t[id] = st
		}
		if st.regions[e.Region] != nil {
			return // a redelivery: the first entry counts
		}
		r := &requestRegion{records: n}
		if n == 0 {
			r.completed = e.Time
		}
		st.regions[e.Region] = r
		return
	}
	// A receipt of a record the request found: a re-applied one (a record
	// written again after it) is not the request's.
	id, reapplied, ok := ledger.ParseErasureReceipt(e)
	if !ok || reapplied {
		return
	}
	st := t[id]
	if st == nil {
		return
	}
	r := st.regions[e.Region]
	if r == nil || r.erased >= r.records {
		return
	}
	if r.erased++; r.erased == r.records {
		r.completed = e.Time
	}
}

func (t requestTracker) merge(o requestTracker) {
	for id, st := range o {
		mine := t[id]
		if mine == nil {
			t[id] = st
			continue
		}
		if st.received.Before(mine.received) {
			mine.received = st.received
		}
		maps.Copy(mine.regions, st.regions)
	}
}

// ChainScanner reads the ledger a chain at a time: the chains, and one
// chain whole, in seq order.
type ChainScanner interface {
	Chains(ctx context.Context) ([]string, error)
	ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error
}

// FindRequest reads every chain once and returns the erasure request id on
// the one-month clock at now, as a Summarize of the whole ledger
// (Query{}) lists it in Summary.Requests; nil when no region recorded it.
// fn, when not nil, sees every entry of that read, a chain after another,
// in seq order, so that a caller that needs more of the request (its
// receipts) reads the ledger no second time; the entry is the store's, to
// copy if kept.
func FindRequest(ctx context.Context, l ChainScanner, id string, now time.Time, fn func(*ledger.Entry)) (*Request, error) {
	regions, err := l.Chains(ctx)
	if err != nil {
		return nil, fmt.Errorf("list chains: %w", err)
	}
	all := requestTracker{}
	for _, r := range regions {
		// A tracker per chain, merged, as Summarize does.
		t := requestTracker{}
		err := l.ScanChain(ctx, r, func(e *ledger.Entry) error {
			t.observe(Query{}, e)
			if fn != nil {
				fn(e)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", r, err)
		}
		all.merge(t)
	}
	st := all[id]
	if st == nil {
		return nil, nil
	}
	q := requestTracker{id: st}.list(now).List[0]
	return &q, nil
}

// list puts every request on the clock at now.
func (t requestTracker) list(now time.Time) Requests {
	out := Requests{List: []Request{}}
	for id, st := range t {
		var completed *time.Time
		var last time.Time
		done := true
		var records, erased int
		for _, r := range st.regions {
			records, erased = records+r.records, erased+r.erased
			if r.completed.IsZero() {
				done = false
			} else if r.completed.After(last) {
				last = r.completed
			}
		}
		if done {
			completed = &last
		}
		q := NewRequest(id, st.received, completed, now)
		q.SubjectRef, q.Records, q.Erased = st.subjectRef, records, erased
		q.Regions = slices.Sorted(maps.Keys(st.regions))
		out.List = append(out.List, q)
		switch q.Status {
		case RequestOpen:
			out.Open++
		case RequestOverdue:
			out.Overdue++
		case RequestLate:
			out.Late++
		}
	}
	out.Total = len(out.List)
	slices.SortFunc(out.List, func(a, b Request) int {
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// DueDay is the last day of the one month GDPR Art. 12(3) gives a
// controller to act on a request received at received (UTC), counted as
// Regulation (EEC, Euratom) No 1182/71 determining the rules applicable to
// periods, dates and time limits, Art. 3(2)(c) counts a period expressed in
// months: it ends with the expiry of the last hour of the day in the next
// month that falls on the same date as the day it runs from; when that
// month has no such date (received on Jan 31), with the expiry of the last
// hour of its last day (Feb 28, or 29 in a leap year). Art. 3(4), which
// moves a period ending on a public holiday, Saturday or Sunday to the next
// working day, is not applied: holidays are the Member State's, and the
// earlier day is the safe one to report.
func DueDay(received time.Time) time.Time {
	r := received.UTC()
	y, m, d := r.Date()
	first := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC) // the next month
	last := first.AddDate(0, 1, -1).Day()               // its last day
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// NewRequest puts a request on the clock at now: its due day and status.
func NewRequest(id string, received time.Time, completed *time.Time, now time.Time) Request {
	due := DueDay(received)
	end := due.AddDate(0, 0, 1) // the due day's last hour expires here
	q := Request{ID: id, ReceivedAt: received.UTC(), Due: due.Format(time.DateOnly)}
	switch {
	case completed != nil && completed.Before(end):
		q.Status = RequestOnTime
	case completed != nil:
		q.Status = RequestLate
	case now.Before(end):
		q.Status = RequestOpen
	default:
		q.Status = RequestOverdue
	}
	if completed != nil {
		c := completed.UTC()
		q.CompletedAt = &c
	}
	return q
}

// writeOverdue flags, at the top of the table output, every open request
// past its due day.
func writeOverdue(w io.Writer, r *Requests) {
	if r.Overdue == 0 {
		return
	}
	var names []string
	for _, q := range r.OverdueList() {
		names = append(names, fmt.Sprintf("%s (due %s)", q.ID, q.Due))
	}
	fmt.Fprintf(w, "OVERDUE: %d erasure request(s) past the one-month deadline of GDPR Art. 12(3) and not completed: %s\n",
		r.Overdue, strings.Join(names, ", "))
}

// writeRequests is the table output's section of erasure requests.
func writeRequests(w io.Writer, r *Requests) {
	if r.Total == 0 {
		return
	}
	fmt.Fprintf(w, "\nErasure requests (GDPR Art. 12(3): one month): %d, %d open, %d overdue, %d late\n", r.Total, r.Open, r.Overdue, r.Late)
	fmt.Fprintf(w, "  REQUEST\tSUBJECT\tRECEIVED\tDUE\tCOMPLETED\tSTATUS\tREGIONS\tERASED\n")
	for _, q := range r.List {
		completed := "-"
		if q.CompletedAt != nil {
			completed = q.CompletedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%d of %d\n", q.ID, orDash(q.SubjectRef), q.ReceivedAt.Format(time.RFC3339), q.Due,
			completed, q.Status, strings.Join(q.Regions, ","), q.Erased, q.Records)
	}
}
