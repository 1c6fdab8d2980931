package local

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// Export is a DynamoDB table export (ExportTableToPointInTime, format
// DYNAMODB_JSON) as AWS writes it under AWSDynamoDB/<export-id>/.
type Export struct {
	Dir            string `json:"dir"`
	Region         string `json:"region"`
	Table          string `json:"table"`
	Items          int    `json:"items"`
	DataFiles      int    `json:"data_files"`
	DeclaredCount  int    `json:"declared_items"` // the manifest's itemCount
	SourceTableARN string `json:"table_arn"`
	ARN            string `json:"export_arn"` // the manifest's exportArn

	files    []string // the data files, in the manifest's order
	keyAttrs []string // the table's key attributes
}

// OpenExport reads the export in dir (the folder holding
// manifest-summary.json, or a folder with exactly one AWSDynamoDB/<id>/):
// the table its manifest's tableArn names, in that ARN's region, which
// must be a watched table of a region of the deployment, and its data
// files, whose item counts are checked against the manifests (a data file
// is read twice: counted here, loaded by BackfillExport).
func (s *Stack) OpenExport(dir string) (Export, error) {
	dir, err := exportDir(dir)
	if err != nil {
		return Export{}, err
	}
	var summary struct {
		ExportArn    string `json:"exportArn"`
		TableArn     string `json:"tableArn"`
		ItemCount    int    `json:"itemCount"`
		OutputFormat string `json:"outputFormat"`
	}
	if err := readJSON(filepath.Join(dir, "manifest-summary.json"), &summary); err != nil {
		return Export{}, err
	}
	if summary.OutputFormat != "" && summary.OutputFormat != "DYNAMODB_JSON" {
		return Export{}, fmt.Errorf("export %s: output format %s: only DYNAMODB_JSON is read", dir, summary.OutputFormat)
	}
	// arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME
	parts := strings.SplitN(summary.TableArn, ":", 6)
	if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
		return Export{}, fmt.Errorf("export %s: manifest-summary.json: tableArn %q is not a DynamoDB table ARN", dir, summary.TableArn)
	}
	e := Export{Dir: dir, Region: parts[3], Table: strings.TrimPrefix(parts[5], "table/"), DeclaredCount: summary.ItemCount,
		SourceTableARN: summary.TableArn, ARN: summary.ExportArn}
	if e.ARN == "" {
		e.ARN = summary.TableArn + "/export/" + filepath.Base(dir)
	}
	if !s.Policy.HasRegion(e.Region) {
		return e, fmt.Errorf("export %s: region %s of %s is not a region of this deployment (%s)", dir, e.Region, summary.TableArn, strings.Join(s.Policy.Regions, ", "))
	}
	src, ok := s.Policy.SourceByName(e.Table)
	if !ok || src.Table == "" {
		return e, fmt.Errorf("export %s: table %q is not a watched table of the policy", dir, e.Table)
	}
	e.keyAttrs = src.Key
	files, err := os.Open(filepath.Join(dir, "manifest-files.json"))
	if err != nil {
		return e, fmt.Errorf("export %s: %w", dir, err)
	}
	defer files.Close()
	root := filepath.Dir(filepath.Dir(dir)) // the folder holding AWSDynamoDB/
	sc := bufio.NewScanner(files)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var f struct {
			ItemCount     int    `json:"itemCount"`
			DataFileS3Key string `json:"dataFileS3Key"`
		}
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil || f.DataFileS3Key == "" {
			return e, fmt.Errorf("export %s: manifest-files.json:%d: not a data file entry", dir, line)
		}
		path := filepath.Join(root, filepath.FromSlash(f.DataFileS3Key))
		n, err := countLines(path)
		if err != nil {
			return e, err
		}
		if n != f.ItemCount {
			return e, fmt.Errorf("export %s: %s holds %d items, its manifest says %d", dir, f.DataFileS3Key, n, f.ItemCount)
		}
		e.files = append(e.files, path)
		e.Items += n
		e.DataFiles++
	}
	if err := sc.Err(); err != nil {
		return e, fmt.Errorf("export %s: manifest-files.json: %w", dir, err)
	}
	if e.Items != summary.ItemCount {
		return e, fmt.Errorf("export %s: %d items in the data files, the manifest says %d", dir, e.Items, summary.ItemCount)
	}
	return e, nil
}

// ExportDone returns when a backfill of export e completed, or the zero
// time if none did (or a later backfill of its table started since).
func (s *Stack) ExportDone(ctx context.Context, e Export) (time.Time, error) {
	cps, err := s.Store.Checkpoints(ctx, e.Region, e.Table)
	if err != nil {
		return time.Time{}, err
	}
	if len(cps) == 0 || !cps[0].Done || cps[0].Mode != catalog.BackfillExport || cps[0].Export != e.ARN {
		return time.Time{}, nil
	}
	return cps[0].UpdatedAt, nil
}

