package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/report"
)

func isHelp(arg string) bool { return arg == "-h" || arg == "--help" || arg == "-help" }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdPolicy(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		return helpRequest{text: "Usage: residency policy validate FILE [flags]\n\nRun 'residency policy validate --help' for the flags.\n" + examplesText("policy")}
	}
	if len(args) == 0 || args[0] != "validate" {
		return usagef("use: residency policy validate FILE [--now T]%s", subcommandHint("policy", args))
	}
	fs, c := newFlags("policy validate", stderr)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("policy validate takes one FILE")
	}
	now, err := c.clock()
	if err != nil {
		return err
	}
	p, err := policy.Load(pos[0])
	if err != nil {
		// One "file:line: field: message" per line, nothing before it, so
		// editors and CI annotate the lines.
		fmt.Fprintln(stderr, err)
		return exitError{exitFail, errors.New("")}
	}
	// Warnings do not fail validation: the policy is valid, but a
	// mechanism has ended or ends soon, or lacks its assessment. Same
	// "file:line: warning: field: message" shape, one a line.
	warnings := p.Warnings(now())
	for _, w := range warnings {
		fmt.Fprintf(stdout, "%s:%d: warning: %s: %s\n", w.File, w.Line, w.Field, w.Msg)
	}
	fmt.Fprintf(stdout, "%s: ok (version %s; %d regions, %d residency rules, %d categories, %d sources, %d mechanisms; %d %s)\n",
		pos[0], p.Version, len(p.Regions), len(p.Rules), len(p.Categories), len(p.Sources), len(p.Mechanisms),
		len(warnings), plural(len(warnings), "warning"))
	return nil
}

// residencyOutput is a residency decision as decide prints it: rule is the
// 1-based number of the matched residency rule, as the report and the
// policy reference ("residency rule 1") count them, and absent when no
// rule applies.
type residencyOutput struct {
	policy.ResidencyDecision
	Rule *int `json:"rule,omitempty"`
}

func ruleNumber(index int) *int {
	if index < 0 {
		return nil
	}
	n := index + 1
	return &n
}

func cmdDecide(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		return helpRequest{text: "Usage: residency decide residency|transfer [flags]\n\nRun 'residency decide residency --help' or 'residency decide transfer --help' for the flags.\n" + examplesText("decide")}
	}
	if len(args) == 0 || (args[0] != "residency" && args[0] != "transfer") {
		return usagef("use: residency decide residency|transfer ...%s", subcommandHint("decide", args))
	}
	fs, c := newFlags("decide "+args[0], stderr)
	var subject, region, category, from, to, exporter, importer, derogation string
	var unknownSubject bool
	fs.StringVar(&subject, "subject", "", "subject country (ISO 3166-1 alpha-2)")
	fs.BoolVar(&unknownSubject, "unknown-subject", false, "decide residency: the subject's country is unknown (the policy's unknown_subject applies)")
	fs.StringVar(&region, "region", "", "AWS region where the record is")
	fs.StringVar(&category, "category", "", "data category")
	fs.StringVar(&from, "from", "", "country where the data is stored (kept on the decision; it does not make a transfer unrestricted)")
	fs.StringVar(&to, "to", "", "importer's country")
	fs.StringVar(&exporter, "exporter", "", "exporter: the policy's organization (default) or one of its entities")
	fs.StringVar(&importer, "importer", "", "importer name")
	fs.StringVar(&derogation, "derogation", "", "derogation of the exporter's regime (GDPR Art. 49(1), UK GDPR Art. 49(1), FADP Art. 17(1))")
	if err := parseFlagsOnly(fs, args[1:]); err != nil {
		return err
	}
	p, err := c.loadPolicy()
	if err != nil {
		return err
	}
	if args[0] == "residency" {
		if err := required("region", region, "category", category); err != nil {
			return err
		}
		switch {
		case subject == "" && !unknownSubject:
			return usagef("missing --subject (or --unknown-subject when the subject's country is not known)")
		case subject != "" && unknownSubject:
			return usagef("--subject and --unknown-subject exclude each other")
		}
		d, err := p.Residency(subject, region, category)
		if err != nil {
			return err
		}
		return writeJSON(stdout, residencyOutput{d, ruleNumber(d.Rule)})
	}
	if err := required("from", from, "to", to, "category", category); err != nil {
		return err
	}
	now, err := c.clock()
	if err != nil {
		return err
	}
	d, err := p.Transfer(policy.TransferRequest{FromCountry: from, Exporter: exporter, ToCountry: to, Importer: importer, Category: category, Derogation: derogation}, now())
	if err != nil {
		return err
	}
	return writeJSON(stdout, d)
}

