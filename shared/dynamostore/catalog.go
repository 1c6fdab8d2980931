package dynamostore

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

func entryPK(source string, key record.Key) string { return entryPKPrefix(source) + key.String() }

func entryPKPrefix(source string) string { return "REC#" + source + "#" }

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

// entryItem is a catalog entry as the catalog table holds it. Index key
// attributes must not be empty strings: omitempty leaves them out. The
// tags name awsenv's attributes (CatalogPK, SubjectIndexPK, DueIndexPK, ...).
type entryItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	Region        string `dynamodbav:"region"`
	Source        string `dynamodbav:"source"`
	SourceKind    string `dynamodbav:"source_kind"`
	RecordKey     string `dynamodbav:"record_key"`
	SubjectRef    string `dynamodbav:"subject_ref,omitempty"`
	Category      string `dynamodbav:"category"`
	Contract      string `dynamodbav:"contract,omitempty"`
	OriginRegion  string `dynamodbav:"origin_region"`
	HomeRegion    string `dynamodbav:"home_region"`
	Jurisdiction  string `dynamodbav:"jurisdiction"`
	Status        string `dynamodbav:"status"`
	PolicyVersion string `dynamodbav:"policy_version"`
	TaggedAt      string `dynamodbav:"tagged_at"`
	Erasure       string `dynamodbav:"erasure,omitempty"`
	Reapplied     bool   `dynamodbav:"reapplied,omitempty"`
	RetainUntil   string `dynamodbav:"retain_until,omitempty"`
	DuePK         string `dynamodbav:"due_pk,omitempty"`
	DueSK         string `dynamodbav:"due_sk,omitempty"`
}

