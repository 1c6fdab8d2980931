package report

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// ErrBadQuery marks a report request with a malformed parameter.
var ErrBadQuery = errors.New("bad report query")

// ParseTime reads a report bound: a date (YYYY-MM-DD) or an RFC 3339 time.
// A date as upper bound covers that whole day.
func ParseTime(name, s string, upper bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if upper {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s=%q: use a date (2026-11-30) or an RFC 3339 time", ErrBadQuery, name, s)
	}
	return t.UTC(), nil
}

// ParseKinds reads a comma-separated list of ledger kinds.
func ParseKinds(s string) ([]ledger.Kind, error) {
	if s == "" {
		return nil, nil
	}
	var out []ledger.Kind
	for _, p := range strings.Split(s, ",") {
		k := ledger.Kind(strings.TrimSpace(p))
		if !k.Valid() {
			return nil, fmt.Errorf("%w: kind=%q: use %v", ErrBadQuery, p, ledger.Kinds)
		}
		out = append(out, k)
	}
	return out, nil
}

// ParseQuery reads the parameters shared by the CLI and the reports API:
// from, to, kind, region, destination, mechanism. subject is hashed by the
// caller, never passed here in the clear.
func ParseQuery(get func(string) string) (Query, error) {
	var q Query
	var err error
	if q.From, err = ParseTime("from", get("from"), false); err != nil {
		return q, err
	}
	if q.To, err = ParseTime("to", get("to"), true); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, fmt.Errorf("%w: from must be before to", ErrBadQuery)
	}
	if q.Kinds, err = ParseKinds(get("kind")); err != nil {
		return q, err
	}
	q.Region, q.Destination, q.Mechanism = get("region"), strings.ToUpper(get("destination")), get("mechanism")
	return q, nil
}
