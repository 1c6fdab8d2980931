package dynamostore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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

// ErasedAmong returns which of subjectRefs are on region's erased list
// (BatchGetItem, 100 keys at a time, retrying unprocessed keys with
// backoff).
func (s *Store) ErasedAmong(ctx context.Context, region string, subjectRefs []string) (map[string]catalog.Erased, error) {
	out := map[string]catalog.Erased{}
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	refs := slices.Clone(subjectRefs)
	slices.Sort(refs)
	refs = slices.Compact(refs)
	for chunk := range slices.Chunk(refs, 100) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, r := range chunk {
			keys[i] = erasedKey(r)
		}
		req := map[string]types.KeysAndAttributes{s.catalogTable: {Keys: keys, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := awsadapter.Backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
			}
			for _, m := range res.Responses[s.catalogTable] {
				var it erasedItem
				if err := attributevalue.UnmarshalMap(m, &it); err != nil {
					return nil, fmt.Errorf("erased subjects in %s: %w", region, err)
				}
				at, err := time.Parse(time.RFC3339Nano, it.ErasedAt)
				if err != nil {
					return nil, fmt.Errorf("erased subjects in %s: erased_at %q: %w", region, it.ErasedAt, err)
				}
				out[it.Subject] = catalog.Erased{SubjectRef: it.Subject, RequestID: it.RequestID, ErasedAt: at}
			}
			req = res.UnprocessedKeys
		}
	}
	return out, nil
}
