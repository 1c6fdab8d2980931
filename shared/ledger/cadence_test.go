package ledger_test

import (
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

func TestCadenceGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	hourly := []ledger.DigestPoint{{2, h(1)}, {4, h(2)}, {6, h(3)}}
	for _, tc := range []struct {
		name     string
		every    time.Duration
		now      time.Time
		digests  []ledger.DigestPoint
		unsigned ledger.Unsigned
		want     []ledger.CadenceGap
	}{
		{name: "regular", every: time.Hour, now: h(3.5), digests: hourly},
		{name: "not checked", every: 0, now: h(30), digests: []ledger.DigestPoint{{2, h(1)}, {4, h(20)}},
			unsigned: ledger.Unsigned{FromSeq: 5, ToSeq: 5, Oldest: h(20)}},
		{name: "unsigned within two periods", every: time.Hour, now: h(5), digests: hourly,
			unsigned: ledger.Unsigned{FromSeq: 7, ToSeq: 9, Oldest: h(3)}},
		{name: "unsigned older than two periods", every: time.Hour, now: h(5.5), digests: hourly,
			unsigned: ledger.Unsigned{FromSeq: 7, ToSeq: 9, Oldest: h(3)},
			want:     []ledger.CadenceGap{{From: h(3), To: h(5.5), FromSeq: 7, ToSeq: 9, Unsigned: true}}},
		{name: "no digest at all", every: time.Hour, now: h(3), unsigned: ledger.Unsigned{FromSeq: 1, ToSeq: 4, Oldest: h(0)},
			want: []ledger.CadenceGap{{From: h(0), To: h(3), FromSeq: 1, ToSeq: 4, Unsigned: true}}},
		{name: "gap exactly two periods", every: time.Hour, now: h(3.5), digests: []ledger.DigestPoint{{2, h(1)}, {4, h(3)}}},
		{name: "gap over two periods, chain grew", every: time.Hour, now: h(4.5), digests: []ledger.DigestPoint{{2, h(1)}, {5, h(4)}, {6, h(4.5)}},
			want: []ledger.CadenceGap{{From: h(1), To: h(4), FromSeq: 3, ToSeq: 5}}},
		{name: "gap while the chain stood still", every: time.Hour, now: h(10), digests: []ledger.DigestPoint{{2, h(1)}, {2, h(9)}}},
		{name: "15-minute schedule", every: 15 * time.Minute, now: h(2), digests: []ledger.DigestPoint{{2, h(1)}, {3, h(1.25)}, {4, h(1.8)}},
			want: []ledger.CadenceGap{{From: h(1.25), To: h(1.8), FromSeq: 4, ToSeq: 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.want {
				tc.want[i].Region = "eu-west-1"
			}
			got := ledger.Cadence{Every: tc.every, Now: tc.now}.Gaps("eu-west-1", tc.digests, tc.unsigned)
			if len(got) != len(tc.want) {
				t.Fatalf("expect %d gaps, got %+v", len(tc.want), got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("gap %d: expect %+v, got %+v", i, tc.want[i], got[i])
				}
			}
		})
	}
}

func TestUnsignedKeepsTheOldest(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var u ledger.Unsigned
	for i, at := range []time.Time{t0.Add(time.Minute), t0, t0.Add(2 * time.Minute)} {
		u.Add(&ledger.Entry{Seq: int64(10 + i), Time: at})
	}
	if u.FromSeq != 10 || u.ToSeq != 12 || !u.Oldest.Equal(t0) {
		t.Fatalf("expect seq 10-12, oldest %s, got %+v", t0, u)
	}
}
