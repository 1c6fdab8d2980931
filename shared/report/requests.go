package report

import "time"

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
type Request struct {
	ID          string     `json:"id"`
	ReceivedAt  time.Time  `json:"received_at"`
	Due         string     `json:"due"` // the due day, YYYY-MM-DD (UTC), through its last hour
	CompletedAt *time.Time `json:"completed_at,omitempty"`
	Status      string     `json:"status"`
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
