package sqlitestore

import (
	"context"
	"fmt"

	"github.com/residency-dev/residency/shared/catalog"
)

// PutCheckpoint writes (or replaces) the checkpoint of one segment of a
// backfill of cp.Source in cp.Region.
func (s *Store) PutCheckpoint(ctx context.Context, cp catalog.Checkpoint) error {
	counts, failures, err := cp.Figures()
	if err != nil {
		return fmt.Errorf("put %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO backfill_checkpoints(region,source,segment,mode,export,cursor,done,pages,counts,failures,started_at,updated_at)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?)`, cp.Region, cp.Source, cp.Segment, cp.Mode, cp.Export, cp.Cursor, cp.Done, cp.Pages,
		counts, failures, ts(cp.StartedAt), ts(cp.UpdatedAt)); err != nil {
		return fmt.Errorf("put backfill checkpoint %s/%s: %w", cp.Region, cp.Source, err)
	}
	return nil
}

// Checkpoints returns the checkpoints of the backfill of source in region,
// by segment (none if no backfill of it was started).
func (s *Store) Checkpoints(ctx context.Context, region, source string) ([]catalog.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT segment,mode,export,cursor,done,pages,counts,failures,started_at,updated_at
		FROM backfill_checkpoints WHERE region=? AND source=? ORDER BY segment`, region, source)
	if err != nil {
		return nil, fmt.Errorf("backfill checkpoints %s/%s: %w", region, source, err)
	}
	defer rows.Close()
	var out []catalog.Checkpoint
	for rows.Next() {
		cp := catalog.Checkpoint{Region: region, Source: source}
		var counts, failures, started, updated string
		if err := rows.Scan(&cp.Segment, &cp.Mode, &cp.Export, &cp.Cursor, &cp.Done, &cp.Pages, &counts, &failures, &started, &updated); err != nil {
			return nil, fmt.Errorf("backfill checkpoints %s/%s: %w", region, source, err)
		}
		if err := cp.SetFigures(counts, failures); err != nil {
			return nil, err
		}
		cp.StartedAt, cp.UpdatedAt = parseTS(started), parseTS(updated)
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backfill checkpoints %s/%s: %w", region, source, err)
	}
	return out, nil
}

// DeleteCheckpoints removes the checkpoints of the backfill of source in
// region: the next backfill of it starts from the beginning.
func (s *Store) DeleteCheckpoints(ctx context.Context, region, source string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM backfill_checkpoints WHERE region=? AND source=?`, region, source); err != nil {
		return fmt.Errorf("delete backfill checkpoints %s/%s: %w", region, source, err)
	}
	return nil
}

// PutCoverage records that a backfill of c.Source in c.Region completed,
// replacing an earlier one's record.
func (s *Store) PutCoverage(ctx context.Context, c catalog.Coverage) error {
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO backfill_coverage(region,source,mode,completed_at) VALUES(?,?,?,?)`,
		c.Region, c.Source, c.Mode, ts(c.CompletedAt)); err != nil {
		return fmt.Errorf("put backfill coverage %s/%s: %w", c.Region, c.Source, err)
	}
	return nil
}

// Coverage returns the completed backfills of region's sources, by source.
func (s *Store) Coverage(ctx context.Context, region string) ([]catalog.Coverage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT source,mode,completed_at FROM backfill_coverage WHERE region=? ORDER BY source`, region)
	if err != nil {
		return nil, fmt.Errorf("backfill coverage in %s: %w", region, err)
	}
	defer rows.Close()
	out := []catalog.Coverage{}
	for rows.Next() {
		c := catalog.Coverage{Region: region}
		var at string
		if err := rows.Scan(&c.Source, &c.Mode, &at); err != nil {
			return nil, fmt.Errorf("backfill coverage in %s: %w", region, err)
		}
		c.CompletedAt = parseTS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backfill coverage in %s: %w", region, err)
	}
	return out, nil
}
