package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// backfillRunner returns the runner script (testdata/runbackfill.mjs),
// copied beside the Amazon States Language interpreter the backfill's page
// loops run in: npm aws-local-stepfunctions, which scripts/asl-interpreter.sh
// installs (make test runs it) into $RESIDENCY_ASL, default .residency/asl
// at the repository's root. The test reaches no registry itself: without
// the interpreter it skips, saying so, except under CI.
func backfillRunner(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("RESIDENCY_ASL")
	if dir == "" {
		dir = filepath.Join("..", ".residency", "asl")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "aws-local-stepfunctions", "package.json")); err != nil {
		msg := "no ASL interpreter in " + dir + ": run scripts/asl-interpreter.sh (make test does)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "runbackfill.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	// Node resolves the interpreter from the script's folder.
	path := filepath.Join(dir, "runbackfill.mjs")
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// backfillRun is what the runner saw of one run.
type backfillRun struct {
	Output map[string]any `json:"output"`
	Error  *struct {
		Name, Message string
	} `json:"error"`
	Cursors    []string `json:"cursors"`
	Executions []int    `json:"executions"`
	Coverage   int      `json:"coverage"`
}

// runBackfill runs first (a page loop, or the whole definition top when
// first is nil) with input, against a tagger whose source has pages pages.
func runBackfill(t *testing.T, top, first map[string]any, input map[string]any, pages int) backfillRun {
	t.Helper()
	req, err := json.Marshal(map[string]any{"top": top, "first": first, "input": input, "pages": pages})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", backfillRunner(t))
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run the backfill definition: %v\n%s", err, stderr.String())
	}
	var run backfillRun
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("the runner's output: %v: %s", err, out)
	}
	return run
}

// processor is the item processor of the named Map state, as a definition.
func processor(t *testing.T, states map[string]any, name string) map[string]any {
	t.Helper()
	p := state(t, states, name)["ItemProcessor"].(map[string]any)
	return map[string]any{"StartAt": p["StartAt"], "States": p["States"]}
}

// wantPages checks that the pages were read once each, in order, and the
// totals the loop added up.
func wantPages(t *testing.T, run backfillRun, pages, limit int) {
	t.Helper()
	if run.Error != nil {
		t.Fatalf("expect the run to succeed, got %+v", *run.Error)
	}
	if len(run.Cursors) != pages {
		t.Fatalf("expect %d pages read, got %d", pages, len(run.Cursors))
	}
	for i, c := range run.Cursors {
		want := ""
		if i > 0 {
			want = fmt.Sprintf("c%d", i)
		}
		if c != want {
			t.Fatalf("expect page %d read from cursor %q, got %q", i, want, c)
		}
	}
	violations, failed := 0, 0
	for n := range pages {
		violations += n % 2
		if n%500 == 7 {
			failed++
		}
	}
	want := map[string]any{"items": float64(pages * limit), "tagged": float64(pages), "unchanged": float64(pages * (limit - 1)),
		"violations": float64(violations), "failed": float64(failed)}
	if d := cmp.Diff(want, run.Output["totals"]); d != "" {
		t.Errorf("expect the totals of every page (-want +got):\n%s", d)
	}
	if run.Output["cursor"] != "" {
		t.Errorf("expect the loop to end with no cursor, got %v", run.Output["cursor"])
	}
}

func TestBackfillPageLoopsContinueInNestedExecutions(t *testing.T) {
	const region = "us-east-1"
	doc := asl(t, region)
	states := doc["States"].(map[string]any)
	zero := zeroTotals()

	t.Run("a bucket listing twice the page budget and more", func(t *testing.T) {
		// GIVEN the list mode's iteration over a bucket of 3,100 pages
		pages := 2*pagesPerExecution + 100
		run := runBackfill(t, doc, processor(t, states, "ListBucket"), map[string]any{
			"source": "acme-exports-us", "limit": 1000, "wait_seconds": 0, "cursor": "", "pages": 0, "totals": zero}, pages)
		// THEN every page is read once, in order, with every figure added
		wantPages(t, run, pages, 1000)
		// AND no execution runs more than the budget: the iteration hands
		// its cursor on twice, and each nested execution reports back
		if d := cmp.Diff([]int{pagesPerExecution, pagesPerExecution, 100}, run.Executions); d != "" {
			t.Errorf("expect the pages split across executions (-want +got):\n%s", d)
		}
	})

	t.Run("a scan segment with a wait between pages, one page over", func(t *testing.T) {
		pages := pagesPerExecution + 1
		run := runBackfill(t, doc, processor(t, states, "ScanSegments"), map[string]any{
			"source": "users", "segment": 3, "segments": 8, "limit": 250, "wait_seconds": 1, "cursor": "", "pages": 0, "totals": zero}, pages)
		wantPages(t, run, pages, 250)
		if d := cmp.Diff([]int{pagesPerExecution, 1}, run.Executions); d != "" {
			t.Errorf("expect the last page in a nested execution (-want +got):\n%s", d)
		}
	})

	t.Run("exactly the budget", func(t *testing.T) {
		// A source of exactly the budget ends where it is: no nested
		// execution for nothing.
		run := runBackfill(t, doc, processor(t, states, "ExportFiles"), map[string]any{
			"source": "users", "bucket": "b", "key": "data/x.json.gz", "limit": 1000, "wait_seconds": 0, "cursor": "", "pages": 0, "totals": zero}, pagesPerExecution)
		wantPages(t, run, pagesPerExecution, 1000)
		if d := cmp.Diff([]int{pagesPerExecution}, run.Executions); d != "" {
			t.Errorf("expect one execution (-want +got):\n%s", d)
		}
	})

	t.Run("a continuation from the start, as a nested execution begins", func(t *testing.T) {
		// GIVEN the input a Continue task gives the machine, from page 42
		run := runBackfill(t, doc, nil, map[string]any{"continue": map[string]any{"loop": "Inventory", "state": map[string]any{
			"source": "acme-exports-us", "manifest": "inventory/acme-exports-us/all/x/manifest.json", "limit": 1000, "wait_seconds": 0,
			"cursor": "c42", "pages": 0, "totals": zero}}, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "arn:parent"}, 50)
		// THEN it runs the loop from there, and records no coverage (the
		// execution that started the backfill does, when all is done)
		if run.Error != nil || len(run.Cursors) != 8 || run.Cursors[0] != "c42" || run.Cursors[7] != "c49" || run.Output["cursor"] != "" {
			t.Fatalf("expect pages c42 to c49 read, got %+v", run)
		}
		if run.Coverage != 0 {
			t.Errorf("expect no coverage recorded by a continuation, got %d", run.Coverage)
		}
	})

	t.Run("an unknown continuation", func(t *testing.T) {
		run := runBackfill(t, doc, nil, map[string]any{"continue": map[string]any{"loop": "Nope", "state": map[string]any{}}}, 1)
		// (the interpreter reports a Fail state's Cause, not its Error)
		if run.Error == nil || !strings.Contains(run.Error.Message, "continue.loop must name one of its page loops") || len(run.Cursors) != 0 {
			t.Errorf("expect an unknown loop to fail saying so, reading nothing, got %+v %+v", run.Error, run)
		}
	})
}
