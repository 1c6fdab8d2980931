package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// cli runs the command in-process in the repository root, as a user would.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// withStore opens the embedded store at db, runs fn on it and closes it
// again, so a test sets or reads what the commands find there; an error of
// either fails the test.
func withStore(t *testing.T, db string, fn func(st *sqlitestore.Store) error) {
	t.Helper()
	st, err := sqlitestore.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := fn(st); err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	// The commands default to events/samples and residency.yaml relative to
	// the repository root.
	if err := os.Chdir("../.."); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

func TestDecide(t *testing.T) {
	cases := map[string]struct {
		args []string
		want map[string]any
	}{
		"EU subject in the US": {
			[]string{"decide", "residency", "--subject", "FR", "--region", "us-east-1", "--category", "profile"},
			map[string]any{"jurisdiction": "EEA", "home_region": "eu-central-1", "allowed": false, "action": "relocate", "rule": 1.0},
		},
		"unknown subject, said so": {
			[]string{"decide", "residency", "--unknown-subject", "--region", "us-east-1", "--category", "profile"},
			map[string]any{"jurisdiction": "EEA", "assumed": true, "allowed": false, "rule": 1.0},
		},
		"UK subject in Ireland": {
			[]string{"decide", "residency", "--subject", "GB", "--region", "eu-central-1", "--category", "profile"},
			map[string]any{"jurisdiction": "GB", "home_region": "eu-west-1", "allowed": true, "action": "none", "rule": 2.0},
		},
		"SCC to the US importer": {
			[]string{"decide", "transfer", "--from", "DE", "--to", "US", "--importer", "Acme Inc", "--category", "events", "--now", "2026-11-22T00:00:00Z"},
			map[string]any{"restricted": true, "decision": "allowed", "mechanism": "scc"},
		},
		"SCC expired": {
			[]string{"decide", "transfer", "--from", "DE", "--to", "US", "--importer", "Acme Inc", "--category", "events", "--now", "2027-04-01T00:00:00Z"},
			map[string]any{"decision": "denied", "mechanism": "none"},
		},
		"SCC for a US importer does not cover India": {
			[]string{"decide", "transfer", "--from", "DE", "--to", "IN", "--importer", "Acme Inc", "--category", "events", "--now", "2026-11-22T00:00:00Z"},
			map[string]any{"decision": "denied"},
		},
		"DPF-certified importer": {
			[]string{"decide", "transfer", "--from", "FR", "--to", "US", "--importer", "Example Processor Inc", "--category", "profile", "--now", "2026-11-22T00:00:00Z"},
			map[string]any{"decision": "allowed", "mechanism": "dpf"},
		},
		"derogation": {
			[]string{"decide", "transfer", "--from", "FR", "--to", "IN", "--importer", "X Ltd", "--category", "events", "--derogation", "explicit_consent"},
			map[string]any{"decision": "allowed", "mechanism": "derogation"},
		},
		"adequacy": {
			[]string{"decide", "transfer", "--from", "FR", "--to", "JP", "--importer", "Tokyo Insights KK", "--category", "events"},
			map[string]any{"decision": "allowed", "mechanism": "adequacy"},
		},
		"intra-EEA": {
			[]string{"decide", "transfer", "--from", "FR", "--to", "DE", "--importer", "X GmbH", "--category", "events"},
			map[string]any{"restricted": false, "decision": "allowed", "mechanism": "none"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errs := cli(t, c.args...)
			if code != 0 {
				t.Fatalf("expect exit 0, got %d: %s", code, errs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("expect JSON, got %q", out)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("expect %s=%v, got %v (all: %s)", k, v, got[k], out)
				}
			}
		})
	}
}

func TestDecideErrors(t *testing.T) {
	cases := map[string]struct {
		args []string
		code int
		msg  string
	}{
		"missing flags":    {[]string{"decide", "transfer", "--from", "DE"}, exitUsage, "missing --to, --category"},
		"unknown country":  {[]string{"decide", "transfer", "--from", "DE", "--to", "UK", "--category", "events"}, exitFail, "UK"},
		"unknown category": {[]string{"decide", "residency", "--subject", "FR", "--region", "us-east-1", "--category", "secrets"}, exitFail, "secrets"},
		"no subject":       {[]string{"decide", "residency", "--region", "us-east-1", "--category", "profile"}, exitUsage, "missing --subject"},
		"subject twice":    {[]string{"decide", "residency", "--subject", "FR", "--unknown-subject", "--region", "us-east-1", "--category", "profile"}, exitUsage, "--unknown-subject"},
		"residency --now":  {[]string{"decide", "residency", "--subject", "FR", "--region", "us-east-1", "--category", "profile", "--now", "notatime"}, exitUsage, "--now"},
		"bad --now":        {[]string{"decide", "transfer", "--from", "DE", "--to", "US", "--category", "events", "--now", "tomorrow"}, exitUsage, "--now"},
		"unknown command":  {[]string{"frobnicate"}, exitUsage, "unknown command"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, errs := cli(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.msg) {
				t.Fatalf("expect exit %d with %q, got %d: %s", c.code, c.msg, code, errs)
			}
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("version: \"1\"\nregions: [eu-centrl-1]\n"), 0o644)
	code, _, errs := cli(t, "policy", "validate", bad)
	if code != exitFail || !strings.HasPrefix(errs, bad+":") || !strings.Contains(errs, bad+":2: regions") {
		t.Fatalf("expect exit 1 with %s:2: regions first, got %d: %s", bad, code, errs)
	}
	code, out, errs := cli(t, "policy", "validate", "shared/policy/example.yaml", "--now", "2026-11-22T12:00:00Z")
	if code != 0 || !strings.Contains(out, "shared/policy/example.yaml: ok") || !strings.Contains(out, "; 0 warnings)") {
		t.Fatalf("expect the example to validate without warnings, got %d: %s %s", code, out, errs)
	}
	// Warnings print, one a line, and still exit 0: the SCC ends on
	// 2027-03-26, 60 days after this clock.
	code, out, errs = cli(t, "policy", "validate", "--now", "2027-01-25T00:00:00Z", "shared/policy/example.yaml")
	want := "shared/policy/example.yaml:38: warning: mechanisms[0]: scc-acme-inc-2024 expires in 60 days (last day 2027-03-25): renew it\n"
	if code != 0 || !strings.HasPrefix(out, want) || !strings.Contains(out, "; 1 warning)") {
		t.Fatalf("expect exit 0 with the warning %q, got %d: %s %s", want, code, out, errs)
	}
	if code, _, errs := cli(t, "policy", "validate", "--now", "tomorrow", "shared/policy/example.yaml"); code != exitUsage || !strings.Contains(errs, "RFC 3339") {
		t.Fatalf("expect a usage error for --now tomorrow, got %d: %s", code, errs)
	}
}

// runSamples replays the samples into a fresh store and returns its path.
func runSamples(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "r.db")
	code, out, errs := cli(t, "run", "--db", db, "--now", "2026-11-22T12:00:00Z")
	if code != 0 {
		t.Fatalf("expect run to succeed, got %d: %s", code, errs)
	}
	for _, want := range []string{"violation", "relocation", "deletion", "denied", "scc-acme-inc-2024", "Decision (EU) 2019/419", "VERIFIED", "Failures kept as dead letters: 1"} {
		if !strings.Contains(out, want) {
			t.Errorf("expect the run output to show %q", want)
		}
	}
	return db
}

func TestRunReportVerify(t *testing.T) {
	db := runSamples(t)

	code, out, errs := cli(t, "report", "--db", db, "--format", "json", "--kind", "transfer,denial")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, errs)
	}
	var rep struct {
		Ledger struct {
			Entries  int
			Verified bool
		}
		Entries []struct{ Kind, Mechanism string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("expect a JSON report, got %v", err)
	}
	if !rep.Ledger.Verified || len(rep.Entries) != 7 {
		t.Fatalf("expect a verified ledger and 7 transfer/denial entries, got %+v", rep)
	}

	code, out, _ = cli(t, "report", "--db", db, "--format", "csv", "--kind", "deletion")
	if code != 0 || !strings.HasPrefix(out, "seq,id,time,kind") || strings.Count(out, "\n") != 6 {
		t.Fatalf("expect a CSV header and 5 deletion rows (2 receipts, 3 regions' entry of the erasure request), got %d:\n%s", code, out)
	}
	if code, _, errs := cli(t, "report", "--db", db, "--format", "pdf"); code != exitUsage || !strings.Contains(errs, "pdf") {
		t.Fatalf("expect a usage error naming pdf, got %d %s", code, errs)
	}

	code, out, _ = cli(t, "sweep", "--db", db, "--now", "2026-11-22T12:00:00Z")
	var sw map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &sw) != nil || sw["held"] != 1.0 || sw["deleted"] != 0.0 {
		t.Fatalf("expect a second sweep to delete nothing and report the held record, got %d %s", code, out)
	}

	if code, out, _ := cli(t, "verify", "--db", db); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("expect an intact ledger, got %d %s", code, out)
	}
	// Tamper with one entry behind the store's back.
	sdb, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`UPDATE ledger SET importer='Somebody Else' WHERE region='eu-central-1' AND seq=2`); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	code, out, _ = cli(t, "verify", "--db", db)
	if code != exitBroken || !strings.Contains(out, "eu-central-1: BROKEN at seq 2") {
		t.Fatalf("expect exit 3 naming eu-central-1 seq 2, got %d %s", code, out)
	}
	// The report is still written, marked BROKEN, and exits 3 too.
	code, out, errs = cli(t, "report", "--db", db)
	if code != exitBroken || !strings.Contains(out, "Ledger: 16 entries, BROKEN") || !strings.Contains(errs, "ledger does not verify") {
		t.Fatalf("expect the report marked BROKEN with exit 3, got %d %.300s %s", code, out, errs)
	}
}

