package tagger

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"testing"
)

type benchFiles []byte

func (b benchFiles) Open(context.Context, string, string) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(b)), nil
}

// BenchmarkExportPageSkip reads the last page of 1,000 items of a data file
// of 100,000 (about 190 bytes a line, 19 MB uncompressed): the cost of a
// page deep in a file is mostly decompressing the lines before it. Reported
// per page, with the lines skipped per second.
func BenchmarkExportPageSkip(b *testing.B) {
	const lines, limit = 100_000, 1000
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i := range lines {
		fmt.Fprintf(zw, `{"Item":{"pk":{"S":"USER#u-%07d"},"sk":{"S":"PROFILE"},"user_id":{"S":"u-%07d"},"country":{"S":"US"},"created_at":{"S":"2026-10-01T00:00:00Z"}}}`+"\n", i, i)
	}
	zw.Close()
	files := benchFiles(buf.Bytes())
	f := ExportFile{Bucket: "b", Key: "k"}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		items, failed, next, err := readExportPage(context.Background(), files, f, lines-limit+1, limit, []string{"pk", "sk"})
		if err != nil || len(items) != limit || len(failed) != 0 || next != 0 {
			b.Fatalf("expect the last %d items, got %d, %v, next %d (%v)", limit, len(items), failed, next, err)
		}
	}
	b.ReportMetric(float64(lines-limit)*float64(b.N)/b.Elapsed().Seconds(), "skipped-lines/s")
}
