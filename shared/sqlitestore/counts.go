package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/catalog"
)

// CountByCategory counts region's catalog entries by category, in category
// order, with the first and last tagging time of each (tagged_at is stored
// at fixed width, so its string order is time order).
func (s *Store) CountByCategory(ctx context.Context, region string) ([]catalog.Count, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT category, count(*), min(tagged_at), max(tagged_at) FROM catalog
		WHERE region=? GROUP BY category ORDER BY category`, region)
	if err != nil {
		return nil, fmt.Errorf("count catalog entries in %s: %w", region, err)
	}
	defer rows.Close()
	out := []catalog.Count{}
	for rows.Next() {
		c := catalog.Count{Region: region}
		var first, last string
		if err := rows.Scan(&c.Category, &c.Records, &first, &last); err != nil {
			return nil, fmt.Errorf("count catalog entries in %s: %w", region, err)
		}
		if c.FirstTagged, err = time.Parse(time.RFC3339Nano, first); err != nil {
			return nil, fmt.Errorf("count catalog entries in %s: category %s: tagged_at %q: %w", region, c.Category, first, err)
		}
		if c.LastTagged, err = time.Parse(time.RFC3339Nano, last); err != nil {
			return nil, fmt.Errorf("count catalog entries in %s: category %s: tagged_at %q: %w", region, c.Category, last, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count catalog entries in %s: %w", region, err)
	}
	return out, nil
}
