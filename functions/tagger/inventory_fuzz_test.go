package tagger

import (
	"bytes"
	"compress/gzip"
	"context"
	"strings"
	"testing"
)

// FuzzInventoryRows feeds readInventoryRows arbitrary CSV data files (the
// outside input of an inventory backfill): it returns at most limit rows'
// keys and failures, names a failed row by file and row only, and never
// panics.
func FuzzInventoryRows(f *testing.F) {
	f.Add([]byte(`"acme-exports","users%2Fu-1%2Fa+b.json","v1","true","false"`+"\n"), 1, 2)
	f.Add([]byte(`"acme-exports","users%2Fu-1","v1","false","false"`+"\n"+`"acme-exports","%zz","v2","true","false"`+"\n"), 2, 1)
	f.Add([]byte(`"acme-exports","a"`+"\n"+`"unterminated`+"\n"+`x,y,z,true,true`+"\n"), 1, 3)
	cols := []string{"Bucket", "Key", "VersionId", "IsLatest", "IsDeleteMarker"}
	f.Fuzz(func(t *testing.T, data []byte, start, limit int) {
		if start < 1 || start > 100 || limit < 1 || limit > 100 {
			return
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		keys, failed, next, err := readInventoryRows(context.Background(), benchFiles(gz.Bytes()), "b", "data/f.csv.gz", cols, start, limit)
		if err != nil {
			return
		}
		if len(keys)+len(failed) > limit || (next != 0 && next <= start) {
			t.Fatalf("expect at most %d rows and a next row after %d, got %d keys, %d failed, next %d", limit, start, len(keys), len(failed), next)
		}
		for _, fl := range failed {
			if !strings.HasPrefix(fl.Record, "data/f.csv.gz:") || strings.Contains(fl.Reason, "acme-exports") {
				t.Fatalf("expect a failure by file and row without the row, got %+v", fl)
			}
		}
	})
}
