package tagger

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/record"
)

// Inventory names an S3 Inventory report of a watched bucket: the bucket
// S3 delivers it to and the key of its manifest.json
// (destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json).
type Inventory struct {
	Bucket   string `json:"bucket"`
	Manifest string `json:"manifest"`
}

// InventoryManifest is an S3 Inventory report's manifest.json, as S3 writes
// it: the bucket listed, the format and columns of the data files, and the
// data files (keys in the destination bucket).
type InventoryManifest struct {
	SourceBucket      string          `json:"sourceBucket"`
	DestinationBucket string          `json:"destinationBucket"`
	Version           string          `json:"version"`
	CreationTimestamp string          `json:"creationTimestamp"`
	FileFormat        string          `json:"fileFormat"`
	FileSchema        string          `json:"fileSchema"`
	Files             []InventoryFile `json:"files"`
}

// InventoryFile is a data file of an inventory report.
type InventoryFile struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	MD5Checksum string `json:"MD5checksum"`
}

// Columns returns the manifest's fileSchema as column names
// ("Bucket, Key, VersionId, IsLatest, ..." -> [Bucket Key VersionId ...]).
func (m InventoryManifest) Columns() []string {
	var cols []string
	for c := range strings.SplitSeq(m.FileSchema, ",") {
		cols = append(cols, strings.TrimSpace(c))
	}
	return cols
}

// inventoryCursorPrefix marks a sealed inventory cursor's plain text,
// "inventory:<file index>:<row>:<manifest key>", apart from the others.
const inventoryCursorPrefix = "inventory:"

// maxManifest bounds a manifest.json read (a report of a billion objects
// lists some thousands of data files).
const maxManifest = 64 << 20

// ReadInventoryManifest reads and checks an inventory report's manifest:
// a CSV report (ORC and Parquet are not read) with a Key column.
func ReadInventoryManifest(ctx context.Context, files ExportFiles, inv Inventory) (InventoryManifest, error) {
	var m InventoryManifest
	body, err := files.Open(ctx, inv.Bucket, inv.Manifest)
	if errors.Is(err, record.ErrNotFound) {
		return m, fmt.Errorf("%w: inventory manifest %s: %w", ErrInvalid, inv.Manifest, err)
	}
	if err != nil {
		return m, fmt.Errorf("inventory manifest %s: %w", inv.Manifest, err)
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxManifest+1))
	if err != nil {
		return m, fmt.Errorf("inventory manifest %s: %w", inv.Manifest, err)
	}
	if len(b) > maxManifest {
		return m, fmt.Errorf("%w: inventory manifest %s: longer than %d bytes", ErrInvalid, inv.Manifest, maxManifest)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: inventory manifest %s: not an S3 Inventory manifest.json: %v", ErrInvalid, inv.Manifest, err)
	}
	switch {
	case m.SourceBucket == "":
		return m, fmt.Errorf("%w: inventory manifest %s: no sourceBucket", ErrInvalid, inv.Manifest)
	case !strings.EqualFold(m.FileFormat, "CSV"):
		return m, fmt.Errorf("%w: inventory manifest %s: fileFormat %q: only CSV inventories are read (configure the report as CSV)", ErrInvalid, inv.Manifest, m.FileFormat)
	case column(m.Columns(), "Key") < 0:
		return m, fmt.Errorf("%w: inventory manifest %s: fileSchema %q has no Key column", ErrInvalid, inv.Manifest, m.FileSchema)
	}
	return m, nil
}

