package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// TestBackfill: records that predate Residency (in the tables, with no
// stream record) are tagged by a backfill; a misplaced one is relocated, an
// expired one is swept with a receipt, a malformed one fails alone by its
// reference, and a second backfill writes nothing.
func TestBackfill(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	put := func(region, pk, user, country, created string) sqlitestore.ReplayedWrite {
		item := map[string]any{"pk": pk, "sk": "PROFILE", "country": country, "created_at": created}
		if user != "" {
			item["user_id"] = user
		}
		b, _ := json.Marshal(item)
		return sqlitestore.ReplayedWrite{Region: region, Table: "users", Key: record.Key{"pk": pk, "sk": "PROFILE"}, Item: b}
	}
	withStore(t, db, func(st *sqlitestore.Store) error {
		return st.ReplayWrites(context.Background(), []sqlitestore.ReplayedWrite{
			put("us-east-1", "USER#u-8001", "u-8001", "FR", "2026-10-01T00:00:00Z"), // an EEA subject in the US for years
			put("us-east-1", "USER#u-8002", "u-8002", "US", "2023-01-01T00:00:00Z"), // past its 25 months
			put("eu-central-1", "USER#u-8003", "u-8003", "DE", "2026-10-01T00:00:00Z"),
			put("eu-central-1", "USER#u-8004", "", "DE", "2026-10-01T00:00:00Z"), // no subject id
		})
	})

	type result struct {
		Region, Table                        string
		Items, Tagged, Unchanged, Violations int
		Failed                               []struct{ Record, Reason string }
	}
	backfill := func(progress string) map[string]result {
		t.Helper()
		code, out, errs := cli(t, "backfill", "--db", db, "--now", "2026-11-22T12:00:00Z", "--progress-every", "1")
		var rs []result
		if code != 0 || json.Unmarshal([]byte(out), &rs) != nil {
			t.Fatalf("expect the backfill's JSON, got %d %s %s", code, out, errs)
		}
		if !strings.Contains(errs, progress) {
			t.Errorf("expect %q, got %s", progress, errs)
		}
		m := map[string]result{}
		for _, r := range rs {
			m[r.Region] = r
		}
		return m
	}
	first := backfill("backfill us-east-1/users: 2 of 2 items (2 tagged, 0 unchanged, 1 violations, 1 relocated, 0 failed)")
	if r := first["us-east-1"]; r.Items != 2 || r.Tagged != 2 || r.Violations != 1 || len(r.Failed) != 0 {
		t.Errorf("expect us-east-1's two records tagged, one violation, got %+v", r)
	}
	if r := first["eu-central-1"]; r.Items != 2 || r.Tagged != 1 || len(r.Failed) != 1 ||
		!strings.HasPrefix(r.Failed[0].Record, "rec_") || !strings.Contains(r.Failed[0].Reason, `"user_id" missing`) {
		t.Errorf("expect one tagged and one failed by reference, got %+v", r)
	}
	// The misplaced record went home (its copy's tag echoes there).
	second := backfill("backfill eu-central-1/users done: 3 items read, 0 tagged, 2 unchanged, 0 violations, 0 relocated, 1 failed in 1 page")
	for region, r := range second {
		if r.Tagged != 0 || r.Violations != 0 {
			t.Errorf("%s: expect a second backfill to write nothing, got %+v", region, r)
		}
	}
	code, out, errs := cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "csv", "--kind", "violation,relocation")
	if code != 0 || !strings.Contains(out, ",violation,us-east-1,users,") || !strings.Contains(out, ",relocated,") {
		t.Fatalf("expect the misplaced record's violation and relocation, got %d %s %s", code, out, errs)
	}
	// The report says what the backfill covered, in every format.
	var rep struct {
		Summary struct {
			Coverage []struct {
				Region, Source, Mode, Note string
				SourceKind                 string `json:"source_kind"`
				Backfilled                 bool
				CompletedAt                string `json:"completed_at"`
			} `json:"backfill_coverage"`
		}
	}
	code, out, errs = cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "json")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("expect the JSON report, got %d %s", code, errs)
	}
	covered := map[string]string{}
	for _, c := range rep.Summary.Coverage {
		switch {
		case c.Source == "users" && (!c.Backfilled || c.Mode != "scan" || c.CompletedAt != "2026-11-22T12:00:00Z"):
			t.Errorf("expect users backfilled by a scan at the clock in %s, got %+v", c.Region, c)
		case strings.HasPrefix(c.Source, "acme-exports") && (c.Backfilled || c.SourceKind != "bucket" || !strings.HasPrefix(c.Note, "never: retention and erasure cover only")):
			t.Errorf("expect the bucket never backfilled in %s, got %+v", c.Region, c)
		}
		covered[c.Region+"/"+c.Source] = c.Mode
	}
	if len(covered) != 6 {
		t.Errorf("expect every source of every region, got %v", covered)
	}
	code, out, _ = cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "table")
	if code != 0 || !strings.Contains(out, "Backfill coverage") || !regexp.MustCompile(`us-east-1\s+users\s+table\s+2026-11-22T12:00:00Z\s+scan`).MatchString(out) ||
		!regexp.MustCompile(`us-east-1\s+acme-exports-us\s+bucket\s+never: retention`).MatchString(out) {
		t.Errorf("expect the coverage in the table report, got %s", out)
	}
	code, out, _ = cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "html")
	if code != 0 || !strings.Contains(out, "<h2>Backfill coverage</h2>") || !strings.Contains(out, "complete</span>") || !strings.Contains(out, "never</span>") {
		t.Errorf("expect the coverage in the HTML report")
	}
	code, out, errs = cli(t, "sweep", "--db", db, "--now", "2026-11-22T12:00:00Z")
	if code != 0 || !strings.Contains(out, `"deleted": 1`) {
		t.Fatalf("expect the expired record swept, got %d %s %s", code, out, errs)
	}
}

