package local

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lambdaevents "github.com/aws/aws-lambda-go/events"

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
}

// exportLoadBatch is how many items one transaction of LoadExport writes.
const exportLoadBatch = 5000

// LoadExport reads the export in dir (the folder holding
// manifest-summary.json, or a folder with exactly one AWSDynamoDB/<id>/)
// and writes its items into the local table its manifest's tableArn names,
// in that ARN's region, as pre-existing data: no stream records, as a
// table restored from it would have. The manifest's item counts are
// checked against the data files; a line that is not {"Item": {...}} in
// DynamoDB JSON is an error naming the file and line.
func (s *Stack) LoadExport(ctx context.Context, dir string) (Export, error) {
	dir, err := exportDir(dir)
	if err != nil {
		return Export{}, err
	}
	var summary struct {
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
	e := Export{Dir: dir, Region: parts[3], Table: strings.TrimPrefix(parts[5], "table/"), DeclaredCount: summary.ItemCount, SourceTableARN: summary.TableArn}
	if !s.Policy.HasRegion(e.Region) {
		return e, fmt.Errorf("export %s: region %s of %s is not a region of this deployment (%s)", dir, e.Region, summary.TableArn, strings.Join(s.Policy.Regions, ", "))
	}
	src, ok := s.Policy.SourceByName(e.Table)
	if !ok || src.Table == "" {
		return e, fmt.Errorf("export %s: table %q is not a watched table of the policy", dir, e.Table)
	}
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
		n, err := s.loadDataFile(ctx, path, e.Region, e.Table, src.Key)
		if err != nil {
			return e, err
		}
		if n != f.ItemCount {
			return e, fmt.Errorf("export %s: %s holds %d items, its manifest says %d", dir, f.DataFileS3Key, n, f.ItemCount)
		}
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

// loadDataFile writes one gzipped data file's items, a batch per
// transaction, and returns how many it held.
func (s *Stack) loadDataFile(ctx context.Context, path, region, table string, keyAttrs []string) (int, error) {
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
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // a DynamoDB item is at most 400 KB
	var batch []sqlitestore.ReplayedWrite
	n := 0
	flush := func() error {
		if err := s.Store.ReplayWrites(ctx, batch); err != nil {
			return fmt.Errorf("export data file %s: %w", path, err)
		}
		batch = batch[:0]
		return nil
	}
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var row struct {
			Item map[string]lambdaevents.DynamoDBAttributeValue `json:"Item"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil || row.Item == nil {
			return n, fmt.Errorf("export data file %s:%d: not an {\"Item\": ...} line in DynamoDB JSON", path, line)
		}
		it, err := ddbjson.ToItem(row.Item)
		if err != nil {
			return n, fmt.Errorf("export data file %s:%d: %w", path, line, err)
		}
		key, err := record.KeyOf(it, keyAttrs)
		if err != nil {
			return n, fmt.Errorf("export data file %s:%d: %w", path, line, err)
		}
		b, err := json.Marshal(it)
		if err != nil {
			return n, fmt.Errorf("export data file %s:%d: %w", path, line, err)
		}
		batch = append(batch, sqlitestore.ReplayedWrite{Region: region, Table: table, Key: key, Item: b})
		n++
		if len(batch) == exportLoadBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("export data file %s: %w", path, err)
	}
	return n, flush()
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
