package dynamostore

import (
	"context"
	"fmt"
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
)

// The erased list lives in each region's catalog table, one item a
// subject: pk ERASED#<subject reference>, sk ERASED.
const erasedSK = "ERASED"

type erasedItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Subject   string `dynamodbav:"erased_subject"`
	RequestID string `dynamodbav:"request_id"`
	ErasedAt  string `dynamodbav:"erased_at"`
}

func erasedKey(subjectRef string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{awsenv.CatalogPK: sv("ERASED#" + subjectRef), awsenv.CatalogSK: sv(erasedSK)}
}

// MarkErased puts subjects on region's erased list (replacing an earlier
// request's mark).
func (s *Store) MarkErased(ctx context.Context, region string, erased []catalog.Erased) error {
	reqs := make([]types.WriteRequest, 0, len(erased))
	for _, e := range erased {
		m, err := attributevalue.MarshalMap(erasedItem{PK: "ERASED#" + e.SubjectRef, SK: erasedSK, Subject: e.SubjectRef,
			RequestID: e.RequestID, ErasedAt: e.ErasedAt.UTC().Format(time.RFC3339Nano)})
		if err != nil {
			return fmt.Errorf("mark erased in %s: %w", region, err)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: m}})
	}
	if err := s.batchWrite(ctx, region, s.catalogTable, reqs); err != nil {
		return fmt.Errorf("mark erased in %s: %w", region, err)
	}
	return nil
}

// erasedLookups is how many BatchGetItem calls of one lookup run at once:
// the tagger asks for a stream batch's subjects (up to 1,000, ten calls).
const erasedLookups = 4

// ErasedAmong returns which of subjectRefs are on region's erased list
// (BatchGetItem, 100 keys a call, a few calls at once, retrying unprocessed
// keys with backoff).
func (s *Store) ErasedAmong(ctx context.Context, region string, subjectRefs []string) (map[string]catalog.Erased, error) {
	out := map[string]catalog.Erased{}
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	refs := slices.Clone(subjectRefs)
	slices.Sort(refs)
	refs = slices.Compact(refs)
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(erasedLookups)
	for chunk := range slices.Chunk(refs, 100) {
		g.Go(func() error { return s.erasedChunk(ctx, c, region, chunk, &mu, out) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// erasedChunk looks up at most 100 subjects and adds those erased to out.
func (s *Store) erasedChunk(ctx context.Context, c API, region string, chunk []string, mu *sync.Mutex, out map[string]catalog.Erased) error {
	keys := make([]map[string]types.AttributeValue, len(chunk))
	for i, r := range chunk {
		keys[i] = erasedKey(r)
	}
	err := batchGet(ctx, c, s.catalogTable, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(m map[string]types.AttributeValue) error {
		var it erasedItem
		if err := attributevalue.UnmarshalMap(m, &it); err != nil {
			return err
		}
		at, err := time.Parse(time.RFC3339Nano, it.ErasedAt)
		if err != nil {
			return fmt.Errorf("erased_at %q: %w", it.ErasedAt, err)
		}
		mu.Lock()
		out[it.Subject] = catalog.Erased{SubjectRef: it.Subject, RequestID: it.RequestID, ErasedAt: at}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("erased subjects in %s: %w", region, err)
	}
	return nil
}

// batchGet reads at most 100 keys of table with one BatchGetItem, retrying
// its unprocessed keys with backoff, and calls each with every item found.
func batchGet(ctx context.Context, c API, table string, ka types.KeysAndAttributes, each func(map[string]types.AttributeValue) error) error {
	req := map[string]types.KeysAndAttributes{table: ka}
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt > 0 {
			if err := awsadapter.Backoff(ctx, attempt); err != nil {
				return err
			}
		}
		res, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return err
		}
		for _, m := range res.Responses[table] {
			if err := each(m); err != nil {
				return err
			}
		}
		req = res.UnprocessedKeys
	}
	return nil
}