// writeExport writes a DynamoDB table export as AWS lays it out:
// AWSDynamoDB/<id>/manifest-summary.json, manifest-files.json and
// data/*.json.gz, one {"Item": ...} in DynamoDB JSON a line.
func writeExport(t *testing.T, tableARN string, files [][]string, declared int) string {
	t.Helper()
	root := t.TempDir()
	id := "01764000000000-1a2b3c4d"
	dir := filepath.Join(root, "AWSDynamoDB", id)
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	var manifest strings.Builder
	for i, lines := range files {
		key := fmt.Sprintf("AWSDynamoDB/%s/data/file-%d.json.gz", id, i)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		for _, l := range lines {
			zw.Write([]byte(l + "\n"))
		}
		zw.Close()
		os.WriteFile(filepath.Join(root, filepath.FromSlash(key)), b.Bytes(), 0o644)
		fmt.Fprintf(&manifest, `{"itemCount":%d,"md5Checksum":"x","etag":"y","dataFileS3Key":"%s"}`+"\n", len(lines), key)
	}
	os.WriteFile(filepath.Join(dir, "manifest-files.json"), []byte(manifest.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest-summary.json"), []byte(fmt.Sprintf(`{"version":"2020-06-30","exportArn":"%s/export/%s",`+
		`"tableArn":"%s","itemCount":%d,"outputFormat":"DYNAMODB_JSON","manifestFilesS3Key":"AWSDynamoDB/%s/manifest-files.json"}`,
		tableARN, id, tableARN, declared, id)), 0o644)
	return root
}

func TestBackfillFromAnExport(t *testing.T) {
	item := func(pk, user, country string) string {
		return fmt.Sprintf(`{"Item":{"pk":{"S":"%s"},"sk":{"S":"PROFILE"},"user_id":{"S":"%s"},"country":{"S":"%s"},"created_at":{"S":"2026-10-01T00:00:00Z"},"score":{"N":"7"}}}`,
			pk, user, country)
	}
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/users"
	root := writeExport(t, arn, [][]string{{item("USER#u-9001", "u-9001", "IT"), item("USER#u-9002", "u-9002", "US")}, {item("USER#u-9003", "u-9003", "US")}}, 3)
	db := filepath.Join(t.TempDir(), "e.db")
	code, out, errs := cli(t, "backfill", "--db", db, "--now", "2026-11-22T12:00:00Z", root)
	if code != 0 || !strings.Contains(errs, "loading export") || !strings.Contains(errs, ": 3 items of users in us-east-1 from 2 data files") {
		t.Fatalf("expect the export loaded, got %d %s %s", code, out, errs)
	}
	var rs []struct {
		Region, Table             string
		Items, Tagged, Violations int
	}
	if json.Unmarshal([]byte(out), &rs) != nil || len(rs) != 1 || rs[0].Region != "us-east-1" || rs[0].Items != 3 || rs[0].Tagged != 3 || rs[0].Violations != 1 {
		t.Fatalf("expect the export's table backfilled: 3 tagged, 1 violation (the Italian subject), got %s", out)
	}
	// Loading is not a write the stream saw: nothing else was delivered.
	code, out, _ = cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "csv", "--kind", "relocation")
	if code != 0 || strings.Count(out, ",relocated,") != 1 {
		t.Fatalf("expect the Italian subject's record relocated once, got %d %s", code, out)
	}

	for name, c := range map[string]struct {
		root, want string
	}{
		"count mismatch":   {writeExport(t, arn, [][]string{{item("USER#a", "a", "US")}}, 2), "1 items in the data files, the manifest says 2"},
		"not an item line": {writeExport(t, arn, [][]string{{`{"Keys":{}}`}}, 1), `file-0.json.gz:1: not an {"Item": ...} line`},
		"unwatched table":  {writeExport(t, "arn:aws:dynamodb:us-east-1:123456789012:table/invoices", nil, 0), `table "invoices" is not a watched table`},
		"no export":        {t.TempDir(), "no DynamoDB export here"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errs := cli(t, "backfill", "--db", filepath.Join(t.TempDir(), "x.db"), c.root)
			if code != exitFail || !strings.Contains(errs, c.want) {
				t.Fatalf("expect exit 1 with %q, got %d %s", c.want, code, errs)
			}
		})
	}
}
