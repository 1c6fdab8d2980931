package dynamostore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
)

// countSegments is how many parallel Scan segments CountByCategory reads.
const countSegments = 8

// CountByCategory counts region's catalog entries by category, in category
// order, with the first and last tagging time of each. The catalog keeps
// no counters, so this is a parallel Scan of the region's catalog table
// (countSegments segments, projecting two attributes): it reads the whole
// table, about one read unit per 8 KB of items (eventually consistent),
// and is meant for reports, not for hot paths.
func (s *Store) CountByCategory(ctx context.Context, region string) ([]catalog.Count, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	counts := map[string]*catalog.Count{}
	g, ctx := errgroup.WithContext(ctx)
	for seg := range countSegments {
		g.Go(func() error {
			p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
				TableName: aws.String(s.catalogTable), Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(countSegments),
				FilterExpression:         aws.String("#sk = :entry"),
				ProjectionExpression:     aws.String("#c, tagged_at"),
				ExpressionAttributeNames: map[string]string{"#sk": awsenv.CatalogSK, "#c": "category"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":entry": sv(entrySK),
				},
			})
			mine := map[string]*catalog.Count{}
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("count catalog entries in %s: %w", region, err)
				}
				for _, it := range page.Items {
					cat, at := str(it, "category"), str(it, "tagged_at")
					t, err := time.Parse(time.RFC3339Nano, at)
					if err != nil {
						return fmt.Errorf("count catalog entries in %s: category %s: tagged_at %q: %w", region, cat, at, err)
					}
					addCount(mine, catalog.Count{Region: region, Category: cat, Records: 1, FirstTagged: t, LastTagged: t})
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for _, n := range mine {
				addCount(counts, *n)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := []catalog.Count{}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, *counts[k])
	}
	return out, nil
}

func addCount(m map[string]*catalog.Count, n catalog.Count) {
	c := m[n.Category]
	if c == nil {
		m[n.Category] = &n
		return
	}
	c.Records += n.Records
	if n.FirstTagged.Before(c.FirstTagged) {
		c.FirstTagged = n.FirstTagged
	}
	if n.LastTagged.After(c.LastTagged) {
		c.LastTagged = n.LastTagged
	}
}
