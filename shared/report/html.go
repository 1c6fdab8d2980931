package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/residency-dev/residency/shared/ledger"
)

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func join(s []string) string { return strings.Join(s, ", ") }

// num writes a chart coordinate as fmt's %v does.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// kvList is "key value, key value".
func kvList(kvs []kv) string {
	parts := make([]string, len(kvs))
	for i, p := range kvs {
		parts[i] = p.Key + " " + strconv.Itoa(p.Value)
	}
	return join(parts)
}

// MaxHTMLEntries is how many entries an HTML report lists by default: a page
// for people, whose charts and tables cover every entry; the CSV and JSON
// formats list them all.
const MaxHTMLEntries = 10000

// HTMLOptions tune WriteHTML.
type HTMLOptions struct {
	MaxEntries int    // entries listed (0: MaxHTMLEntries)
	More       string // a note after the entries when they continue elsewhere (e.g. the next page)
}

type tile struct {
	Label, Value, Note, Class string
}

type kv struct {
	Key   string
	Value int
}

type htmlHead struct {
	H          *Header
	Period     string
	Filters    []string
	Tiles      []tile
	Charts     []chart
	Deletions  []kv
	Reasons    []kv
	Mechanisms []kv
	Transfers  []RegisterRow // the register's transfer rows
	Hosting    []RegisterRow // its hosting rows
}

type htmlFoot struct {
	Listed, Total int
	Max           int
	More          string
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// SVG charts (flows by destination and mechanism, violations and deletions
// over time), the transfer register, violations with their remediation,
// deletions, holds and the entries; no script, no external resource. Every
// value is escaped (report.templ, compiled by templ).
func WriteHTML(w io.Writer, h *Header, src EntrySource, opt HTMLOptions) error {
	if opt.MaxEntries <= 0 {
		opt.MaxEntries = MaxHTMLEntries
	}
	s := &h.Summary
	d := htmlHead{H: h, Period: "all time"}
	if h.From != "" || h.To != "" {
		d.Period = fmt.Sprintf("%s to %s", orDash(h.From), orDash(h.To))
	}
	for k, v := range h.Filters {
		d.Filters = append(d.Filters, k+"="+v)
	}
	sort.Strings(d.Filters)
	verdict, vclass := "verified", "ok"
	if !h.Ledger.Verified {
		verdict, vclass = "BROKEN", "bad"
	}
	openClass := "ok"
	if s.Violations.Open > 0 {
		openClass = "bad"
	}
	for _, row := range s.Register {
		if row.Kind == RowHosting {
			d.Hosting = append(d.Hosting, row)
		} else {
			d.Transfers = append(d.Transfers, row)
		}
	}
	d.Tiles = []tile{
		{"Ledger", verdict, fmt.Sprintf("%d entries in %d chains", h.Ledger.Entries, len(h.Ledger.Chains)), vclass},
		{"Transfers", fmt.Sprint(s.ByKind[ledger.KindTransfer]), fmt.Sprintf("%d destinations", countries(d.Transfers)), ""},
		{"Denied", fmt.Sprint(s.ByKind[ledger.KindDenial]), "transfer requests refused", ""},
		{"Violations", fmt.Sprint(s.Violations.Total), fmt.Sprintf("%d open, %d remediated", s.Violations.Open, s.Violations.Remediated), openClass},
		{"Relocations", fmt.Sprint(s.ByKind[ledger.KindRelocation]), "records moved home", ""},
		{"Deletions", fmt.Sprint(s.Deletions.Total), fmt.Sprintf("of which %d by erasure request", s.Deletions.ByReason["erasure"]), ""},
		{"Legal holds", fmt.Sprint(len(h.Holds)), "in force now", ""},
	}
	d.Charts = []chart{flowsChart(d.Transfers), violationsChart(h), exposureChart(h), deletionsChart(h)}
	d.Deletions = sortedKV(s.Deletions.ByCategory)
	d.Reasons = sortedKV(s.Deletions.ByReason)
	d.Mechanisms = sortedKV(s.ByMechanism)
	foot := &htmlFoot{Total: s.Entries, Max: opt.MaxEntries, More: opt.More}
	entries := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		err := src(func(e *ledger.Entry) error {
			if foot.Listed >= opt.MaxEntries {
				return ErrStop
			}
			foot.Listed++
			return htmlRow(e).Render(ctx, w)
		})
		if errors.Is(err, ErrStop) {
			return nil
		}
		return err
	})
	return page(d, entries, foot).Render(context.Background(), w)
}

func countries(reg []RegisterRow) int {
	seen := map[string]bool{}
	for _, r := range reg {
		if r.Allowed > 0 {
			seen[r.ToCountry] = true
		}
	}
	return len(seen)
}

func sortedKV(m map[string]int) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Value != out[j].Value {
			return out[i].Value > out[j].Value
		}
		return out[i].Key < out[j].Key
	})
	return out
}
