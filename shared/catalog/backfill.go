package catalog

import (
	"encoding/json"
	"fmt"
	"time"
)

// Backfill modes: how a backfill reads the records that predate Residency.
const (
	BackfillScan      = "scan"      // a (parallel) scan of the table
	BackfillExport    = "export"    // a DynamoDB table export (ExportTableToPointInTime)
	BackfillInventory = "inventory" // an S3 Inventory manifest of the bucket
	BackfillList      = "list"      // ListObjectsV2 pages of the bucket
)

// BackfillModes are the modes a completed backfill may name.
var BackfillModes = []string{BackfillScan, BackfillExport, BackfillInventory, BackfillList}

// BackfillCounts are a backfill's figures: records read, their tags
// written (Tagged) or already current (Unchanged), the misplaced ones
// announced (Violations), those the router moved home or to quarantine
// (Relocated), and those that could not be tagged (Failed).
type BackfillCounts struct {
	Read       int `json:"read"`
	Tagged     int `json:"tagged"`
	Unchanged  int `json:"unchanged"`
	Violations int `json:"violations"`
	Relocated  int `json:"relocated"`
	Failed     int `json:"failed"`
}

// Add adds o to c.
func (c *BackfillCounts) Add(o BackfillCounts) {
	c.Read += o.Read
	c.Tagged += o.Tagged
	c.Unchanged += o.Unchanged
	c.Violations += o.Violations
	c.Relocated += o.Relocated
	c.Failed += o.Failed
}

// BackfillFailure is a record a backfill could not tag, by its keyed
// record reference (never the key), with the reason.
type BackfillFailure struct {
	Record string `json:"record"`
	Reason string `json:"reason"`
}

// Checkpoint is where a backfill of one source in one region stands, per
// segment of its scan: the pages done, their figures and failures, and
// where the next page starts. It is written with the page it follows, so
// a backfill started again resumes after the last page done.
type Checkpoint struct {
	Region  string `json:"region"`
	Source  string `json:"source"`
	Segment int    `json:"segment"`
	// Mode is BackfillScan or BackfillExport; Export names the export
	// (its ARN) of an export backfill.
	Mode   string `json:"mode"`
	Export string `json:"export,omitempty"`
	// Cursor is where the next page starts, sealed ("" at the start): it
	// holds a record key, which must not reach logs in the clear.
	Cursor string `json:"cursor"`
	// Done says the segment is read to its end.
	Done      bool              `json:"done"`
	Pages     int               `json:"pages"`
	Counts    BackfillCounts    `json:"counts"`
	Failures  []BackfillFailure `json:"failures"`
	StartedAt time.Time         `json:"started_at"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Coverage is the last completed backfill of one source in one region:
// from then on, retention and erasure cover the records that predate
// Residency too. A source without one is covered only for the records
// written since Residency watched it.
type Coverage struct {
	Region      string    `json:"region"`
	Source      string    `json:"source"`
	Mode        string    `json:"mode"`
	CompletedAt time.Time `json:"completed_at"`
}

// Figures encodes the checkpoint's counts and failures as a store keeps
// them: two JSON texts (failures "[]" when none).
func (cp Checkpoint) Figures() (counts, failures string, err error) {
	c, err := json.Marshal(cp.Counts)
	if err != nil {
		return "", "", fmt.Errorf("backfill checkpoint %s/%s: counts: %w", cp.Region, cp.Source, err)
	}
	f := []byte("[]")
	if len(cp.Failures) > 0 {
		if f, err = json.Marshal(cp.Failures); err != nil {
			return "", "", fmt.Errorf("backfill checkpoint %s/%s: failures: %w", cp.Region, cp.Source, err)
		}
	}
	return string(c), string(f), nil
}

// SetFigures decodes counts and failures, as Figures encoded them, into
// the checkpoint.
func (cp *Checkpoint) SetFigures(counts, failures string) error {
	if err := json.Unmarshal([]byte(counts), &cp.Counts); err != nil {
		return fmt.Errorf("backfill checkpoint %s/%s segment %d: counts: %w", cp.Region, cp.Source, cp.Segment, err)
	}
	if err := json.Unmarshal([]byte(failures), &cp.Failures); err != nil {
		return fmt.Errorf("backfill checkpoint %s/%s segment %d: failures: %w", cp.Region, cp.Source, cp.Segment, err)
	}
	return nil
}
