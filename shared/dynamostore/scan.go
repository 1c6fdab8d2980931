package dynamostore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/residency-dev/residency/shared/record"
)

// ScanItems reads one page of a parallel Scan of region's table: up to
// limit items of segment (0 <= segment < segments) from cursor ("" starts
// the segment), and the cursor of the next page ("" when the segment is
// done). The cursor is the page's LastEvaluatedKey, as opaque text: a
// backfill's checkpoint. It is not sealed: it holds a record key, which may
// name a subject; the tagger seals it before it leaves the function. It
// reads the watched tables for a backfill only.
func (s *Store) ScanItems(ctx context.Context, region, table string, segment, segments int, cursor string, limit int) ([]record.Item, string, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(int32(limit))}
	if segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(segment)), aws.Int32(int32(segments))
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: cursor: %w", region, table, err)
		}
		var key record.Item
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&key); err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: cursor: %w", region, table, err)
		}
		if in.ExclusiveStartKey, err = fromItem(key); err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: cursor: %w", region, table, err)
		}
	}
	out, err := c.Scan(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
	}
	items := make([]record.Item, 0, len(out.Items))
	for _, m := range out.Items {
		it, err := toItem(m)
		if err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
		}
		items = append(items, it)
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		key, err := toItem(out.LastEvaluatedKey)
		if err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
		}
		b, err := json.Marshal(key)
		if err != nil {
			return nil, "", fmt.Errorf("scan %s/%s: %w", region, table, err)
		}
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return items, next, nil
}