// TestVerifyTampering tampers with a replayed ledger behind the store's
// back, each way an auditor fears, and expects verify to exit 3 naming the
// chain and the first bad seq. The samples' run signed digests of both
// chains (eu-central-1 to seq 7, us-east-1 to seq 5).
func TestVerifyTampering(t *testing.T) {
	cases := map[string]struct {
		sql  []string
		want string
		// refuse: the tampering touches the signed head, so the next
		// digest is refused (the writer reads only the signed head and
		// what follows it; verify reads everything).
		refuse bool
	}{
		"edited entry":  {sql: []string{`UPDATE ledger SET importer='Somebody Else' WHERE region='eu-central-1' AND seq=3`}, want: "eu-central-1: BROKEN at seq 3: hash mismatch"},
		"deleted entry": {sql: []string{`DELETE FROM ledger WHERE region='eu-central-1' AND seq=4`}, want: "eu-central-1: BROKEN at seq 4: expected seq 4, found seq 5"},
		"reordered entries": {sql: []string{
			`UPDATE ledger SET seq=-1 WHERE region='us-east-1' AND seq=2`,
			`UPDATE ledger SET seq=2 WHERE region='us-east-1' AND seq=3`,
			`UPDATE ledger SET seq=3 WHERE region='us-east-1' AND seq=-1`}, want: "us-east-1: BROKEN at seq 2"},
		"truncated tail": {sql: []string{`DELETE FROM ledger WHERE region='eu-central-1' AND seq>=6`}, refuse: true,
			want: "eu-central-1: BROKEN at seq 6: the chain ends at seq 5 but the digest of 2026-11-22T12:00:00Z (seq 1-8) signed it up to seq 8"},
		"whole chain dropped": {sql: []string{`DELETE FROM ledger WHERE region='us-east-1'`}, want: "us-east-1: BROKEN at seq 1", refuse: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			db := runSamples(t)
			sdb, err := sql.Open("sqlite", db)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range c.sql {
				if _, err := sdb.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			sdb.Close()
			code, out, errs := cli(t, "verify", "--db", db)
			if code != exitBroken || !strings.Contains(out, c.want) {
				t.Fatalf("expect exit 3 with %q, got %d\n%s%s", c.want, code, out, errs)
			}
			if !c.refuse {
				return
			}
			if code, _, errs := cli(t, "sweep", "--db", db, "--now", "2026-11-22T13:00:00Z"); code == 0 || !strings.Contains(errs, "refusing to sign") {
				t.Fatalf("expect the sweep to refuse to sign a digest, got %d %s", code, errs)
			}
		})
	}
}

