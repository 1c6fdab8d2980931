package report

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// Ledger is what a report reads: the chains, to verify them, and the
// entries in time order, a keyset page at a time. A report reads it from
// several goroutines at once (the chains side by side, the summary beside
// the verification): implementations must be safe for concurrent use.
type Ledger interface {
	Chains(ctx context.Context) ([]string, error)
	// ScanChainAfter calls fn with at most limit entries of region's chain
	// (limit <= 0: all) whose seq is above afterSeq, in seq order.
	ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error
	// ScanLedgerAfter calls fn with at most limit entries matching q
	// (limit <= 0: all) that come after the entry at after's (time, region,
	// seq), in (time, region, seq) order; a nil after starts at the
	// beginning.
	ScanLedgerAfter(ctx context.Context, q ledger.Query, after *ledger.Entry, limit int, fn func(*ledger.Entry) error) error
}

// HoldLister lists the legal holds in force.
type HoldLister interface {
	ListHolds(ctx context.Context) ([]catalog.Hold, error)
}

// RecordRefs names a record by its reference, never by its key.
type RecordRefs interface {
	Record(source string, key record.Key) string
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

func (q Query) match(e *ledger.Entry) bool {
	return (q.Destination == "" || e.ToCountry == q.Destination) &&
		(q.Mechanism == "" || e.Mechanism == q.Mechanism) &&
		(q.SubjectRef == "" || e.SubjectRef == q.SubjectRef)
}

func (q Query) wants(k ledger.Kind) bool {
	return len(q.Kinds) == 0 || slices.Contains(q.Kinds, k)
}

func (q Query) ledgerQuery() ledger.Query {
	return ledger.Query{From: q.From, To: q.To, Kinds: q.Kinds, Region: q.Region}
}

// filters lists q's filters other than the period, for the report's header.
func (q Query) filters() map[string]string {
	m := map[string]string{}
	if len(q.Kinds) > 0 {
		ks := make([]string, len(q.Kinds))
		for i, k := range q.Kinds {
			ks[i] = string(k)
		}
		m["kind"] = strings.Join(ks, ",")
	}
	for k, v := range map[string]string{"region": q.Region, "destination": q.Destination, "mechanism": q.Mechanism, "subject_ref": q.SubjectRef} {
		if v != "" {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// Position is a place in the ledger's time order: just after the entry at
// (Time, Region, Seq). The zero Position is the beginning.
type Position struct {
	Time   time.Time
	Region string
	Seq    int64
}

// PositionOf returns the position just after e.
func PositionOf(e *ledger.Entry) Position {
	return Position{Time: e.Time, Region: e.Region, Seq: e.Seq}
}

// IsZero reports whether p is the beginning.
func (p Position) IsZero() bool { return p.Time.IsZero() && p.Region == "" && p.Seq == 0 }

func (p Position) entry() *ledger.Entry {
	if p.IsZero() {
		return nil
	}
	return &ledger.Entry{Time: p.Time, Region: p.Region, Seq: p.Seq}
}

type cursor struct {
	Time   time.Time `json:"t"`
	Region string    `json:"r"`
	Seq    int64     `json:"s"`
	Query  string    `json:"q"`
}

// fingerprint identifies what q selects, so a cursor is only accepted for
// the query that made it.
func (q Query) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%v\x00%s\x00%s\x00%s\x00%s", ts(q.From), ts(q.To), q.Kinds, q.Region, q.Destination, q.Mechanism, q.SubjectRef)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Cursor returns p as an opaque token for the query q (the reports API's
// next_cursor).
func (p Position) Cursor(q Query) string {
	b, _ := json.Marshal(cursor{Time: p.Time.UTC(), Region: p.Region, Seq: p.Seq, Query: q.fingerprint()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// ParseCursor reads a token Cursor made for the same query q. A token that is
// malformed or was made for another query is an ErrBadQuery.
func ParseCursor(token string, q Query) (Position, error) {
	if token == "" {
		return Position{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Time.IsZero() || c.Region == "" || c.Seq <= 0 {
		return Position{}, fmt.Errorf("%w: cursor is not a cursor this API returned", ErrBadQuery)
	}
	if c.Query != q.fingerprint() {
		return Position{}, fmt.Errorf("%w: cursor belongs to a request with other filters; repeat the first request's from, to, kind, region, destination, mechanism and subject", ErrBadQuery)
	}
	return Position{Time: c.Time, Region: c.Region, Seq: c.Seq}, nil
}

// ErrStop, returned by Scan's fn, ends the scan before the entry fn was
// given: that entry is left for the next page.
var ErrStop = errors.New("stop the scan here")

// Page bounds a Scan. The zero Page reads everything from the beginning.
type Page struct {
	After   Position // start just after this position
	Limit   int      // stop after this many matching entries (0: no limit)
	MaxScan int      // stop after reading this many entries, matching or not (0: no limit)
}

// pageSize is how many entries one keyset read of the ledger asks for.
const pageSize = 1000

// Scan calls fn with the entries q selects, in (time, region, seq) order,
// from p.After on, reading the ledger a keyset page at a time: memory stays
// bounded whatever the range. It returns where to resume and whether entries
// may remain (a Limit, MaxScan or ErrStop ended the scan before the end).
func Scan(ctx context.Context, l Ledger, q Query, p Page, fn func(*ledger.Entry) error) (next Position, more bool, err error) {
	lq := q.ledgerQuery()
	next = p.After
	matched, scanned := 0, 0
	for {
		n := 0
		stopped := false
		err := l.ScanLedgerAfter(ctx, lq, next.entry(), pageSize, func(e *ledger.Entry) error {
			n++
			if p.MaxScan > 0 && scanned >= p.MaxScan {
				stopped = true
				return ErrStop
			}
			scanned++
			if q.match(e) {
				if p.Limit > 0 && matched >= p.Limit {
					stopped = true
					return ErrStop
				}
				if err := fn(e); err != nil {
					if errors.Is(err, ErrStop) {
						stopped = true
					}
					return err
				}
				matched++
			}
			next = PositionOf(e)
			return nil
		})
		if stopped {
			return next, true, nil
		}
		if err != nil {
			return next, false, err
		}
		if n < pageSize {
			return next, false, nil
		}
		if err := ctx.Err(); err != nil {
			return next, false, err
		}
	}
}
