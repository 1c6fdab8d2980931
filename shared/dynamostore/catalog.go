package dynamostore

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

func entryPK(source string, key record.Key) string { return "REC#" + source + "#" + key.String() }

const entrySK = "ENTRY"

func (s *Store) shard(source, key string) int {
	h := fnv.New32a()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(s.shards))
}

func duePK(day string, shard int) string { return fmt.Sprintf("DUE#%s#%02d", day, shard) }

func dueSK(until time.Time, source, key string) string {
	return record.FormatTime(until) + "#" + source + "#" + key
}

func (s *Store) entryItem(e catalog.Entry) map[string]types.AttributeValue {
	k := e.Key.String()
	m := map[string]types.AttributeValue{
		awsenv.CatalogPK: sv(entryPK(e.Source, e.Key)), awsenv.CatalogSK: sv(entrySK),
		"region": sv(e.Region), "source": sv(e.Source), "source_kind": sv(e.SourceKind), "record_key": sv(k),
		"category": sv(e.Category), "origin_region": sv(e.OriginRegion), "home_region": sv(e.HomeRegion),
		"jurisdiction": sv(e.Jurisdiction), "status": sv(e.Status), "policy_version": sv(e.PolicyVersion),
		"tagged_at": sv(e.TaggedAt.UTC().Format(time.RFC3339Nano)),
	}
	// Index key attributes must not be empty strings: leave them out.
	if e.SubjectRef != "" {
		m[awsenv.SubjectIndexPK] = sv(e.SubjectRef)
	}
	if e.Contract != "" {
		m[awsenv.ContractIndexPK] = sv(e.Contract)
	}
	if e.Erasure != "" {
		m["erasure"] = sv(e.Erasure)
	}
	if !e.RetainUntil.IsZero() {
		m["retain_until"] = sv(record.FormatTime(e.RetainUntil))
		m[awsenv.DueIndexPK] = sv(duePK(e.RetainUntil.UTC().Format(time.DateOnly), s.shard(e.Source, k)))
		m[awsenv.DueIndexSK] = sv(dueSK(e.RetainUntil, e.Source, k))
	}
	return m
}

func entryOf(m map[string]types.AttributeValue) (catalog.Entry, error) {
	e := catalog.Entry{
		Region: str(m, "region"), Source: str(m, "source"), SourceKind: str(m, "source_kind"), SubjectRef: str(m, awsenv.SubjectIndexPK),
		Category: str(m, "category"), Contract: str(m, awsenv.ContractIndexPK), OriginRegion: str(m, "origin_region"),
		HomeRegion: str(m, "home_region"), Jurisdiction: str(m, "jurisdiction"), Status: str(m, "status"), PolicyVersion: str(m, "policy_version"),
		Erasure: str(m, "erasure"),
	}
	var err error
	if e.Key, err = record.ParseKey(str(m, "record_key")); err != nil {
		return e, err
	}
	e.TaggedAt, _ = time.Parse(time.RFC3339Nano, str(m, "tagged_at"))
	if u := str(m, "retain_until"); u != "" {
		e.RetainUntil, _ = time.Parse(time.RFC3339, u)
	}
	return e, nil
}

// PutEntries writes catalog entries (BatchWriteItem, 25 at a time, retrying
// unprocessed items with backoff).
func (s *Store) PutEntries(ctx context.Context, entries []catalog.Entry) error {
	byRegion, order := writesByRegion(entries, func(e catalog.Entry) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: s.entryItem(e)}}
	})
	earliest := map[string]string{}
	for _, e := range entries {
		if e.RetainUntil.IsZero() {
			continue
		}
		if d := e.RetainUntil.UTC().Format(time.DateOnly); earliest[e.Region] == "" || d < earliest[e.Region] {
			earliest[e.Region] = d
		}
	}
	for _, r := range order {
		// The mark first: an entry is never in a bucket the sweep skips.
		if d := earliest[r]; d != "" {
			if err := s.lowerDueMark(ctx, r, d); err != nil {
				return err
			}
		}
		if err := s.batchWrite(ctx, r, s.catalogTable, byRegion[r]); err != nil {
			return fmt.Errorf("put catalog entries in %s: %w", r, err)
		}
	}
	return nil
}

// writesByRegion makes each entry's write request, grouped by the entry's
// region (the catalog it lives in), with the regions in order of first
// appearance.
func writesByRegion(entries []catalog.Entry, req func(catalog.Entry) types.WriteRequest) (map[string][]types.WriteRequest, []string) {
	byRegion := map[string][]types.WriteRequest{}
	var order []string
	for _, e := range entries {
		if _, ok := byRegion[e.Region]; !ok {
			order = append(order, e.Region)
		}
		byRegion[e.Region] = append(byRegion[e.Region], req(e))
	}
	return byRegion, order
}

func (s *Store) batchWrite(ctx context.Context, region, table string, reqs []types.WriteRequest) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	for len(reqs) > 0 {
		chunk := reqs[:min(25, len(reqs))]
		reqs = reqs[len(chunk):]
		pending := map[string][]types.WriteRequest{table: chunk}
		for attempt := 0; len(pending[table]) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending[table]), attempt)
				}
				if err := awsadapter.Backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func (s *Store) queryAll(ctx context.Context, region string, in *dynamodb.QueryInput) ([]catalog.Entry, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	var out []catalog.Entry
	p := dynamodb.NewQueryPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			e, err := entryOf(it)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// EntriesBySubject returns region's entries of one subject reference.
func (s *Store) EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error) {
	out, err := s.queryAll(ctx, region, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), IndexName: aws.String(awsenv.SubjectIndex),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.SubjectIndexPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(subjectRef)}})
	if err != nil {
		return nil, fmt.Errorf("entries by subject in %s: %w", region, err)
	}
	return out, nil
}

// EntriesByContract returns region's entries linked to a contract.
func (s *Store) EntriesByContract(ctx context.Context, region, contract string) ([]catalog.Entry, error) {
	out, err := s.queryAll(ctx, region, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), IndexName: aws.String(awsenv.ContractIndex),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.ContractIndexPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(contract)}})
	if err != nil {
		return nil, fmt.Errorf("entries by contract in %s: %w", region, err)
	}
	return out, nil
}