func TestVerifyDigests(t *testing.T) {
	db := runSamples(t)
	code, out, _ := cli(t, "verify", "--db", db, "--json")
	var st struct {
		Verified       bool `json:"verified"`
		DigestsChecked bool `json:"digests_checked"`
		Chains         []struct {
			Region    string `json:"region"`
			Digests   int    `json:"digests"`
			SignedSeq int64  `json:"signed_seq"`
		} `json:"chains"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || !st.Verified || !st.DigestsChecked || len(st.Chains) != 3 ||
		st.Chains[0].Digests != 1 || st.Chains[0].SignedSeq != 8 || st.Chains[1].SignedSeq != 2 || st.Chains[2].SignedSeq != 6 {
		t.Fatalf("expect the three chains signed by one digest each, got %d %s", code, out)
	}
	digests := db + ".digests"
	// A removed newest digest cannot be told from one never written (as
	// with CloudTrail); a removed older one can.
	ev := filepath.Join(t.TempDir(), "transfer.json")
	b, _ := os.ReadFile("events/samples/eventbridge-transfer-requested-scc.json")
	os.WriteFile(ev, bytes.Replace(b, []byte("tr-5001"), []byte("tr-9001"), 1), 0o644)
	if code, _, errs := cli(t, "invoke", "router", ev, "--db", db, "--region", "eu-central-1"); code != 0 {
		t.Fatalf("invoke: %d %s", code, errs)
	}
	// The sweep signs a second eu-central-1 digest, over the new transfer.
	if code, _, errs := cli(t, "sweep", "--db", db, "--now", "2026-11-22T13:00:00Z"); code != 0 {
		t.Fatalf("sweep: %d %s", code, errs)
	}
	files, _ := filepath.Glob(filepath.Join(digests, "*", "*.json"))
	if len(files) < 3 {
		t.Fatalf("expect a second digest after the sweep's deletions, got %v", files)
	}
	first, _ := filepath.Glob(filepath.Join(digests, "eu-central-1", "20261122T12*.json"))
	if len(first) != 1 {
		t.Fatalf("digests %v", files)
	}
	if err := os.Remove(first[0]); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "verify", "--db", db)
	if code != exitBroken || !strings.Contains(out, "eu-central-1: BROKEN at seq 1: digests:") || !strings.Contains(out, "older digests were removed") {
		t.Fatalf("expect exit 3 for a removed digest, got %d %s", code, out)
	}
	// An auditor with only the public key verifies; a digest signed by
	// another key does not pass.
	os.Remove(filepath.Join(filepath.Dir(db), "residency-digest.key"))
	code, out, _ = cli(t, "verify", "--db", db)
	if !strings.Contains(out, "us-east-1: ok") {
		t.Fatalf("expect us-east-1 to verify with the public key alone, got %d %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(db), "residency-digest.key")); err == nil {
		t.Fatal("verify made a signing key")
	}
	os.Remove(filepath.Join(filepath.Dir(db), "residency-digest.key.pub"))
	code, out, _ = cli(t, "verify", "--db", db)
	if code != exitBroken || !strings.Contains(out, "not a trusted digest key") {
		t.Fatalf("expect untrusted digests without the key, got %d %s", code, out)
	}
}

func TestInvoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "i.db")
	code, out, errs := cli(t, "invoke", "router", "events/samples/eventbridge-transfer-requested-denied.json", "--db", db, "--region", "eu-central-1")
	if code != 0 || strings.TrimSpace(out) != "{}" {
		t.Fatalf("expect exit 0 and {}, got %d %q %s", code, out, errs)
	}
	code, out, _ = cli(t, "invoke", "tagger", "events/samples/dynamodb-insert-malformed.json", "--db", db, "--region", "eu-west-1")
	if code != 0 || !strings.Contains(out, "batchItemFailures") || strings.Count(out, "itemIdentifier") != 1 {
		t.Fatalf("expect one batch item failure, got %d %s", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"detail-type":"Transfer Requested","source":"x","detail":{"transfer_id":"t"}}`), 0o644)
	code, _, errs = cli(t, "invoke", "router", bad, "--db", db)
	if code != exitFail || !strings.Contains(errs, `missing required field "source"`) {
		t.Fatalf("expect exit 1 naming the missing field, got %d %s", code, errs)
	}
	if code, _, errs := cli(t, "invoke", "mailer", bad, "--db", db); code != exitFail || !strings.Contains(errs, "unknown function") {
		t.Fatalf("expect an unknown function error, got %d %s", code, errs)
	}
	// A stream payload is applied to the local table first, as on AWS the
	// records are in the table: the misplaced record is tagged, then
	// relocated home.
	code, out, errs = cli(t, "invoke", "tagger", "events/samples/dynamodb-insert-misplaced.json", "--db", db, "--region", "us-east-1")
	if code != 0 || strings.Contains(out, "itemIdentifier") {
		t.Fatalf("expect the misplaced record tagged, got %d %s %s", code, out, errs)
	}
	code, out, errs = cli(t, "report", "--db", db, "--format", "csv", "--kind", "violation,relocation")
	if code != 0 || !strings.Contains(out, ",violation,us-east-1,users,") || !strings.Contains(out, ",relocation,us-east-1,users,") ||
		!strings.Contains(out, ",relocated,") {
		t.Fatalf("expect a violation and its relocation in the report, got %d:\n%s%s", code, out, errs)
	}
}

