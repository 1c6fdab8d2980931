package dynamostore

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/ledger"
)

// The ledger's Merkle trees: each entry item holds, in its binary
// attribute "tree", the stored hashes it added (see ledger.TreeBuilder),
// written in the transaction that appends it; no extra transaction item.
// The head item's "tree_size" says how far they reach: a table written
// before the tree has none, and the next append computes them from the
// entries first (backfillTree).

const (
	treeAttr     = "tree"
	treeSizeAttr = "tree_size"
)

var _ ledger.NodeReader = (*Store)(nil)

// ReadTreeNodes implements ledger.NodeReader: BatchGetItem of the entry
// items, their "tree" attribute only (proofs read O(log n) of them).
func (s *Store) ReadTreeNodes(ctx context.Context, region string, seqs []int64) ([][]byte, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	out, err := s.readTreeNodes(ctx, c, region, seqs)
	if err != nil {
		return nil, fmt.Errorf("read the tree of ledger %s: %w", region, err)
	}
	return out, nil
}

func (s *Store) readTreeNodes(ctx context.Context, c API, region string, seqs []int64) ([][]byte, error) {
	out := make([][]byte, len(seqs))
	uniq := slices.Clone(seqs)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	got := make(map[int64][]byte, len(uniq))
	for chunk := range slices.Chunk(uniq, 100) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, seq := range chunk {
			keys[i] = ledgerKey(chainPK(region), seq)
		}
		req := map[string]types.KeysAndAttributes{s.ledgerTable: {Keys: keys, ConsistentRead: aws.Bool(true),
			ProjectionExpression:     aws.String("#s, #t"),
			ExpressionAttributeNames: map[string]string{"#s": awsenv.LedgerSK, "#t": treeAttr}}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := awsadapter.Backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
			res, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, err
			}
			for _, m := range res.Responses[s.ledgerTable] {
				if b, ok := m[treeAttr].(*types.AttributeValueMemberB); ok {
					got[num(m, awsenv.LedgerSK)] = b.Value
				}
			}
			req = res.UnprocessedKeys
		}
	}
	for i, seq := range seqs {
		out[i] = got[seq]
	}
	return out, nil
}

// treeBuilder returns a builder of region's tree, whose stored hashes
// reach head once backfillTree has run for treeSize < head.
func (s *Store) treeBuilder(ctx context.Context, c API, region string) *ledger.TreeBuilder {
	return ledger.NewTreeBuilder(func(seqs []int64) ([][]byte, error) { return s.readTreeNodes(ctx, c, region, seqs) })
}

// backfillTree computes the stored hashes of region's entries after
// treeSize up to head from the entries and writes them onto their items,
// then raises the head's tree_size. The values are a function of the
// chain, so appenders that race here write the same bytes.
func (s *Store) backfillTree(ctx context.Context, c API, region string, treeSize, head int64) error {
	b := s.treeBuilder(ctx, c, region)
	in := &dynamodb.QueryInput{TableName: aws.String(s.ledgerTable), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#p = :p AND #s BETWEEN :lo AND :hi"),
		ProjectionExpression:      aws.String("#s, #h"),
		ExpressionAttributeNames:  map[string]string{"#p": awsenv.LedgerPK, "#s": awsenv.LedgerSK, "#h": "hash"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(chainPK(region)), ":lo": nv(treeSize + 1), ":hi": nv(head)}}
	next := treeSize + 1
	p := dynamodb.NewQueryPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("backfill the tree: %w", err)
		}
		for _, it := range page.Items {
			seq := num(it, awsenv.LedgerSK)
			if seq != next {
				return fmt.Errorf("backfill the tree: the chain has seq %d where seq %d should be", seq, next)
			}
			nodes, err := b.Add(seq, str(it, "hash"))
			if err != nil {
				return fmt.Errorf("backfill the tree: %w", err)
			}
			_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.ledgerTable), Key: ledgerKey(chainPK(region), seq),
				UpdateExpression: aws.String("SET #t = :t"), ConditionExpression: aws.String("attribute_exists(#p)"),
				ExpressionAttributeNames:  map[string]string{"#t": treeAttr, "#p": awsenv.LedgerPK},
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberB{Value: nodes}}})
			if err != nil {
				return fmt.Errorf("backfill the tree: seq %d: %w", seq, err)
			}
			next++
		}
	}
	if next != head+1 {
		return fmt.Errorf("backfill the tree: the chain ends at seq %d, before its head %d", next-1, head)
	}
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.ledgerTable), Key: ledgerKey(headPK(region), 0),
		UpdateExpression: aws.String("SET #z = :n"), ConditionExpression: aws.String("attribute_not_exists(#z) OR #z < :n"),
		ExpressionAttributeNames:  map[string]string{"#z": treeSizeAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": nv(head)}})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("backfill the tree: %w", err)
	}
	return nil
}

// BackfillTree computes the stored hashes region's entries lack (a table
// written before the tree); the digest writer asks for it before it signs
// a chain that no append has extended since.
func (s *Store) BackfillTree(ctx context.Context, region string) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	head, err := s.getLedgerItem(ctx, c, headPK(region), 0)
	if err != nil {
		return fmt.Errorf("ledger head of %s: %w", region, err)
	}
	if size, seq := num(head, treeSizeAttr), num(head, "seq"); size < seq {
		return s.backfillTree(ctx, c, region, size, seq)
	}
	return nil
}
