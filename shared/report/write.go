package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/residency-dev/residency/shared/ledger"
)

// Formats the report renders.
var Formats = []string{"table", "json", "csv", "html"}

// CheckFormat reports an unknown format as an error naming the known ones.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if format == f {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown report format %q (use one of %s)", ErrBadQuery, format, strings.Join(Formats, ", "))
}

// EntrySource calls fn with each entry of a report, in time order, and
// stops with fn's first error. The *Entry is only valid during the call.
type EntrySource func(fn func(*ledger.Entry) error) error

// Write renders a report in format from its header and its entries, writing
// each entry as src yields it.
func Write(w io.Writer, format string, h *Header, src EntrySource) error {
	switch format {
	case "json":
		return WriteJSON(w, h, src, nil)
	case "csv":
		return WriteCSV(w, src)
	case "html":
		return WriteHTML(w, h, src, HTMLOptions{})
	case "table", "":
		return writeTable(w, h, src)
	}
	return CheckFormat(format)
}

// WriteJSON writes the JSON object of head's fields, then "entries": the
// entries as src yields them, then tail's fields (tail may be nil, or return
// nil; it is called after the entries, e.g. for a next cursor). head and
// tail must marshal to JSON objects. The output is what encoding/json writes
// with two-space indentation.
func WriteJSON(w io.Writer, head any, src EntrySource, tail func() any) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	hb, err := objectFields(head)
	if err != nil {
		return err
	}
	bw.WriteString("{\n")
	if len(hb) > 0 {
		bw.Write(hb)
		bw.WriteString(",\n")
	}
	bw.WriteString(`  "entries": [`)
	n := 0
	buf := make([]byte, 0, 2048)
	err = src(func(e *ledger.Entry) error {
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n    "...)
		var err error
		if buf, err = e.AppendJSONIndent(buf, "    ", "  "); err != nil {
			return fmt.Errorf("entry %s: %w", e.ID, err)
		}
		bw.Write(buf)
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	if tail != nil {
		if t := tail(); t != nil {
			tb, err := objectFields(t)
			if err != nil {
				return err
			}
			if len(tb) > 0 {
				bw.WriteString(",\n")
				bw.Write(tb)
			}
		}
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// objectFields returns the indented fields of v's JSON object, without its
// braces.
func objectFields(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("report JSON: %T is not an object", v)
	}
	return bytes.Trim(b[1:len(b)-1], "\n"), nil
}

// WriteCSV writes the CSV header row and a row per entry.
func WriteCSV(w io.Writer, src EntrySource) error {
	cw := csv.NewWriter(w)
	cw.Write(ledger.CSVHeader)
	err := src(func(e *ledger.Entry) error { return cw.Write(e.CSVRow()) })
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func writeTable(w io.Writer, h *Header, src EntrySource) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	period := "all time"
	if h.From != "" || h.To != "" {
		period = fmt.Sprintf("%s to %s", orDash(h.From), orDash(h.To))
	}
	fmt.Fprintf(tw, "Residency compliance report (%s), generated %s\n", period, h.GeneratedAt.Format(time.RFC3339))
	writeOverdue(tw, &h.Summary.Requests)
	if h.Controller != nil {
		fmt.Fprintf(tw, "Controller: %s (%s)\n", h.Controller.Name, orDash(h.Controller.Country))
	}
	if h.PolicyVersion != "" {
		fmt.Fprintf(tw, "Policy version: %s\n", h.PolicyVersion)
	}
	if h.PolicySHA256 != "" {
		fmt.Fprintf(tw, "Policy file SHA-256: %s\n", h.PolicySHA256)
	}
	if len(h.Filters) > 0 {
		var fs []string
		for k, v := range h.Filters {
			fs = append(fs, k+"="+v)
		}
		sort.Strings(fs)
		fmt.Fprintf(tw, "Filters: %s\n", strings.Join(fs, " "))
	}
	if len(h.DigestKeys) > 0 {
		fmt.Fprintf(tw, "Digest keys (fingerprint: SHA-256 of the public key's PKIX DER encoding)\n")
		for _, k := range h.DigestKeys {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", k.ID, orDash(k.Algorithm), k.Fingerprint)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeChains(bw, &h.Ledger)
	s := &h.Summary
	fmt.Fprintf(tw, "\nSummary\n")
	for _, k := range ledger.Kinds {
		fmt.Fprintf(tw, "  %s\t%d\n", k, s.ByKind[k])
	}
	var transfers, hosting []RegisterRow
	for _, row := range s.Register {
		if row.Kind == RowHosting {
			hosting = append(hosting, row)
		} else {
			transfers = append(transfers, row)
		}
	}
	if len(transfers) > 0 || s.Unrestricted > 0 {
		fmt.Fprintf(tw, "\nTransfer register (GDPR Art. 30(1)(e)): restricted transfers; %d unrestricted left out\n", s.Unrestricted)
	}
	if len(transfers) > 0 {
		fmt.Fprintf(tw, "  TO\tIMPORTER\tMECHANISM\tREFERENCE\tCATEGORIES\tALLOWED\tDENIED\tFIRST SEEN\tLAST SEEN\n")
		for _, row := range transfers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", row.ToCountry, row.Importer, orDash(row.Mechanism), orDash(row.Reference),
				strings.Join(row.Categories, ","), row.Allowed, row.Denied, row.FirstSeen.Format(time.RFC3339), row.LastSeen.Format(time.RFC3339))
		}
	}
	if len(hosting) > 0 {
		fmt.Fprintf(tw, "\nHosting outside the exporter's regime (records held now, from the catalog)\n")
		fmt.Fprintf(tw, "  REGION\tTO\tIMPORTER\tMECHANISM\tREFERENCE\tCATEGORY\tRECORDS\tFIRST TAGGED\tLAST TAGGED\n")
		for _, row := range hosting {
			ref := row.Reference
			if row.Reason != "" {
				ref = "NOT COVERED: " + row.Reason
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", row.Region, row.ToCountry, row.Importer, orDash(row.Mechanism), orDash(ref),
				strings.Join(row.Categories, ","), row.Records, row.FirstSeen.Format(time.RFC3339), row.LastSeen.Format(time.RFC3339))
		}
	}
	if len(s.Expiring) > 0 {
		fmt.Fprintf(tw, "\nMechanisms ending in the period or within 90 days of its end\n")
		fmt.Fprintf(tw, "  MECHANISM\tTYPE\tIMPORTER\tLAST DAY\tSTATE\tTRANSFERS\tHOSTED RECORDS\n")
		for _, m := range s.Expiring {
			state := "ends soon"
			if m.Expired {
				state = "ENDED"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%d\t%d\n", m.ID, m.Type, orDash(m.Importer), m.LastDay, state, m.Transfers, m.HostedRecords)
		}
	}
	if v := s.Violations; v.Total > 0 {
		fmt.Fprintf(tw, "\nViolations: %d (remediated %d, open %d, alert only %d)\n", v.Total, v.Remediated, v.Open, v.AlertOnly)
		fmt.Fprintf(tw, "  TIME\tREGION\tSEQ\tSOURCE\tRECORD\tHOME\tACTION\tSTATUS\tREMEDIATION\n")
		for _, x := range v.List {
			fix := "-"
			if r := x.Remediation; r != nil {
				fix = fmt.Sprintf("%s to %s at %s (%s seq %d)", r.Decision, r.ToRegion, r.Time.Format(time.RFC3339), r.Region, r.Seq)
			} else if x.Reason != "" {
				fix = x.Reason
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", x.Time.Format(time.RFC3339), x.Region, x.Seq, orDash(x.Source),
				orDash(x.Record), orDash(x.HomeRegion), orDash(x.Action), x.Status, fix)
		}
		if v.Truncated {
			fmt.Fprintf(tw, "  (%d of %d listed, open ones first)\n", len(v.List), v.Total)
		}
	}
	exposureTable(tw, &s.Exposure)
	writeRequests(tw, &s.Requests)
	if d := s.Deletions; d.Total > 0 {
		fmt.Fprintf(tw, "\nDeletions: %d (%s; by category: %s)\n", d.Total, counts(d.ByReason), counts(d.ByCategory))
		if n := d.ByDecision["deleted_by_ttl"]; n > 0 {
			fmt.Fprintf(tw, "  of which %d by the DynamoDB TTL backstop: deadlines the retention sweep missed\n", n)
		}
	}
	if len(s.Coverage) > 0 {
		fmt.Fprintf(tw, "\nBackfill coverage (the records that predate Residency, now)\n")
		fmt.Fprintf(tw, "  REGION\tSOURCE\tKIND\tBACKFILL COMPLETED\tMODE\n")
		for _, c := range s.Coverage {
			when := NeverBackfilled
			if c.Backfilled {
				when = c.CompletedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Region, c.Source, c.SourceKind, when, orDash(c.Mode))
		}
	}
	if len(h.Holds) > 0 {
		fmt.Fprintf(tw, "\nLegal holds in force: %d\n", len(h.Holds))
		fmt.Fprintf(tw, "  HOLD\tSUBJECT\tSOURCE\tRECORD\tSET AT\tREASON\n")
		for _, x := range h.Holds {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", x.ID, orDash(x.SubjectRef), orDash(x.Source), orDash(x.Record),
				x.SetAt.Format(time.RFC3339), x.Reason)
		}
	}
	fmt.Fprintf(tw, "\nEntries\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	et := &entryTable{w: bw}
	if err := src(et.add); err != nil {
		return err
	}
	et.flush()
	return bw.Flush()
}

// writeChains writes the ledger's verification, a block per region: its
// head and what its newest digest signed, with hashes and key ids in full.
func writeChains(w *bufio.Writer, st *LedgerStatus) {
	verdict := "VERIFIED"
	if !st.Verified {
		verdict = "BROKEN"
	}
	fmt.Fprintf(w, "Ledger: %d entries, %s\n", st.Entries, verdict)
	for _, c := range st.Chains {
		state := "intact"
		if !c.Verified {
			state = fmt.Sprintf("BROKEN at seq %d: %s", c.FirstBadSeq, c.Problem)
		}
		fmt.Fprintf(w, "  %s: %d entries, %s\n", c.Region, c.Entries, state)
		if c.Head.Seq > 0 {
			fmt.Fprintf(w, "    head:   seq %d, hash %s\n", c.Head.Seq, c.Head.Hash)
		} else {
			fmt.Fprintf(w, "    head:   none (no entries)\n")
		}
		fmt.Fprintf(w, "    signed: %s\n", c.Signed(st.DigestsChecked))
		if st.DigestsChecked && c.SignedAt != nil {
			fmt.Fprintf(w, "            newest digest: seq %d, hash %s, at %s, key %s\n", c.SignedSeq, orDash(c.SignedHash),
				c.SignedAt.Format(time.RFC3339), orDash(c.SignedKeyID))
		}
	}
}

// entryTable aligns the entries' columns without holding them all: the
// first rows set the column widths, later rows follow them (a wider cell
// pushes its row's next cells right).
type entryTable struct {
	w      *bufio.Writer
	rows   [][]string
	widths []int
	ready  bool
}

var entryColumns = []string{"TIME", "REGION", "SEQ", "KIND", "SOURCE", "SUBJECT", "FROM", "TO", "IMPORTER", "MECHANISM", "DECISION", "REFERENCE"}

const alignRows = 500

func (t *entryTable) add(e *ledger.Entry) error {
	row := []string{e.Time.Format(time.RFC3339), e.Region, strconv.FormatInt(e.Seq, 10), string(e.Kind), orDash(e.Source),
		orDash(e.SubjectRef), where(e.FromRegion, e.FromCountry), where(e.ToRegion, e.ToCountry), orDash(e.Importer),
		orDash(e.Mechanism), orDash(e.Decision), orDash(e.Reference)}
	if t.ready {
		t.line(row)
		return nil
	}
	t.rows = append(t.rows, row)
	if len(t.rows) >= alignRows {
		t.flush()
	}
	return nil
}

func (t *entryTable) flush() {
	if t.ready {
		return
	}
	t.ready = true
	t.widths = make([]int, len(entryColumns))
	for _, r := range append([][]string{entryColumns}, t.rows...) {
		for i, c := range r {
			t.widths[i] = max(t.widths[i], utf8.RuneCountInString(c))
		}
	}
	t.line(entryColumns)
	for _, r := range t.rows {
		t.line(r)
	}
	t.rows = nil
}

func (t *entryTable) line(cells []string) {
	t.w.WriteString("  ")
	for i, c := range cells {
		t.w.WriteString(c)
		if i == len(cells)-1 {
			break
		}
		for n := utf8.RuneCountInString(c); n < t.widths[i]+2; n++ {
			t.w.WriteByte(' ')
		}
	}
	t.w.WriteByte('\n')
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func where(region, country string) string {
	switch {
	case region != "" && country != "":
		return region + " (" + country + ")"
	case region != "":
		return region
	case country != "":
		return country
	}
	return "-"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