// Catalogued reports which of keys of source have an entry in region's
// catalog, by key.String() (BatchGetItem of the entries' keys only, 100 a
// call, a few calls at once; eventually consistent: an entry written a
// moment ago may read as missing, which costs its caller a rewrite, never a
// loss).
func (s *Store) Catalogued(ctx context.Context, region, source string, keys []record.Key) (map[string]bool, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(erasedLookups)
	for chunk := range slices.Chunk(keys, 100) {
		g.Go(func() error {
			req := types.KeysAndAttributes{ProjectionExpression: aws.String("#pk"), ExpressionAttributeNames: map[string]string{"#pk": awsenv.CatalogPK}}
			seen := map[string]bool{}
			for _, k := range chunk {
				if pk := entryPK(source, k); !seen[pk] { // BatchGetItem refuses duplicate keys
					seen[pk] = true
					req.Keys = append(req.Keys, map[string]types.AttributeValue{awsenv.CatalogPK: &types.AttributeValueMemberS{Value: pk},
						awsenv.CatalogSK: &types.AttributeValueMemberS{Value: entrySK}})
				}
			}
			prefix := len(entryPKPrefix(source))
			return batchGet(gctx, c, s.catalogTable, req, func(m map[string]types.AttributeValue) error {
				pk, ok := m[awsenv.CatalogPK].(*types.AttributeValueMemberS)
				if !ok {
					return fmt.Errorf("catalog entry without %s", awsenv.CatalogPK)
				}
				mu.Lock()
				out[pk.Value[prefix:]] = true
				mu.Unlock()
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("catalogued entries of %s in %s: %w", source, region, err)
	}
	return out, nil
}

func (s *Store) entryItem(e catalog.Entry) (map[string]types.AttributeValue, error) {
	k := e.Key.String()
	it := entryItem{
		PK: entryPK(e.Source, e.Key), SK: entrySK, Region: e.Region, Source: e.Source, SourceKind: e.SourceKind, RecordKey: k,
		SubjectRef: e.SubjectRef, Category: e.Category, Contract: e.Contract, OriginRegion: e.OriginRegion, HomeRegion: e.HomeRegion,
		Jurisdiction: e.Jurisdiction, Status: e.Status, PolicyVersion: e.PolicyVersion, TaggedAt: e.TaggedAt.UTC().Format(time.RFC3339Nano),
		Erasure: e.Erasure, Reapplied: e.Reapplied,
	}
	if !e.RetainUntil.IsZero() {
		it.RetainUntil = record.FormatTime(e.RetainUntil)
		it.DuePK = duePK(e.RetainUntil.UTC().Format(time.DateOnly), s.shard(e.Source, k))
		it.DueSK = dueSK(e.RetainUntil, e.Source, k)
	}
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("catalog entry of %s: %w", e.Source, err)
	}
	return m, nil
}

func entryOf(m map[string]types.AttributeValue) (catalog.Entry, error) {
	var it entryItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return catalog.Entry{}, fmt.Errorf("catalog entry: %w", err)
	}
	e := catalog.Entry{
		Region: it.Region, Source: it.Source, SourceKind: it.SourceKind, SubjectRef: it.SubjectRef, Category: it.Category,
		Contract: it.Contract, OriginRegion: it.OriginRegion, HomeRegion: it.HomeRegion, Jurisdiction: it.Jurisdiction,
		Status: it.Status, PolicyVersion: it.PolicyVersion, Erasure: it.Erasure, Reapplied: it.Reapplied,
	}
	var err error
	if e.Key, err = record.ParseKey(it.RecordKey); err != nil {
		return e, fmt.Errorf("catalog entry of %s: %w", it.Source, err)
	}
	if it.TaggedAt != "" {
		if e.TaggedAt, err = time.Parse(time.RFC3339Nano, it.TaggedAt); err != nil {
			return e, fmt.Errorf("catalog entry of %s: tagged_at: %w", it.Source, err)
		}
	}
	if it.RetainUntil != "" {
		if e.RetainUntil, err = time.Parse(time.RFC3339, it.RetainUntil); err != nil {
			return e, fmt.Errorf("catalog entry of %s: retain_until: %w", it.Source, err)
		}
	}
	return e, nil
}

// PutEntries writes catalog entries (BatchWriteItem, 25 at a time, retrying
// unprocessed items with backoff).
func (s *Store) PutEntries(ctx context.Context, entries []catalog.Entry) error {
	items := make([]map[string]types.AttributeValue, len(entries))
	for i, e := range entries {
		var err error
		if items[i], err = s.entryItem(e); err != nil {
			return fmt.Errorf("put catalog entries in %s: %w", e.Region, err)
		}
	}
	byRegion, order := writesByRegion(entries, func(i int, _ catalog.Entry) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: items[i]}}
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

// writesByRegion makes each entry's write request (req gets its index), grouped by the entry's
// region (the catalog it lives in), with the regions in order of first
// appearance.
func writesByRegion(entries []catalog.Entry, req func(int, catalog.Entry) types.WriteRequest) (map[string][]types.WriteRequest, []string) {
	byRegion := map[string][]types.WriteRequest{}
	var order []string
	for i, e := range entries {
		if _, ok := byRegion[e.Region]; !ok {
			order = append(order, e.Region)
		}
		byRegion[e.Region] = append(byRegion[e.Region], req(i, e))
	}
	return byRegion, order
}

// batchWrite writes reqs to table 25 at a time (BatchWriteItem's most),
// parallel chunks at a time, retrying each chunk's unprocessed items with
// backoff; the first error cancels the chunks not yet written. Of requests
// for the same item, the last is written, as if they were written in
// order (chunks written at once have no order, and BatchWriteItem refuses
// an item twice in one call).
func (s *Store) batchWrite(ctx context.Context, region, table string, reqs []types.WriteRequest) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	reqs = lastPerItem(reqs)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for chunk := range slices.Chunk(reqs, 25) {
		g.Go(func() error { return writeChunk(ctx, c, table, chunk) })
	}
	return g.Wait()
}

// lastPerItem keeps the last request for each catalog item (by its
// primary key), in the order of the requests kept.
func lastPerItem(reqs []types.WriteRequest) []types.WriteRequest {
	keyOf := func(r types.WriteRequest) string {
		var m map[string]types.AttributeValue
		if r.PutRequest != nil {
			m = r.PutRequest.Item
		} else if r.DeleteRequest != nil {
			m = r.DeleteRequest.Key
		}
		return str(m, awsenv.CatalogPK) + "\x00" + str(m, awsenv.CatalogSK)
	}
	last := make(map[string]int, len(reqs))
	for i, r := range reqs {
		last[keyOf(r)] = i
	}
	if len(last) == len(reqs) {
		return reqs
	}
	out := make([]types.WriteRequest, 0, len(last))
	for i, r := range reqs {
		if last[keyOf(r)] == i {
			out = append(out, r)
		}
	}
	return out
}

func writeChunk(ctx context.Context, c API, table string, chunk []types.WriteRequest) error {
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