func TestFailures(t *testing.T) {
	db := runSamples(t)
	code, out, errs := cli(t, "failures", "--db", db)
	if code != 0 {
		t.Fatalf("expect exit 0, got %d: %s", code, errs)
	}
	for _, want := range []string{"TIME", "REASON", "tagger", "eu-west-1", "stream record", `subject id attribute "user_id" missing or empty`, "1 dead letter\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("expect the list to show %q, got:\n%s", want, out)
		}
	}
	code, out, errs = cli(t, "failures", "--db", db, "--format", "json", "--function", "tagger", "--region", "eu-west-1")
	if code != 0 {
		t.Fatalf("expect exit 0, got %d: %s", code, errs)
	}
	var letters []map[string]any
	if err := json.Unmarshal([]byte(out), &letters); err != nil {
		t.Fatalf("expect JSON, got %q", out)
	}
	if len(letters) != 1 || letters[0]["function"] != "tagger" || !strings.Contains(letters[0]["reason"].(string), "user_id") {
		t.Fatalf("expect the poison record's dead letter, got %s", out)
	}
	if code, out, _ = cli(t, "failures", "--db", db, "--format", "json", "--function", "router"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("expect no router dead letters, got %d: %s", code, out)
	}
	for name, c := range map[string][]string{
		"bad format": {"failures", "--db", db, "--format", "csv"},
		"argument":   {"failures", "--db", db, "retry-all"},
	} {
		if code, _, _ := cli(t, c...); code != exitUsage {
			t.Errorf("%s: expect exit %d, got %d", name, exitUsage, code)
		}
	}
	if code, _, errs := cli(t, "failures", "--db", filepath.Join(t.TempDir(), "none.db")); code != exitFail || !strings.Contains(errs, "no embedded store") {
		t.Errorf("expect a missing store to fail, got %d: %s", code, errs)
	}
}

