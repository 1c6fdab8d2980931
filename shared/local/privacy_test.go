package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// identifiers are the personal identifiers of the samples and fixtures:
// every subject id, record key value and object key they hold, found by
// walking their JSON (attribute values of user_id, subject-id, pk and
// object keys), so that a new sample brings its identifiers along.
func identifiers(t *testing.T) []string {
	t.Helper()
	paths, _ := filepath.Glob("../../events/samples/*.json")
	fix, _ := filepath.Glob("../../events/fixtures/*.json")
	seen := map[string]bool{}
	var walk func(v any, parent string)
	walk = func(v any, parent string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				switch s := x.(type) {
				case string:
					if k == "user_id" || k == "subject_id" || k == "subject-id" || k == "pk" || (k == "key" && (parent == "object" || parent == "objects")) {
						seen[s] = true
					}
				case map[string]any:
					// DynamoDB JSON: {"pk": {"S": "USER#u-1001"}}
					if s, ok := s["S"].(string); ok && (k == "user_id" || k == "pk") {
						seen[s] = true
					}
				}
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, parent)
			}
		case string:
			// The detail or body of an event can be JSON in a string.
			var inner any
			if strings.HasPrefix(v, "{") && json.Unmarshal([]byte(v), &inner) == nil {
				walk(inner, parent)
			}
		}
	}
	for _, p := range append(paths, fix...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		walk(v, "")
	}
	var out []string
	for s := range seen {
		out = append(out, s)
		if i := strings.Index(s, "#"); i >= 0 { // USER#u-1001: the subject id alone too
			out = append(out, s[i+1:])
		}
		if u := url.QueryEscape(s); u != s {
			out = append(out, u) // as an S3 notification carries an object key
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Personal data never leaves in the clear: after every sample is replayed
// and a sweep has run, no subject id, record key or object key of the
// samples appears in the logs (at debug level), the events published on the
// bus, the handlers' responses, the ledger, the dead letters, or the report
// in any format. Only the tables and buckets that hold the data (and the
// catalog beside them, in their region) may name them.
func TestNoIdentifierLeavesInTheClear(t *testing.T) {
	ids := identifiers(t)
	for _, want := range []string{"u-1001", "USER#u-1002", "users/u-2002/export-2026-11.json"} {
		if !slices.Contains(ids, want) {
			t.Fatalf("expect the samples' identifiers to include %q, got %q", want, ids)
		}
	}
	st := sqlitetest.Open(t)
	outputs := map[string]*bytes.Buffer{"logs": {}, "events": {}, "responses": {}, "ledger": {}, "dead letters": {}}
	var at time.Time
	stack, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key, Now: func() time.Time { return at },
		Log: slog.New(slog.NewJSONHandler(outputs["logs"], &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnPublish: func(region, detailType string, detail []byte) {
			fmt.Fprintf(outputs["events"], "%s %s %s\n", region, detailType, detail)
		}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{stack: stack, store: st}
	loadFixtures(t, st)
	ctx := context.Background()
	for _, s := range samples(t) {
		at = s.at
		d, err := stack.Replay(ctx, s.data)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		json.NewEncoder(outputs["responses"]).Encode(d)
	}
	at = sweepAt
	res, err := stack.Sweep(ctx, sweepAt)
	if err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(outputs["responses"]).Encode(res)
	for _, x := range e.entries(t) {
		json.NewEncoder(outputs["ledger"]).Encode(x)
	}
	dead, err := st.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	json.NewEncoder(outputs["dead letters"]).Encode(dead)
	for _, format := range []string{"table", "json", "csv", "html"} {
		var b bytes.Buffer
		if _, err := report.Render(ctx, st, report.Query{}, format, &b, report.Options{Now: sweepAt, Holds: st, Refs: stack.Refs,
			Policy: stack.Policy, Catalog: st}); err != nil {
			t.Fatalf("report %s: %v", format, err)
		}
		outputs["report "+format] = &b
	}

	for name, b := range outputs {
		if name != "dead letters" && b.Len() == 0 {
			t.Errorf("expect some %s to search, got none", name)
		}
		for _, id := range ids {
			if i := bytes.Index(b.Bytes(), []byte(id)); i >= 0 {
				lo, hi := max(0, i-120), min(b.Len(), i+len(id)+60)
				t.Errorf("expect no %q in the %s, found it in ...%s...", id, name, b.Bytes()[lo:hi])
			}
		}
	}
	// The search can fail: the events do carry each violation's record,
	// sealed and by reference.
	if !strings.Contains(outputs["events"].String(), `"record_sealed":"`) || !strings.Contains(outputs["events"].String(), `"record_ref":"rec_`) {
		t.Errorf("expect the violations' records sealed and by reference on the bus, got %s", outputs["events"])
	}
}
