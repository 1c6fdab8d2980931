package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeAfterMakeRun does what a newcomer does on a fresh clone: make
// run, then the README's next commands as they are written there (read from
// README.md, so the test fails when the README drifts from the CLI), on the
// store make run left. make run's store is the commands' default --db, so
// those commands need no --db.
func TestReadmeAfterMakeRun(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^DB\s*\?=\s*(\S+)`).FindSubmatch(makefile)
	if m == nil {
		t.Fatal("Makefile: expect a DB ?= line")
	}
	db := string(m[1])
	if def := commonFlagSet().Lookup("db").DefValue; db != def {
		t.Fatalf("expect make run's store (DB ?= %s) to be the commands' default --db %s", db, def)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- after make run -->\n```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md: expect a ```sh block after <!-- after make run -->")
	}

	// A fresh clone: the samples, no residency.yaml, no store.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "events"), filepath.Join(dir, "events")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	// make run: ./bin/residency run --db $(DB), with NOW and ARGS unset.
	if code, out, errs := cli(t, "run", "--db", db); code != exitOK || !strings.Contains(out, "Failures kept as dead letters: 1") {
		t.Fatalf("make run: expect exit 0 and the poison record kept, got %d: %.500s %s", code, out, errs)
	}
	outputs := map[string]string{}
	lines := 0
	for _, line := range strings.Split(string(block[1]), "\n") {
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lines++
		args := words(line)
		if args[0] != "bin/residency" {
			t.Errorf("README: %q: expect a bin/residency command (the binary make run builds)", line)
			continue
		}
		code, out, errs := cli(t, args[1:]...)
		if code != exitOK {
			t.Errorf("README: %q: expect exit 0, got %d: %s %s", line, code, out, errs)
		}
		outputs[strings.Join(args[1:2], " ")] += out
	}
	if lines < 3 {
		t.Fatalf("README: expect the commands to run after make run, got %d lines", lines)
	}
	for _, want := range []string{"tagger", "eu-west-1", `cannot tag record: subject id attribute "user_id" missing or empty`, "1 dead letter"} {
		if !strings.Contains(outputs["failures"], want) {
			t.Errorf("expect residency failures to list the sample's poison record with its reason (%q), got:\n%s", want, outputs["failures"])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, db)); err != nil {
		t.Errorf("expect the store at %s: %v", db, err)
	}
}

// TestMakeRunJSON runs make run ARGS='--format json' as the README says
// and pipes its stdout into jq (or a JSON decoder where jq is missing):
// make echoes no command, and the summary goes to stderr. The store goes to
// a temporary folder (DB=).
func TestMakeRunJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bin/residency with make: not with -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	db := filepath.Join(t.TempDir(), "r.db")
	cmd := exec.Command("make", "run", "ARGS=--format json", "DB="+db)
	// As a user types it in a shell: not under the make of make test, whose
	// MAKEFLAGS and MAKELEVEL would print "Entering directory" lines.
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MFLAGS=", "MAKELEVEL=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("make run: %v: %s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "Stream records delivered to the tagger") {
		t.Errorf("expect the summary on stderr, got %.500s", stderr.String())
	}
	if _, err := exec.LookPath("jq"); err == nil {
		jq := exec.Command("jq", "-e", ".ledger.verified")
		jq.Stdin = bytes.NewReader(stdout.Bytes())
		if out, err := jq.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "true" {
			t.Fatalf("make run ARGS='--format json' | jq: expect a verified ledger, got %v: %.300s\nstdout: %.300s", err, out, stdout.String())
		}
		return
	}
	var rep struct {
		Ledger struct{ Verified bool }
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || !rep.Ledger.Verified {
		t.Fatalf("expect stdout to be the JSON report alone, got %v: %.300s", err, stdout.String())
	}
}