func TestHelp(t *testing.T) {
	// Each command's --help (and help CMD) prints its flags to stdout, exit 0.
	for _, c := range [][]string{
		{"run"}, {"invoke"}, {"report"}, {"verify"}, {"sweep"}, {"prove"}, {"certificate"}, {"check-proof"},
		{"digest-key"}, {"backfill"}, {"serve"}, {"failures"}, {"version"},
		{"decide", "residency"}, {"decide", "transfer"}, {"policy", "validate"},
	} {
		name := strings.Join(c, " ")
		for _, args := range [][]string{append(append([]string{}, c...), "--help"), append([]string{"help"}, c...)} {
			code, out, errs := cli(t, args...)
			if code != exitOK || !strings.Contains(out, "Usage: residency "+name+" [flags]") || !strings.Contains(out, "-db string") || !strings.Contains(out, "-now value") {
				t.Errorf("%q: expect exit 0 and the flags on stdout, got %d: %s %s", args, code, out, errs)
			}
		}
	}
	if code, out, _ := cli(t, "failures", "--help"); !strings.Contains(out, "-function string") {
		t.Errorf("expect failures --help to list --function, got %d: %s", code, out)
	}
	if code, out, errs := cli(t); code != exitUsage || out != "" || !strings.Contains(errs, "residency failures") {
		t.Errorf("expect a bare residency to print the commands on stderr and exit 2, got %d: %q %q", code, out, errs)
	}
	if code, out, _ := cli(t, "--help"); code != exitOK || !strings.Contains(out, "residency decide transfer") {
		t.Errorf("expect --help to print the commands and exit 0, got %d: %s", code, out)
	}
	if code, _, errs := cli(t, "help", "nosuch"); code != exitUsage || !strings.Contains(errs, `unknown command "nosuch"`) {
		t.Errorf("expect help of an unknown command to be a usage error, got %d: %s", code, errs)
	}
	for _, args := range [][]string{{"decide", "--help"}, {"policy", "--help"}} {
		if code, out, _ := cli(t, args...); code != exitOK || !strings.Contains(out, "Usage: residency "+args[0]) {
			t.Errorf("%q: expect exit 0 and the usage, got %d: %s", args, code, out)
		}
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"version", "--policy", "shared/policy/example.yaml"}} {
		code, out, errs := cli(t, args...)
		if code != exitOK || !strings.HasPrefix(out, "residency ") || !strings.Contains(out, "(revision ") || !strings.Contains(out, "policy version 2026-11-01\n") {
			t.Errorf("%q: expect exit 0 with the module, revision and policy versions, got %d: %s %s", args, code, out, errs)
		}
	}
	if code, _, _ := cli(t, "version", "extra"); code != exitUsage {
		t.Errorf("expect an argument to version to be a usage error, got %d", code)
	}
}