func cmdInvoke(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, c := newFlags("invoke", stderr)
	var region string
	fs.StringVar(&region, "region", "", "the invoking region (default: the policy's first)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("use: residency invoke FUNCTION EVENT.json|-")
	}
	var payload []byte
	if pos[1] == "-" {
		payload, err = io.ReadAll(stdin)
	} else {
		payload, err = os.ReadFile(pos[1])
	}
	if err != nil {
		return fmt.Errorf("read event: %w", err)
	}
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	out, err := s.Invoke(ctx, pos[0], policyRegion(s.Policy, region), payload)
	if err != nil {
		return err
	}
	if len(out) == 0 || string(out) == "null" {
		out = []byte("{}")
	}
	var buf bytes.Buffer
	if json.Indent(&buf, out, "", "  ") == nil {
		out = buf.Bytes()
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return nil
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("verify", stderr)
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print the verification as JSON")
	every := fs.Duration("digest-every", digest.DefaultEvery, "the digest schedule: fail when entries older than two periods are unsigned, or two digests are further apart (0: not checked)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	c.verifyOnly = true
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	if s.Digests != nil {
		// Prove each signed tree head consistent with the one before from
		// the store's tree too.
		s.Digests.Tree = s.Store
		s.Digests.Cadence = ledger.Cadence{Every: *every, Now: s.Now()}
	}
	st, err := report.Verify(ctx, s.Store, s.Digests)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(stdout, st); err != nil {
			return err
		}
		if !st.Verified {
			return exitError{exitBroken, errBroken}
		}
		return nil
	}
	for _, ch := range st.Chains {
		if ch.Verified {
			fmt.Fprintf(stdout, "%s: ok, %d entries, head seq %d hash %s; %s\n", ch.Region, ch.Entries, ch.Head.Seq, ch.Head.Hash, ch.Signed(st.DigestsChecked))
		} else {
			fmt.Fprintf(stdout, "%s: BROKEN at seq %d: %s\n", ch.Region, ch.FirstBadSeq, ch.Problem)
		}
	}
	if len(st.Chains) == 0 {
		fmt.Fprintln(stdout, "ledger is empty")
	}
	if !st.Verified {
		return exitError{exitBroken, errBroken}
	}
	return nil
}

// sweepTotals is the JSON `residency sweep` prints.
type sweepTotals struct {
	Due       int                     `json:"due"`
	Deleted   int                     `json:"deleted"`
	Held      int                     `json:"held"`
	Emitted   int                     `json:"emitted"`
	ItemsRead int                     `json:"items_read"`
	Regions   []retention.SweepResult `json:"regions"`
	// Digests are the digests signed after the sweep (of the chains its
	// deletion receipts grew).
	Digests []ledgerfn.DigestResult `json:"digests"`
}

func totals(rs []retention.SweepResult) sweepTotals {
	t := sweepTotals{Regions: rs}
	for _, r := range rs {
		t.Due += r.Due
		t.Deleted += r.Deleted
		t.Held += r.Held
		t.Emitted += r.Emitted
		t.ItemsRead += r.ItemsRead
	}
	return t
}

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("sweep", stderr)
	var region string
	fs.StringVar(&region, "region", "", "sweep only this region (default: every region of the policy)")
	noProgress := fs.Bool("no-progress", false, "no progress line on stderr")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	regions := s.Policy.Regions
	if region != "" {
		if !slices.Contains(s.Policy.Regions, region) {
			return usagef("--region %q is not one of the policy's regions (%s)", region, strings.Join(s.Policy.Regions, ", "))
		}
		regions = []string{region}
	}
	m := newMeter(stderr, !*noProgress)
	m.start("sweep", "regions", len(regions), 0)
	var rs []retention.SweepResult
	read := 0
	for _, r := range regions {
		res, err := s.SweepRegion(ctx, r, s.Now())
		if err != nil {
			m.clear()
			return err
		}
		rs = append(rs, res)
		read += res.ItemsRead
		m.set(len(rs), count(read, "catalog entry")+" read")
	}
	m.finish()
	t := totals(rs)
	if t.Digests, err = s.SignDigests(ctx, false); err != nil {
		return err
	}
	if t.Digests == nil {
		t.Digests = []ledgerfn.DigestResult{}
	}
	return writeJSON(stdout, t)
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("run", stderr)
	var rf reportFlags
	rf.register(fs)
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{"events/samples"}
		if _, err := os.Stat("events/fixtures"); err == nil {
			paths = append(paths, "events/fixtures")
		}
	}
	files, objects, err := collect(paths)
	if err != nil {
		return err
	}
	if c.logFile == "" {
		// Keep the summary readable: the functions' logs go beside the store.
		c.logFile = c.db + ".log"
	}
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	// Each event is processed at its own time, as it was on the platform.
	// The sweep, the digests and the report run at --now; without it, at
	// the last event's time, so that one clock, the events', runs through
	// the whole summary and the wall clock never mixes in.
	end, err := c.clock()
	if err != nil {
		return err
	}
	clockNote := "--now " + c.now
	if c.now == "" {
		last := time.Now()
		clockNote = "no --now: the last event's time"
		if len(files) > 0 {
			last = files[len(files)-1].at
		} else {
			clockNote = "no --now and no events: the wall clock"
		}
		end = func() time.Time { return last }
	}
	var at time.Time
	s.SetClock(func() time.Time { return at })
	if err := loadFixtures(ctx, s, objects); err != nil {
		return err
	}
	out := stdout
	if rf.format != "table" && rf.out == "" {
		out = stderr // keep stdout for the machine-readable report
	}
	fmt.Fprintf(out, "Replaying %s (%s from fixtures) through the stacks of %s\n",
		count(len(files), "event file"), count(len(objects), "S3 object"), strings.Join(s.Policy.Regions, ", "))
	fmt.Fprintf(out, "Clock: each event at its own time; the sweep, digests and report at %s (%s)\n\n",
		end().UTC().Format(time.RFC3339), clockNote)
	failedBefore := s.Stats.Failures
	m := newMeter(stderr, !rf.noProgress)
	m.start("replay", "event files", len(files), 0)
	outTTY := isTerminal(out)
	payloads := make([][]byte, len(files))
	for i, f := range files {
		payloads[i] = f.data
	}
	for i, p := range local.PrepareAhead(payloads) {
		f := files[i]
		at = f.at
		d, err := s.ReplayPrepared(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		status := "ok"
		if d.Error != "" {
			status = "FAILED: " + d.Error
		} else if d.Failed > 0 {
			status = fmt.Sprintf("%d of %d records failed (kept as dead letters)", d.Failed, d.Records)
		}
		target := d.Function
		if d.Region != "" {
			target += " @ " + d.Region
		}
		if outTTY {
			m.clear() // the file's line, then the progress line again
		}
		fmt.Fprintf(out, "  %s  %-48s %-28s %s\n", f.at.UTC().Format(time.RFC3339), filepath.Base(f.path), target, status)
		m.add(1)
	}
	m.clear()
	s.SetClock(end)
	rs, err := s.Sweep(ctx, s.Now())
	if err != nil {
		return err
	}
	t := totals(rs)
	fmt.Fprintf(out, "\nRetention sweep at %s: %d due, %d deleted, %d held, %s emitted (%s read)\n",
		s.Now().UTC().Format(time.RFC3339), t.Due, t.Deleted, t.Held, count(t.Emitted, "event"), count(t.ItemsRead, "catalog entry"))
	fmt.Fprint(out, streamSummary(s.Stats))
	fmt.Fprintf(out, "Ledger messages from the functions: %d; function logs: %s\n", s.Stats.LedgerEntries, c.logFile)
	var pub []string
	for k, v := range s.Stats.Published {
		pub = append(pub, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(pub)
	if len(pub) > 0 {
		fmt.Fprintf(out, "Events published: %s\n", strings.Join(pub, ", "))
	}
	ds, err := s.SignDigests(ctx, false)
	if err != nil {
		return err
	}
	for _, d := range ds {
		fmt.Fprintf(out, "Signed digest %s: seq %d-%d, head %.12s, key %s (in %s)\n", d.Region, d.FromSeq, d.ToSeq, d.HeadHash, d.KeyID, c.digestDir())
	}
	dead, err := s.Store.DeadLetters(ctx)
	if err != nil {
		return err
	}
	if n := s.Stats.Failures - failedBefore; n > 0 {
		fmt.Fprintf(out, "Failures kept as dead letters: %d (residency failures lists them, residency failures retry redelivers them)\n", n)
		for _, d := range dead[max(0, len(dead)-n):] {
			fmt.Fprintf(out, "  %s %s %s: %s\n", d.Function, d.Region, d.Item, d.Reason)
		}
	}
	fmt.Fprintln(out)
	return rf.write(ctx, s, stdout, stderr)
}

// streamSummary explains the stream records delivered to the tagger: those
// of the event files, and those of the stack's own writes (as on AWS, the
// table's stream carries every write, Residency's included).
func streamSummary(st local.Stats) string {
	w := st.StreamFromWrites
	own := w["INSERT"] + w["MODIFY"] + w["REMOVE"]
	line := fmt.Sprintf("Stream records delivered to the tagger: %d = %d in the event files + %d from the stack's own writes",
		st.StreamRecords, st.StreamFromPayloads, own)
	if own == 0 {
		return line + "\n"
	}
	var parts []string
	if n := w["MODIFY"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%s (the tagger's own tag writes, which it sees and leaves)", count(n, "tag echo")))
	}
	if n := w["INSERT"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%s (records relocated or routed to their home region)", count(n, "copy")))
	}
	if n := w["REMOVE"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%s (relocated originals, expired and erased records)", count(n, "deletion")))
	}
	return line + ":\n  " + strings.Join(parts, ",\n  ") + "\n"
}

// count is n and word, plural unless n is 1: "1 event file", "2 copies".
func count(n int, word string) string { return fmt.Sprintf("%d %s", n, plural(n, word)) }

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	switch {
	case n == 1:
		return word
	case strings.HasSuffix(word, "y") && !strings.HasSuffix(word, "ey"):
		return word[:len(word)-1] + "ies"
	case strings.HasSuffix(word, "o"):
		return word + "es"
	}
	return word + "s"
}
