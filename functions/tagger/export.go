package tagger

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/record"
)

// ExportFile names one data file of a DynamoDB table export in S3: the
// export's bucket and a dataFileS3Key of its manifest-files.json.
type ExportFile struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
}

// ExportFiles opens the data files of table exports (S3 GetObject on the
// stack's backfill bucket: s3objects.Reader).
type ExportFiles interface {
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// maxExportLine is the longest line of a data file read as an item: a
// DynamoDB item is at most 400 KB, which DynamoDB JSON (type wrappers,
// base64 binaries, escapes) can make a few times longer. A longer line fails
// alone; the page goes on after it.
const maxExportLine = 4 << 20

// exportCursorPrefix marks a sealed export cursor's plain text,
// "export:<line>:<data file key>", apart from a scan cursor's.
const exportCursorPrefix = "export:"

// exportPage reads one page of a table export's data file and backfills
// it: up to p.Limit items from the line the cursor names (the first line
// without one), and the sealed cursor of the line the next page starts at
// ("" when the file is done). A line that is not an item of the table fails
// alone, named "<key>:<line>" with the reason, never its content.
//
// Each page decompresses the file from its start again (gzip cannot be
// entered midway) but decodes only its own lines: skipping costs the
// decompression of the lines before it (see BenchmarkExportPageSkip).
func (h *Handler) exportPage(ctx context.Context, p BackfillPage) (BackfillPageResult, error) {
	f := *p.Export
	switch {
	case f.Bucket == "" || f.Key == "":
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: export needs a bucket and a key", ErrInvalid)
	case p.Segment != 0 || p.Segments > 1:
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: a page reads a scan segment or an export's data file, not both", ErrInvalid)
	case h.Exports == nil || h.Cursors == nil:
		return BackfillPageResult{}, errors.New("tagger: backfill page: no export reader or cursor sealer wired")
	}
	src, ok := h.Policy.SourceByName(p.Table)
	if !ok || src.Table == "" {
		return BackfillPageResult{}, fmt.Errorf("%w: backfill page: table %q is not a source of policy %s", ErrInvalid, p.Table, h.Policy.Version)
	}
	start := 1
	if p.Cursor != "" {
		b, err := h.Cursors.Open(p.Cursor)
		line, key, ok := strings.Cut(strings.TrimPrefix(string(b), exportCursorPrefix), ":")
		n, nerr := strconv.Atoi(line)
		if err != nil || !strings.HasPrefix(string(b), exportCursorPrefix) || !ok || nerr != nil || n < 1 || key != f.Key {
			return BackfillPageResult{}, fmt.Errorf("%w: backfill page: the cursor is not one this deployment's tagger returned for this data file", ErrInvalid)
		}
		start = n
	}
	items, failed, next, err := readExportPage(ctx, h.Exports, f, start, p.Limit, src.Key)
	if err != nil {
		return BackfillPageResult{}, fmt.Errorf("tagger: backfill page: %w", err)
	}
	res, err := h.Backfill(ctx, p.Region, p.Table, items)
	if err != nil {
		return BackfillPageResult{}, fmt.Errorf("tagger: %w", err)
	}
	res.Items += len(failed)
	res.Failed = append(failed, res.Failed...)
	cursor := ""
	if next > 0 {
		cursor = h.Cursors.Seal([]byte(exportCursorPrefix + strconv.Itoa(next) + ":" + f.Key))
	}
	return BackfillPageResult{BackfillResult: res, Export: &f, NextCursor: cursor}, nil
}

// readExportPage reads the page of data file f that starts at line start
// (1-based): up to limit items (blank lines are not items), the failures of
// the lines that are not an item of a table keyed by keyAttrs, and the line
// the next page starts at (0 when the file ends within this page).
func readExportPage(ctx context.Context, files ExportFiles, f ExportFile, start, limit int, keyAttrs []string) ([]record.Item, []BackfillFailure, int, error) {
	body, err := files.Open(ctx, f.Bucket, f.Key)
	if errors.Is(err, record.ErrNotFound) {
		return nil, nil, 0, fmt.Errorf("%w: export data file %s: %w", ErrInvalid, f.Key, err)
	}
	if err != nil {
		return nil, nil, 0, fmt.Errorf("export data file %s: %w", f.Key, err)
	}
	defer body.Close()
	zr, err := gzip.NewReader(body)
	if err != nil {
		return nil, nil, 0, fileError(f, err)
	}
	br := bufio.NewReaderSize(zr, 64<<10)
	var items []record.Item
	var failed []BackfillFailure
	var buf []byte
	for line := 1; ; line++ {
		b, tooLong, rerr := readLine(br, maxExportLine, &buf)
		if rerr != nil && rerr != io.EOF {
			return nil, nil, 0, fileError(f, rerr)
		}
		if line >= start && (tooLong || len(bytes.TrimSpace(b)) > 0) {
			if len(items)+len(failed) == limit {
				return items, failed, line, nil
			}
			where := f.Key + ":" + strconv.Itoa(line)
			if tooLong {
				failed = append(failed, BackfillFailure{Record: where, Reason: fmt.Sprintf("%v: line longer than %d bytes", ErrInvalid, maxExportLine)})
			} else if it, err := ddbjson.DecodeExportLine(b); err != nil {
				failed = append(failed, BackfillFailure{Record: where, Reason: fmt.Errorf("%w: %v", ErrInvalid, err).Error()})
			} else if _, err := record.KeyOf(it, keyAttrs); err != nil {
				failed = append(failed, BackfillFailure{Record: where, Reason: fmt.Errorf("%w: %v", ErrInvalid, err).Error()})
			} else {
				items = append(items, it)
			}
		}
		if rerr == io.EOF {
			return items, failed, 0, nil
		}
	}
}

// fileError is a data file's read error: permanent when the file is not
// gzip or is corrupt (a retry reads the same bytes), else for a retry.
func fileError(f ExportFile, err error) error {
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) {
		return fmt.Errorf("%w: export data file %s: not a gzipped data file: %v", ErrInvalid, f.Key, err)
	}
	return fmt.Errorf("export data file %s: %w", f.Key, err)
}

// readLine reads one line (its newline included) of up to max bytes from
// br, reusing *buf when the line spans br's buffer; a longer line is read
// to its end and reported tooLong, without its bytes. The error is br's:
// io.EOF with the last line when it has no newline.
func readLine(br *bufio.Reader, max int, buf *[]byte) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		frag, err := br.ReadSlice('\n')
		switch {
		case tooLong:
		case len(*buf)+len(frag) > max:
			tooLong, *buf = true, (*buf)[:0]
		case err == nil && len(*buf) == 0:
			return frag, false, nil // the common case: no copy
		default:
			*buf = append(*buf, frag...)
		}
		if err != bufio.ErrBufferFull {
			return *buf, tooLong, err
		}
	}
}