func column(cols []string, name string) int {
	for i, c := range cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// inventoryPage reads one page of an inventory report of the bucket: up to
// p.Limit rows of one data file from the row the cursor names, keeping the
// current version of each object (IsLatest, when the report lists every
// version; never a delete marker), and the sealed cursor of the next page
// (the next row, or the next data file's first). A row that cannot be read
// fails alone as "<data file>:<row>", never with its content.
func (h *Handler) inventoryPage(ctx context.Context, p BackfillPage) ([]string, []BackfillFailure, string, error) {
	inv := *p.Inventory
	switch {
	case inv.Bucket == "" || inv.Manifest == "":
		return nil, nil, "", fmt.Errorf("%w: backfill page: inventory needs a bucket and a manifest", ErrInvalid)
	case h.Exports == nil:
		return nil, nil, "", errors.New("tagger: backfill page: no inventory reader wired")
	}
	fileIdx, row := 0, 1
	if p.Cursor != "" {
		b, err := h.Cursors.Open(p.Cursor)
		parts := strings.SplitN(strings.TrimPrefix(string(b), inventoryCursorPrefix), ":", 3)
		ok := err == nil && strings.HasPrefix(string(b), inventoryCursorPrefix) && len(parts) == 3 && parts[2] == inv.Manifest
		if ok {
			var ferr, rerr error
			fileIdx, ferr = strconv.Atoi(parts[0])
			row, rerr = strconv.Atoi(parts[1])
			ok = ferr == nil && rerr == nil && fileIdx >= 0 && row >= 1
		}
		if !ok {
			return nil, nil, "", fmt.Errorf("%w: backfill page: the cursor is not one this deployment's tagger returned for this inventory", ErrInvalid)
		}
	}
	m, err := ReadInventoryManifest(ctx, h.Exports, inv)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tagger: backfill page: %w", err)
	}
	if m.SourceBucket != p.Bucket {
		return nil, nil, "", fmt.Errorf("%w: backfill page: inventory manifest %s lists bucket %q, not %q", ErrInvalid, inv.Manifest, m.SourceBucket, p.Bucket)
	}
	if fileIdx >= len(m.Files) {
		if len(m.Files) == 0 && fileIdx == 0 {
			return nil, nil, "", nil // an empty bucket's report
		}
		return nil, nil, "", fmt.Errorf("%w: backfill page: the cursor names data file %d of an inventory of %d", ErrInvalid, fileIdx, len(m.Files))
	}
	f := m.Files[fileIdx]
	keys, failed, nextRow, err := readInventoryRows(ctx, h.Exports, inv.Bucket, f.Key, m.Columns(), row, p.Limit)
	if err != nil {
		return nil, nil, "", fmt.Errorf("tagger: backfill page: %w", err)
	}
	next := ""
	switch {
	case nextRow > 0:
		next = h.Cursors.Seal(fmt.Appendf(nil, "%s%d:%d:%s", inventoryCursorPrefix, fileIdx, nextRow, inv.Manifest))
	case fileIdx+1 < len(m.Files):
		next = h.Cursors.Seal(fmt.Appendf(nil, "%s%d:1:%s", inventoryCursorPrefix, fileIdx+1, inv.Manifest))
	}
	return keys, failed, next, nil
}

// readInventoryRows reads the rows of a gzipped CSV data file from row
// start (1-based): the keys of up to limit rows that are current objects,
// the failures of rows that cannot be read, and the row the next page
// starts at (0 when the file ends within this page).
func readInventoryRows(ctx context.Context, files ExportFiles, bucket, key string, cols []string, start, limit int) ([]string, []BackfillFailure, int, error) {
	body, err := files.Open(ctx, bucket, key)
	if errors.Is(err, record.ErrNotFound) {
		return nil, nil, 0, fmt.Errorf("%w: inventory data file %s: %w", ErrInvalid, key, err)
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("inventory data file %s: %w", key, err)
	}
	defer body.Close()
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, nil, 0, fileError(ExportFile{Bucket: bucket, Key: key}, err)
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = len(cols)
	r.ReuseRecord = true
	keyCol, latestCol, markerCol := column(cols, "Key"), column(cols, "IsLatest"), column(cols, "IsDeleteMarker")
	var keys []string
	var failed []BackfillFailure
	read := 0
	for row := 1; ; row++ {
		rec, err := r.Read()
		if err == io.EOF {
			return keys, failed, 0, nil
		}
		var perr *csv.ParseError
		if err != nil && !errors.As(err, &perr) {
			return nil, nil, 0, fileError(ExportFile{Bucket: bucket, Key: key}, err)
		}
		if row < start {
			continue
		}
		if read == limit {
			return keys, failed, row, nil
		}
		read++
		where := key + ":" + strconv.Itoa(row)
		if err != nil {
			failed = append(failed, BackfillFailure{Record: where, Reason: fmt.Sprintf("%v: not a row of the manifest's %d columns: %v", ErrInvalid, len(cols), perr.Err)})
			continue
		}
		if (latestCol >= 0 && rec[latestCol] == "false") || (markerCol >= 0 && rec[markerCol] == "true") {
			continue // an older version, or a delete marker: the tagger sees the current version
		}
		k, err := url.QueryUnescape(rec[keyCol]) // CSV inventories URL-encode the key
		if err != nil || k == "" {
			failed = append(failed, BackfillFailure{Record: where, Reason: fmt.Sprintf("%v: the Key column is not a URL-encoded object key", ErrInvalid)})
			continue
		}
		keys = append(keys, k)
	}
}