func TestGlobalFlagsBeforeCommand(t *testing.T) {
	// --now before the command reaches it: the SCC has expired by April 2027.
	code, out, errs := cli(t, "--now", "2027-04-01T00:00:00Z", "--policy=shared/policy/example.yaml", "decide", "transfer", "--from", "DE", "--to", "US", "--importer", "Acme Inc", "--category", "events")
	if code != exitOK || !strings.Contains(out, `"decision": "denied"`) {
		t.Fatalf("expect the expired SCC's denial, got %d: %s %s", code, out, errs)
	}
	if code, _, errs := cli(t, "--now", "notatime", "decide", "residency", "--subject", "FR", "--region", "us-east-1", "--category", "profile"); code != exitUsage || !strings.Contains(errs, "--now") {
		t.Errorf("expect a bad --now before the command to be a usage error, got %d: %s", code, errs)
	}
	db := runSamples(t)
	if code, out, errs := cli(t, "--db", db, "failures"); code != exitOK || !strings.Contains(out, "1 dead letter") {
		t.Errorf("expect --db before the command to be used, got %d: %s %s", code, out, errs)
	}
}

func TestSweepRegion(t *testing.T) {
	db := runSamples(t)
	code, out, errs := cli(t, "sweep", "--db", db, "--region", "eu-west-1", "--now", "2026-11-22T13:00:00Z")
	if code != exitOK {
		t.Fatalf("expect exit 0, got %d: %s", code, errs)
	}
	var got struct {
		Regions []struct {
			Region string `json:"region"`
		} `json:"regions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Regions) != 1 || got.Regions[0].Region != "eu-west-1" {
		t.Fatalf("expect one sweep, of eu-west-1, got %s (%v)", out, err)
	}
	if code, _, errs := cli(t, "sweep", "--db", db, "--region", "mars-1"); code != exitUsage || !strings.Contains(errs, `--region "mars-1"`) {
		t.Errorf("expect an unknown --region to be a usage error naming it, got %d: %s", code, errs)
	}
}

func TestFailuresRetry(t *testing.T) {
	db := runSamples(t)
	// A second poison record (u-1099, no user_id either) that stays broken.
	sample, err := os.ReadFile("events/samples/dynamodb-insert-malformed.json")
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.json")
	b := strings.ReplaceAll(strings.ReplaceAll(string(sample), "u-1006", "u-1099"), "111100000000030000050281", "111100000000030000050999")
	if err := os.WriteFile(other, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli(t, "invoke", "tagger", other, "--region", "eu-west-1", "--db", db, "--now", "2026-11-22T12:00:00Z"); code != exitOK {
		t.Fatalf("expect the invoke to succeed (its poison record dead-lettered), got %d: %s", code, errs)
	}
	letters := func() []map[string]any {
		t.Helper()
		code, out, errs := cli(t, "failures", "--db", db, "--format", "json")
		var l []map[string]any
		if code != exitOK || json.Unmarshal([]byte(out), &l) != nil {
			t.Fatalf("expect the dead letters as JSON, got %d: %s %s", code, out, errs)
		}
		return l
	}
	if l := letters(); len(l) != 2 {
		t.Fatalf("expect 2 dead letters, got %v", l)
	}

	// Nothing fixed: both fail again and stay, with the reason.
	code, out, errs := cli(t, "failures", "retry", "--db", db, "--now", "2026-11-22T13:00:00Z")
	if code != exitFail || !strings.Contains(out, "0 redelivered, 2 failed again") || !strings.Contains(errs, "2 dead letters failed again") {
		t.Fatalf("expect both to fail again (exit 1), got %d: %s %s", code, out, errs)
	}
	l := letters()
	if len(l) != 2 || !strings.Contains(l[0]["reason"].(string), "user_id") || l[0]["at"] != "2026-11-22T13:00:00Z" {
		t.Fatalf("expect both letters kept with their reason, dated by the retry, got %v", l)
	}

	// Fix the samples' poison record in the table (the platform adds the
	// missing user_id), without a stream record: only the retry tags it.
	ctx := context.Background()
	key := record.Key{"pk": "USER#u-1006", "sk": "PROFILE"}
	withStore(t, db, func(st *sqlitestore.Store) error {
		item, err := st.GetItem(ctx, "eu-west-1", "users", key)
		if err != nil {
			return err
		}
		if _, tagged := item["residency"]; tagged {
			t.Fatalf("expect the poison record untagged, got %v", item)
		}
		item["user_id"] = "u-1006"
		return st.ReplayWrite(ctx, "eu-west-1", "users", key, item)
	})

	code, out, errs = cli(t, "failures", "retry", "--db", db, "--region", "eu-west-1", "--now", "2026-11-22T14:00:00Z")
	if code != exitFail || !strings.Contains(out, "1 redelivered, 1 failed again") || !strings.Contains(out, "redelivered\n") {
		t.Fatalf("expect the fixed record redelivered and the other failing again, got %d: %s %s", code, out, errs)
	}
	l = letters()
	if len(l) != 1 || l[0]["item"] != "stream record 111100000000030000050999" || !strings.Contains(l[0]["reason"].(string), "user_id") {
		t.Fatalf("expect only u-1099's letter left, with its reason, got %v", l)
	}
	withStore(t, db, func(st *sqlitestore.Store) error {
		item, err := st.GetItem(ctx, "eu-west-1", "users", key)
		if err != nil {
			return err
		}
		if _, tagged := item["residency"]; !tagged {
			t.Fatalf("expect the fixed record tagged by the retry, got %v", item)
		}
		return nil
	})

	// A filter that matches nothing redelivers nothing.
	if code, out, _ := cli(t, "failures", "retry", "--db", db, "--function", "router"); code != exitOK || !strings.Contains(out, "No dead letters.") {
		t.Errorf("expect no router letters to retry, got %d: %s", code, out)
	}
	if code, _, _ := cli(t, "failures", "retry", "--db", db, "extra"); code != exitUsage {
		t.Errorf("expect an argument to be a usage error, got %d", code)
	}
	if code, _, errs := cli(t, "failures", "retry", "--db", filepath.Join(t.TempDir(), "none.db")); code != exitFail || !strings.Contains(errs, "no embedded store") {
		t.Errorf("expect a missing store to fail, got %d: %s", code, errs)
	}
}

// TestRunSummary checks the wording of run's summary on the samples: its
// counts explained, one clock (the events') without --now, plurals, and
// the transfer register's FIRST SEEN.
func TestRunSummary(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	code, out, errs := cli(t, "run", "--db", db)
	if code != 0 {
		t.Fatalf("expect run to succeed, got %d: %s", code, errs)
	}
	for _, want := range []string{
		"Replaying 24 event files (1 S3 object from fixtures) through the stacks of eu-central-1, eu-west-1, us-east-1\n",
		"Clock: each event at its own time; the sweep, digests and report at 2026-11-22T08:01:00Z (no --now: the last event's time)\n",
		"Retention sweep at 2026-11-22T08:01:00Z: 2 due, 1 deleted, 1 held, 1 event emitted (3 catalog entries read)\n",
		"Stream records delivered to the tagger: 22 = 9 in the event files + 13 from the stack's own writes:\n" +
			"  8 tag echoes (the tagger's own tag writes, which it sees and leaves),\n" +
			"  2 copies (records relocated or routed to their home region),\n" +
			"  3 deletions (relocated originals, expired and erased records)\n",
		"Events published: Erasure Completed: 3, Record Deleted: 2,",
		"generated 2026-11-22T08:01:00Z",
		"FIRST SEEN",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("expect the summary to say %q, got:\n%.3000s", want, out)
		}
	}
	// The wall clock never mixes in (today is not one of the samples' days).
	if today := time.Now().UTC().Format("2006-01-02"); !strings.HasPrefix(today, "2026-11-2") && strings.Contains(out, today) {
		t.Errorf("expect no wall-clock time (%s) in the run's output:\n%s", today, out)
	}

	// One file, with --now: singular, no empty "Events published:" line,
	// and the clock named.
	db = filepath.Join(t.TempDir(), "one.db")
	code, out, errs = cli(t, "run", "--db", db, "--now", "2026-11-22T12:00:00Z", "events/samples/eventbridge-legal-hold-set.json")
	if code != 0 {
		t.Fatalf("expect run to succeed, got %d: %s", code, errs)
	}
	for _, want := range []string{"Replaying 1 event file (0 S3 objects from fixtures)", "at 2026-11-22T12:00:00Z (--now 2026-11-22T12:00:00Z)",
		"Stream records delivered to the tagger: 0 = 0 in the event files + 0 from the stack's own writes\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("expect %q, got:\n%.1500s", want, out)
		}
	}
	if strings.Contains(out, "Events published: \n") {
		t.Errorf("expect no empty Events published line, got:\n%.1500s", out)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[string]string{
		count(1, "event file"): "1 event file", count(2, "event file"): "2 event files", count(0, "S3 object"): "0 S3 objects",
		count(2, "copy"): "2 copies", count(1, "copy"): "1 copy", count(3, "catalog entry"): "3 catalog entries",
		count(2, "tag echo"): "2 tag echoes", count(2, "key"): "2 keys",
	} {
		if n != want {
			t.Errorf("expect %q, got %q", want, n)
		}
	}
}
