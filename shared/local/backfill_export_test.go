package local_test

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// exportSpec is a synthetic DynamoDB export of the users table in
// us-east-1: items records, of which every tenth (misplaced) is an EU
// subject's, and every twentieth (expired) is past its 25 months.
type exportSpec struct {
	items     int
	misplaced bool // every tenth item is a French subject's (10%)
	expired   bool // every twentieth item was created in 2023 (5%)
}

// exportCounts says what a spec's export holds.
func (e exportSpec) counts() (misplaced, expired int) {
	for i := range e.items {
		m, x := e.kind(i)
		if m {
			misplaced++
		}
		if x {
			expired++
		}
	}
	return misplaced, expired
}

// kind says whether item i is misplaced and whether it is expired. The
// two never fall on one item (i%10 == 3 is never i%20 == 0).
func (e exportSpec) kind(i int) (misplaced, expired bool) {
	return e.misplaced && i%10 == 3, e.expired && i%20 == 0
}

// writeExport writes the export as AWS lays it out (AWSDynamoDB/<id>/
// manifest-summary.json, manifest-files.json, data/*.json.gz of one
// {"Item": ...} in DynamoDB JSON a line), in files of 10,000 items, and
// returns the folder holding AWSDynamoDB/.
func writeExport(tb testing.TB, e exportSpec) string {
	tb.Helper()
	root := tb.TempDir()
	id := "01764000000000-5e7a1b2c"
	dir := filepath.Join(root, "AWSDynamoDB", id)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		tb.Fatal(err)
	}
	manifest, err := os.Create(filepath.Join(dir, "manifest-files.json"))
	if err != nil {
		tb.Fatal(err)
	}
	const perFile = 10000
	recent := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	old := time.Date(2023, 9, 1, 0, 0, 0, 0, time.UTC)
	for f := 0; f*perFile < e.items; f++ {
		key := fmt.Sprintf("AWSDynamoDB/%s/data/%08x.json.gz", id, f)
		out, err := os.Create(filepath.Join(root, filepath.FromSlash(key)))
		if err != nil {
			tb.Fatal(err)
		}
		zw := gzip.NewWriter(out)
		w := bufio.NewWriter(zw)
		n := 0
		for i := f * perFile; i < min(e.items, (f+1)*perFile); i++ {
			misplaced, expired := e.kind(i)
			country := []string{"US", "CA", "BR", "JP", "US"}[i%5]
			if misplaced {
				country = "FR"
			}
			created := recent.Add(time.Duration(i) * time.Second)
			if expired {
				created = old.Add(time.Duration(i) * time.Second)
			}
			uid := fmt.Sprintf("u-%07d", i)
			fmt.Fprintf(w, `{"Item":{"pk":{"S":"USER#%s"},"sk":{"S":"PROFILE"},"user_id":{"S":"%s"},"country":{"S":"%s"},`+
				`"name":{"S":"Person %s"},"email":{"S":"%s@example.com"},"created_at":{"S":"%s"},"last_seen_at":{"S":"%s"},`+
				`"account_id":{"S":"acct-%d"},"score":{"N":"%d"}}}`+"\n",
				uid, uid, country, uid, uid, created.Format(time.RFC3339), created.Format(time.RFC3339), i%97, i%1000)
			n++
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			tb.Fatal(err)
		}
		if err := out.Close(); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(manifest, `{"itemCount":%d,"md5Checksum":"AAAA","etag":"0-1","dataFileS3Key":"%s"}`+"\n", n, key)
	}
	if err := manifest.Close(); err != nil {
		tb.Fatal(err)
	}
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/users"
	summary := fmt.Sprintf(`{"version":"2020-06-30","exportArn":"%s/export/%s","startTime":"2026-11-20T10:00:00.000Z","endTime":"2026-11-20T10:05:00.000Z",`+
		`"tableArn":"%s","tableId":"00000000-0000-0000-0000-000000000000","exportTime":"2026-11-20T10:00:00.000Z","s3Bucket":"acme-exports",`+
		`"s3Prefix":null,"s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,"manifestFilesS3Key":"AWSDynamoDB/%s/manifest-files.json",`+
		`"billedSizeBytes":0,"itemCount":%d,"outputFormat":"DYNAMODB_JSON"}`, arn, id, arn, id, e.items)
	if err := os.WriteFile(filepath.Join(dir, "manifest-summary.json"), []byte(summary), 0o644); err != nil {
		tb.Fatal(err)
	}
	return root
}
