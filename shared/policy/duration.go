package policy

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// maxDurationN bounds N so that AddTo stays within time.Time's range.
const maxDurationN = 100000

// Duration is a retention period in calendar units: N days ("d"), weeks
// ("w"), months ("mo") or years ("y"), written "30d", "6w", "13mo", "10y".
type Duration struct {
	N    int
	Unit string // "d", "w", "mo" or "y"
}

// ParseDuration parses "Nd", "Nw", "Nmo" or "Ny" where N is a positive
// integer. "13m" is rejected: months are "mo", and minutes are not a
// retention unit.
func ParseDuration(s string) (Duration, error) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], s[i:]
	if num == "" {
		return Duration{}, fmt.Errorf("invalid duration %q: want a positive number and a unit d, w, mo or y, e.g. 13mo", s)
	}
	switch unit {
	case "d", "w", "mo", "y":
	case "m":
		return Duration{}, fmt.Errorf("invalid duration %q: unit m is ambiguous: use mo for months", s)
	case "":
		return Duration{}, fmt.Errorf("invalid duration %q: missing unit d, w, mo or y", s)
	default:
		return Duration{}, fmt.Errorf("invalid duration %q: unknown unit %q: use d, w, mo or y", s, unit)
	}
	n, err := strconv.Atoi(num)
	if err != nil || n > maxDurationN {
		return Duration{}, fmt.Errorf("invalid duration %q: number too large (at most %d)", s, maxDurationN)
	}
	if n == 0 {
		return Duration{}, errors.New("invalid duration " + strconv.Quote(s) + ": must be positive")
	}
	return Duration{N: n, Unit: unit}, nil
}

// IsZero reports whether d is the zero Duration (no retention).
func (d Duration) IsZero() bool {
	return d.N == 0
}

// AddTo returns t plus d in calendar terms, through t.AddDate: "1mo" after
// 31 January is 3 March (2 March in a leap year), as AddDate normalizes.
// The zero Duration returns t unchanged.
func (d Duration) AddTo(t time.Time) time.Time {
	switch d.Unit {
	case "d":
		return t.AddDate(0, 0, d.N)
	case "w":
		return t.AddDate(0, 0, 7*d.N)
	case "mo":
		return t.AddDate(0, d.N, 0)
	case "y":
		return t.AddDate(d.N, 0, 0)
	}
	return t
}

// String returns the duration as written in a policy, e.g. "13mo"; "" for
// the zero Duration.
func (d Duration) String() string {
	if d.IsZero() {
		return ""
	}
	return strconv.Itoa(d.N) + d.Unit
}
