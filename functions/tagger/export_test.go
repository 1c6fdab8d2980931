package tagger_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/record"
)

// files is an in-memory bucket of gzipped export data files.
type files map[string][]byte

func (f files) Open(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	b, ok := f[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("get object in s3://%s: %w", bucket, record.ErrNotFound)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func gzipped(lines ...string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(strings.Join(lines, "\n")))
	zw.Close()
	return b.Bytes()
}

func exportLine(id, country string) string {
	return fmt.Sprintf(`{"Item":{"pk":{"S":"USER#%s"},"sk":{"S":"PROFILE"},"user_id":{"S":"%s"},"country":{"S":"%s"},"created_at":{"S":"2026-10-01T00:00:00Z"}}}`, id, id, country)
}

// An export page: a line longer than any item fails alone and the page
// goes on after it; the last line needs no newline; the page's figures are
// an EMF line; a permanent failure is a
// PermanentError, the errorType the state machine does not retry.
func TestExportPageLinesFailAloneAndPagesAreMetrics(t *testing.T) {
	h, st, _ := setup(t, "us-east-1")
	var logs bytes.Buffer
	h.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	var emf bytes.Buffer
	h.Metrics = &metrics.Emitter{W: &emf, Function: "tagger", Region: "us-east-1"}
	h.Cursors = h.Refs.(interface {
		Seal([]byte) string
		Open(string) ([]byte, error)
	})
	for _, id := range []string{"x-1", "x-2"} {
		item := record.Item{"pk": "USER#" + id, "sk": "PROFILE", "user_id": id, "country": "US", "created_at": "2026-10-01T00:00:00Z"}
		k, _ := record.KeyOf(item, []string{"pk", "sk"})
		st.ReplayWrite(context.Background(), "us-east-1", "users", k, item)
	}
	long := `{"Item":{"pk":{"S":"USER#x-9"},"blob":{"S":"` + strings.Repeat("u-1001 ", 700_000) + `"}}}`
	h.Exports = files{"b/d.json.gz": gzipped(exportLine("x-1", "US"), long, "", exportLine("x-2", "US"))}
	page := func(cursor string) (tagger.BackfillPageResult, error) {
		payload, _ := json.Marshal(map[string]any{"backfill": tagger.BackfillPage{Region: "us-east-1", Table: "users",
			Export: &tagger.ExportFile{Bucket: "b", Key: "d.json.gz"}, Cursor: cursor, Limit: 2}})
		out, err := h.Invoke(context.Background(), payload)
		res, _ := out.(tagger.BackfillPageResult)
		return res, err
	}

	// WHEN the file is read 2 items a page
	first, err := page("")
	if err != nil {
		t.Fatal(err)
	}
	second, err := page(first.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	// THEN the long line (2) fails alone, and the blank line is no item
	if first.Items != 2 || first.Tagged != 1 || len(first.Failed) != 1 || first.Failed[0].Record != "d.json.gz:2" ||
		!strings.Contains(first.Failed[0].Reason, "line longer than") || strings.Contains(first.Failed[0].Reason, "u-1001") || first.NextCursor == "" {
		t.Fatalf("expect x-1 tagged and line 2 failed alone, then more, got %+v", first)
	}
	if second.Items != 1 || second.Tagged != 1 || len(second.Failed) != 0 || second.NextCursor != "" {
		t.Fatalf("expect x-2 tagged, and the file done, got %+v", second)
	}
	// AND each page logged an EMF document of its figures
	var doc struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Region, Source string
		Items          int `json:"BackfillItems"`
		Failed         int `json:"BackfillFailed"`
	}
	line, _, _ := strings.Cut(emf.String(), "\n")
	if err := json.Unmarshal([]byte(line), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.AWS.CloudWatchMetrics
	if doc.AWS.Timestamp == 0 || len(m) != 1 || m[0].Namespace != "Residency" || !reflect.DeepEqual(m[0].Dimensions, [][]string{{"region", "function", "source"}}) || doc.Source != "users" ||
		len(m[0].Metrics) != 5 || m[0].Metrics[0].Name != "BackfillItems" || doc.Items != 2 || doc.Failed != 1 {
		t.Fatalf("expect an EMF document of the first page (2 items, 1 failed), got %s", line)
	}
	if all := logs.String() + emf.String(); strings.Contains(all, "x-1") || strings.Contains(all, "USER#") {
		t.Errorf("expect no record key in the logs, got %s", logs.String())
	}

	// WHEN a page is asked of a file that is not gzip, or of an export and
	// a segment at once
	h.Exports = files{"b/d.json.gz": []byte(exportLine("x-1", "US"))}
	_, notGzip := page("")
	payload := []byte(`{"backfill": {"region": "us-east-1", "table": "users", "segments": 4, "export": {"bucket": "b", "key": "d.json.gz"}}}`)
	_, both := h.Invoke(context.Background(), payload)
	// THEN each is a PermanentError, which Lambda names by its type
	for name, err := range map[string]error{"not gzip": notGzip, "segment and export": both} {
		var perm *tagger.PermanentError
		if !errors.As(err, &perm) || !errors.Is(err, record.ErrPermanent) {
			t.Errorf("%s: expect a PermanentError, got %v", name, err)
			continue
		}
		if got := reflect.TypeOf(err).Elem().Name(); got != "PermanentError" {
			t.Errorf("%s: expect errorType PermanentError (the state machine's retriers name it), got %s", name, got)
		}
	}
}