// BackfillExport loads export e into its table and region, as data that
// was there before (no stream records, as a table restored from it would
// have), and backfills it as Backfill does a table, a page of the data
// files' lines at a time: each page's items are written into the table and
// backfilled in one transaction with the checkpoint (the data file and
// line the next page starts at), so the load is resumable as the backfill
// is. A line that is not {"Item": {...}} in DynamoDB JSON is an error
// naming the file and line. An export whose backfill completed is not
// loaded again by this (see ExportDone): loading it again would bring back
// the records relocated or deleted since.
func (s *Stack) BackfillExport(ctx context.Context, e Export, opts BackfillOptions) (BackfillSummary, error) {
	r := &exportReader{e: e}
	defer r.close()
	ahead := &readAhead{read: r.page}
	defer ahead.wait()
	return s.backfill(ctx, e.Region, e.Table, catalog.BackfillExport, e.ARN, e.Items, opts, ahead.page)
}

// readAhead reads the next page of a source in the background while the
// page it returned is tagged and written, and prepares it for the tagger
// there (the keyed references, and what the tagger decides from): reading
// an export's data files (gunzip, DynamoDB JSON, the items' plain JSON)
// and preparing their items take about a quarter of a backfill's time, and
// can have the second core while the page before is written. Its read must
// not touch the store (the page's transaction is the caller's) and must
// not return memory it reuses; neither does a preparer.
type readAhead struct {
	read pageSource
	next *pageRead // the read under way, if any
}

// pageRead is one page read in the background.
type pageRead struct {
	cursor string
	limit  int
	done   chan struct{}
	page   sourcePage
	err    error
}

func (a *readAhead) page(ctx context.Context, cursor string, limit int, prepare preparer) (sourcePage, error) {
	var p *pageRead
	if n := a.next; n != nil {
		a.next = nil
		<-n.done
		if n.cursor == cursor && n.limit == limit {
			p = n
		}
	}
	if p == nil { // the first page, or a caller that went elsewhere
		p = &pageRead{}
		p.page, p.err = a.read(ctx, cursor, limit, nil)
	}
	if p.err == nil && p.page.next != "" {
		n := &pageRead{cursor: p.page.next, limit: limit, done: make(chan struct{})}
		go func() {
			defer close(n.done)
			n.page, n.err = a.read(context.WithoutCancel(ctx), n.cursor, limit, nil)
			if n.err == nil && prepare != nil && len(n.page.items) > 0 {
				n.page.prepared = prepare(n.page.items)
			}
		}()
		a.next = n
	}
	return p.page, p.err
}

// wait waits for the read under way, if any: the reader may close then.
func (a *readAhead) wait() {
	if a.next != nil {
		<-a.next.done
		a.next = nil
	}
}

// exportReader reads an export's data files a page of lines at a time.
type exportReader struct {
	e    Export
	file int // the data file open (or next)
	line int // lines of it read
	f    *os.File
	zr   *gzip.Reader
	sc   *bufio.Scanner
	buf  []byte
}

func (r *exportReader) close() {
	if r.f != nil {
		r.f.Close()
		r.f, r.zr, r.sc = nil, nil, nil
	}
}

