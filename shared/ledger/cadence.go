package ledger

import (
	"fmt"
	"time"
)

// DigestPoint is one verified digest as the cadence check sees it: the seq
// it signs up to and when it was signed.
type DigestPoint struct {
	ToSeq int64
	Time  time.Time
}

// Cadence is the schedule the signed digests keep: one every Every, as the
// deployment's digest schedule runs them. A digest may be late by up to one
// more period (a retried run) before the check fails.
type Cadence struct {
	Every time.Duration
	// Now is when the check runs: entries older than two periods before it
	// must be signed by a digest.
	Now time.Time
}

// CadenceGap is a stretch of a chain that the digest schedule should have
// signed and did not: From and To are the times that bound it, FromSeq and
// ToSeq the entries it leaves unsigned.
type CadenceGap struct {
	Region  string    `json:"region"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	FromSeq int64     `json:"from_seq"`
	ToSeq   int64     `json:"to_seq"`
	// Unsigned says the gap runs to now: its entries are signed by no
	// digest (rather than by a late one).
	Unsigned bool `json:"unsigned,omitempty"`
}

// String names the gap for the verification's problem.
func (g CadenceGap) String() string {
	if g.Unsigned {
		return fmt.Sprintf("region %s: seq %d-%d (written from %s) are signed by no digest at %s, more than two digest periods later",
			g.Region, g.FromSeq, g.ToSeq, g.From.UTC().Format(time.RFC3339), g.To.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("region %s: no digest from %s to %s, more than two digest periods, while seq %d-%d were appended",
		g.Region, g.From.UTC().Format(time.RFC3339), g.To.UTC().Format(time.RFC3339), g.FromSeq, g.ToSeq)
}

// Unsigned describes a chain's entries after its newest digest: the first
// and last such seq (FromSeq 0: none) and the oldest such entry's time.
type Unsigned struct {
	FromSeq, ToSeq int64
	Oldest         time.Time
}

// Add counts e, an entry after the newest digest.
func (u *Unsigned) Add(e *Entry) {
	if u.FromSeq == 0 {
		u.FromSeq = e.Seq
	}
	u.ToSeq = e.Seq
	if u.Oldest.IsZero() || e.Time.Before(u.Oldest) {
		u.Oldest = e.Time
	}
}

// Gaps checks region's digests (oldest first) and its unsigned entries
// against the cadence: two consecutive digests further apart than two
// periods while the chain grew between them, and entries older than two
// periods before c.Now that no digest signs. A zero Every checks nothing.
func (c Cadence) Gaps(region string, digests []DigestPoint, unsigned Unsigned) []CadenceGap {
	if c.Every <= 0 {
		return nil
	}
	limit := 2 * c.Every
	var gaps []CadenceGap
	for i := 1; i < len(digests); i++ {
		prev, d := digests[i-1], digests[i]
		if d.ToSeq > prev.ToSeq && d.Time.Sub(prev.Time) > limit {
			gaps = append(gaps, CadenceGap{Region: region, From: prev.Time, To: d.Time, FromSeq: prev.ToSeq + 1, ToSeq: d.ToSeq})
		}
	}
	if unsigned.FromSeq > 0 && c.Now.Sub(unsigned.Oldest) > limit {
		gaps = append(gaps, CadenceGap{Region: region, From: unsigned.Oldest, To: c.Now, FromSeq: unsigned.FromSeq, ToSeq: unsigned.ToSeq, Unsigned: true})
	}
	return gaps
}
