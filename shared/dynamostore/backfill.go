package dynamostore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
)

// Backfill checkpoints and coverage live in each region's catalog table:
// a backfill's checkpoints under pk BACKFILL#<source>, one item a segment
// (sk SEGMENT#<n>, zero-padded so that sk order is segment order), read
// with one Query; the region's completed backfills under pk BACKFILLS,
// one item a source (sk the source). Neither is a catalog entry (sk
// ENTRY), so counts and the indexes never see them.
const (
	checkpointPKPrefix = "BACKFILL#"
	checkpointSKPrefix = "SEGMENT#"
	coveragePK         = "BACKFILLS"
)

type checkpointItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Source    string `dynamodbav:"backfill_source"`
	Segment   int    `dynamodbav:"segment"`
	Mode      string `dynamodbav:"mode"`
	Export    string `dynamodbav:"export,omitempty"`
	Cursor    string `dynamodbav:"cursor"`
	Done      bool   `dynamodbav:"done"`
	Pages     int    `dynamodbav:"pages"`
	Counts    string `dynamodbav:"counts"`   // JSON of catalog.BackfillCounts
	Failures  string `dynamodbav:"failures"` // JSON of []catalog.BackfillFailure
	StartedAt string `dynamodbav:"started_at"`
	UpdatedAt string `dynamodbav:"updated_at"`
}

type coverageItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Mode        string `dynamodbav:"mode"`
	CompletedAt string `dynamodbav:"completed_at"`
}

func segmentSK(segment int) string { return fmt.Sprintf("%s%06d", checkpointSKPrefix, segment) }

// PutCheckpoint writes (or replaces) the checkpoint of one segment of a
// backfill of cp.Source in cp.Region, in that region's catalog table. Its
// failures are kept as JSON in the item: a DynamoDB item holds 400 KB,
// a few thousand failures.
func (s *Store) PutCheckpoint(ctx context.Context, cp catalog.Checkpoint) error {
	c, err := s.client(cp.Region)
	if err != nil {
		return err
	}
	counts, failures, err := cp.Figures()
	if err != nil {
		return fmt.Errorf("put %w", err)
	}
	m, err := attributevalue.MarshalMap(checkpointItem{PK: checkpointPKPrefix + cp.Source, SK: segmentSK(cp.Segment), Source: cp.Source,
		Segment: cp.Segment, Mode: cp.Mode, Export: cp.Export, Cursor: cp.Cursor, Done: cp.Done, Pages: cp.Pages, Counts: counts,
		Failures: failures, StartedAt: cp.StartedAt.UTC().Format(time.RFC3339Nano), UpdatedAt: cp.UpdatedAt.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("put backfill checkpoint %s/%s: %w", cp.Region, cp.Source, err)
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.catalogTable), Item: m}); err != nil {
		return fmt.Errorf("put backfill checkpoint %s/%s: %w", cp.Region, cp.Source, err)
	}
	return nil
}

// queryPK returns every item of region's catalog table under pk, in sk
// order (strongly consistent).
func (s *Store) queryPK(ctx context.Context, region, pk string) ([]map[string]types.AttributeValue, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{
		TableName: aws.String(s.catalogTable), KeyConditionExpression: aws.String("#pk = :pk"), ConsistentRead: aws.Bool(true),
		ExpressionAttributeNames: map[string]string{"#pk": awsenv.CatalogPK}, ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv(pk)},
	})
	var out []map[string]types.AttributeValue
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
	}
	return out, nil
}

// Checkpoints returns the checkpoints of the backfill of source in region,
// by segment (none if no backfill of it was started).
func (s *Store) Checkpoints(ctx context.Context, region, source string) ([]catalog.Checkpoint, error) {
	items, err := s.queryPK(ctx, region, checkpointPKPrefix+source)
	if err != nil {
		return nil, fmt.Errorf("backfill checkpoints %s/%s: %w", region, source, err)
	}
	var out []catalog.Checkpoint
	for _, m := range items {
		var it checkpointItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return nil, fmt.Errorf("backfill checkpoints %s/%s: %w", region, source, err)
		}
		cp := catalog.Checkpoint{Region: region, Source: source, Segment: it.Segment, Mode: it.Mode, Export: it.Export, Cursor: it.Cursor,
			Done: it.Done, Pages: it.Pages}
		if err := cp.SetFigures(it.Counts, it.Failures); err != nil {
			return nil, err
		}
		if cp.StartedAt, err = time.Parse(time.RFC3339Nano, it.StartedAt); err != nil {
			return nil, fmt.Errorf("backfill checkpoint %s/%s segment %d: started_at: %w", region, source, it.Segment, err)
		}
		if cp.UpdatedAt, err = time.Parse(time.RFC3339Nano, it.UpdatedAt); err != nil {
			return nil, fmt.Errorf("backfill checkpoint %s/%s segment %d: updated_at: %w", region, source, it.Segment, err)
		}
		out = append(out, cp)
	}
	return out, nil
}

// DeleteCheckpoints removes the checkpoints of the backfill of source in
// region: the next backfill of it starts from the beginning.
func (s *Store) DeleteCheckpoints(ctx context.Context, region, source string) error {
	items, err := s.queryPK(ctx, region, checkpointPKPrefix+source)
	if err != nil {
		return fmt.Errorf("delete backfill checkpoints %s/%s: %w", region, source, err)
	}
	reqs := make([]types.WriteRequest, 0, len(items))
	for _, m := range items {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
			awsenv.CatalogPK: m[awsenv.CatalogPK], awsenv.CatalogSK: m[awsenv.CatalogSK]}}})
	}
	if err := s.batchWrite(ctx, region, s.catalogTable, reqs); err != nil {
		return fmt.Errorf("delete backfill checkpoints %s/%s: %w", region, source, err)
	}
	return nil
}

// PutCoverage records that a backfill of c.Source in c.Region completed,
// replacing an earlier one's record.
func (s *Store) PutCoverage(ctx context.Context, cov catalog.Coverage) error {
	c, err := s.client(cov.Region)
	if err != nil {
		return err
	}
	m, err := attributevalue.MarshalMap(coverageItem{PK: coveragePK, SK: cov.Source, Mode: cov.Mode, CompletedAt: cov.CompletedAt.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return fmt.Errorf("put backfill coverage %s/%s: %w", cov.Region, cov.Source, err)
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.catalogTable), Item: m}); err != nil {
		return fmt.Errorf("put backfill coverage %s/%s: %w", cov.Region, cov.Source, err)
	}
	return nil
}

// Coverage returns the completed backfills of region's sources, by source
// (one Query of the region's catalog table).
func (s *Store) Coverage(ctx context.Context, region string) ([]catalog.Coverage, error) {
	items, err := s.queryPK(ctx, region, coveragePK)
	if err != nil {
		return nil, fmt.Errorf("backfill coverage in %s: %w", region, err)
	}
	out := make([]catalog.Coverage, 0, len(items))
	for _, m := range items {
		var it coverageItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return nil, fmt.Errorf("backfill coverage in %s: %w", region, err)
		}
		at, err := time.Parse(time.RFC3339Nano, it.CompletedAt)
		if err != nil {
			return nil, fmt.Errorf("backfill coverage in %s: %s: completed_at %s: %w", region, it.SK, strconv.Quote(it.CompletedAt), err)
		}
		out = append(out, catalog.Coverage{Region: region, Source: it.SK, Mode: it.Mode, CompletedAt: at})
	}
	return out, nil
}