// open opens data file i and skips its first skip lines.
func (r *exportReader) open(i, skip int) error {
	r.close()
	r.file, r.line = i, 0
	if i >= len(r.e.files) {
		return nil
	}
	f, err := os.Open(r.e.files[i])
	if err != nil {
		return fmt.Errorf("export data file: %w", err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("export data file %s: %w", r.e.files[i], err)
	}
	r.f, r.zr = f, zr
	r.sc = bufio.NewScanner(zr)
	r.sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // a DynamoDB item is at most 400 KB
	for r.line < skip && r.sc.Scan() {
		r.line++
	}
	if err := r.sc.Err(); err != nil {
		return fmt.Errorf("export data file %s: %w", r.e.files[i], err)
	}
	return nil
}

// page reads up to limit items from cursor ("file:line", "" at the start)
// and returns them, the writes that load them, and the next cursor.
func (r *exportReader) page(ctx context.Context, cursor string, limit int, _ preparer) (sourcePage, error) {
	file, line := 0, 0
	if cursor != "" {
		if _, err := fmt.Sscanf(cursor, "%d:%d", &file, &line); err != nil || file < 0 || line < 0 {
			return sourcePage{}, fmt.Errorf("export %s: checkpoint %q is not a data file and line", r.e.Dir, cursor)
		}
	}
	if r.sc == nil || file != r.file || line != r.line {
		if err := r.open(file, line); err != nil {
			return sourcePage{}, err
		}
	}
	type dataLine struct {
		file, n int
		text    []byte
	}
	var lines []dataLine
	r.buf = r.buf[:0]
	for len(lines) < limit && r.file < len(r.e.files) {
		if !r.sc.Scan() {
			if err := r.sc.Err(); err != nil {
				return sourcePage{}, fmt.Errorf("export data file %s: %w", r.e.files[r.file], err)
			}
			if err := r.open(r.file+1, 0); err != nil {
				return sourcePage{}, err
			}
			continue
		}
		r.line++
		b := bytes.TrimSpace(r.sc.Bytes())
		if len(b) == 0 {
			continue
		}
		start := len(r.buf)
		r.buf = append(r.buf, b...)
		lines = append(lines, dataLine{r.file, r.line, r.buf[start:len(r.buf):len(r.buf)]})
	}
	texts := make([][]byte, len(lines))
	for i, l := range lines {
		texts[i] = l.text
	}
	its, errs := decodeItemLines(texts)
	items := make([]record.Item, 0, len(lines))
	load := make([]sqlitestore.ReplayedWrite, 0, len(lines))
	// The items' plain JSON, one after the other (a new buffer each page:
	// the writes keep it), shorter than their DynamoDB JSON.
	plain := make([]byte, 0, len(r.buf))
	for i, l := range lines {
		if errs[i] != nil {
			return sourcePage{}, fmt.Errorf("export data file %s:%d: %w", r.e.files[l.file], l.n, errs[i])
		}
		key, err := record.KeyOf(its[i], r.e.keyAttrs)
		if err != nil {
			return sourcePage{}, fmt.Errorf("export data file %s:%d: %w", r.e.files[l.file], l.n, err)
		}
		start := len(plain)
		if plain, err = its[i].AppendJSON(plain); err != nil {
			return sourcePage{}, fmt.Errorf("export data file %s:%d: %w", r.e.files[l.file], l.n, err)
		}
		items = append(items, its[i])
		load = append(load, sqlitestore.ReplayedWrite{Region: r.e.Region, Table: r.e.Table, Key: key, Item: plain[start:len(plain):len(plain)]})
	}
	if r.file >= len(r.e.files) {
		return sourcePage{items: items, load: load}, nil
	}
	return sourcePage{items: items, load: load, next: strconv.Itoa(r.file) + ":" + strconv.Itoa(r.line)}, nil
}

// errNotItemLine is a data file line that is not an item.
var errNotItemLine = errors.New(`not an {"Item": ...} line in DynamoDB JSON`)

// itemPrefix starts every line of an export's data file as AWS writes it.
const itemPrefix = `{"Item":`

// decodeItemLines decodes data file lines, each {"Item": {...}} in
// DynamoDB JSON, into items, with each line's error. It hands the lines'
// images to ddbjson's one-pass stream decoder in one payload of stream
// records (NewImage each), since it has no decoder of a lone image; a
// line of another shape, or a payload the decoder refuses, is decoded line
// by line with encoding/json, which finds the line at fault.
func decodeItemLines(lines [][]byte) ([]record.Item, []error) {
	items, errs := make([]record.Item, len(lines)), make([]error, len(lines))
	size := 16
	for _, l := range lines {
		size += len(l) + 32
	}
	payload := make([]byte, 0, size)
	payload = append(payload, `{"Records":[`...)
	var fast []int // the lines in the payload, in order
	for i, l := range lines {
		if !bytes.HasPrefix(l, []byte(itemPrefix)) || l[len(l)-1] != '}' {
			items[i], errs[i] = decodeItemLine(l)
			continue
		}
		if len(fast) > 0 {
			payload = append(payload, ',')
		}
		payload = append(payload, `{"dynamodb":{"NewImage":`...)
		payload = append(payload, l[len(itemPrefix):len(l)-1]...)
		payload = append(payload, "}}"...)
		fast = append(fast, i)
	}
	payload = append(payload, "]}"...)
	recs, err := ddbjson.DecodeStream(payload)
	if err != nil || len(recs) != len(fast) {
		for _, i := range fast {
			items[i], errs[i] = decodeItemLine(lines[i])
		}
		return items, errs
	}
	for j, i := range fast {
		switch {
		case recs[j].Err != nil:
			errs[i] = recs[j].Err
		case recs[j].NewImage == nil:
			errs[i] = errNotItemLine
		default:
			items[i] = recs[j].NewImage
		}
	}
	return items, errs
}

// decodeItemLine decodes one line with encoding/json.
func decodeItemLine(line []byte) (record.Item, error) {
	var row struct {
		Item map[string]lambdaevents.DynamoDBAttributeValue `json:"Item"`
	}
	if err := json.Unmarshal(line, &row); err != nil || row.Item == nil {
		return nil, errNotItemLine
	}
	return ddbjson.ToItem(row.Item)
}

// countLines counts the lines (not blank) of a gzipped data file.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("export data file: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("export data file %s: %w", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("export data file %s: %w", path, err)
	}
	return n, nil
}

// exportDir finds the export folder: dir itself when it holds
// manifest-summary.json, else the one AWSDynamoDB/<id>/ below it.
func exportDir(dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest-summary.json")); err == nil {
		return dir, nil
	}
	found, _ := filepath.Glob(filepath.Join(dir, "AWSDynamoDB", "*", "manifest-summary.json"))
	switch len(found) {
	case 1:
		return filepath.Dir(found[0]), nil
	case 0:
		return "", fmt.Errorf("%s: no DynamoDB export here (manifest-summary.json, or AWSDynamoDB/<export-id>/manifest-summary.json)", dir)
	}
	return "", fmt.Errorf("%s: %d exports under AWSDynamoDB/: name one", dir, len(found))
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}
