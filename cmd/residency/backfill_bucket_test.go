package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// TestBackfillBucketSource: backfill --source names a watched bucket: the
// local object store's objects there that predate Residency are catalogued
// in the bucket's region, the misplaced one relocated; a second run finds
// the one left unchanged. A name that is no source is a usage error.
func TestBackfillBucketSource(t *testing.T) {
	db := filepath.Join(t.TempDir(), "b.db")
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	withStore(t, db, func(st *sqlitestore.Store) error {
		for k, country := range map[string]string{"users/u-9001/a.json": "FR", "users/u-9002/b.json": "US"} {
			subject := strings.Split(k, "/")[1]
			if err := st.PutObject(context.Background(), record.Object{Region: "us-east-1", Bucket: "acme-exports-us", Key: k, LastModified: at,
				Metadata: map[string]string{"subject-id": subject, "subject-country": country}}); err != nil {
				return err
			}
		}
		return nil
	})
	type result struct {
		Region, Table                                   string
		Items, Tagged, Unchanged, Violations, Relocated int
	}
	run := func() result {
		t.Helper()
		code, out, errs := cli(t, "backfill", "--db", db, "--now", "2026-11-22T12:00:00Z", "--source", "acme-exports-us")
		var rs []result
		if code != 0 || json.Unmarshal([]byte(out), &rs) != nil || len(rs) != 1 {
			t.Fatalf("expect one bucket's summary, got %d %s %s", code, out, errs)
		}
		if !strings.Contains(errs, "backfill us-east-1/acme-exports-us done") {
			t.Errorf("expect the bucket's summary on stderr, got %s", errs)
		}
		return rs[0]
	}
	if r := run(); r.Region != "us-east-1" || r.Table != "acme-exports-us" || r.Items != 2 || r.Tagged != 2 || r.Violations != 1 || r.Relocated != 1 {
		t.Errorf("expect 2 objects of us-east-1 tagged, 1 violation relocated, got %+v", r)
	}
	if r := run(); r.Items != 1 || r.Unchanged != 1 || r.Tagged != 0 {
		t.Errorf("expect the object left unchanged, got %+v", r)
	}
	code, _, errs := cli(t, "backfill", "--db", db, "--source", "acme-exports-nowhere")
	if code != exitUsage || !strings.Contains(errs, `--source "acme-exports-nowhere" is not a watched table or bucket`) {
		t.Errorf("expect a usage error naming the source, got %d %s", code, errs)
	}
	code, _, errs = cli(t, "backfill", "--db", db, "--source", "acme-exports-us", "--region", "eu-central-1")
	if code != exitUsage || !strings.Contains(errs, "the source's bucket in us-east-1") {
		t.Errorf("expect a usage error naming the bucket's region, got %d %s", code, errs)
	}
}
