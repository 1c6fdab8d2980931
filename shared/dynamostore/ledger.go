package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/ledger"
)

// entriesPerTransaction: each new entry takes two transaction items (the
// entry, which carries its Merkle tree hashes, and its idempotency item),
// plus the head update once per transaction; DynamoDB allows 100 items in
// a transaction.
const entriesPerTransaction = 49

// maxAppendAttempts bounds the retries when concurrent appenders race for
// the head.
const maxAppendAttempts = 100

func chainPK(region string) string  { return "CHAIN#" + region }
func headPK(region string) string   { return "HEAD#" + region }
func idPK(region, id string) string { return "ID#" + region + "#" + id }
func timePK(region string, t time.Time) string {
	return "CHAIN#" + region + "#" + t.UTC().Format("2006-01")
}

func ledgerKey(pk string, sk int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{awsenv.LedgerPK: sv(pk), awsenv.LedgerSK: nv(sk)}
}

func entryAttrs(e ledger.Entry) map[string]types.AttributeValue {
	m := ledgerKey(chainPK(e.Region), e.Seq)
	m[awsenv.TimeIndexPK] = sv(timePK(e.Region, e.Time))
	m[awsenv.TimeIndexSK] = sv(sortKey(e.Time, e.Seq))
	for k, v := range map[string]string{
		"id": e.ID, "time": e.Time.UTC().Format(time.RFC3339Nano), "kind": string(e.Kind), "region": e.Region, "source": e.Source,
		"record": e.Record, "subject_ref": e.SubjectRef, "category": e.Category, "from_region": e.FromRegion,
		"from_country": e.FromCountry, "to_region": e.ToRegion, "to_country": e.ToCountry, "importer": e.Importer,
		"mechanism": e.Mechanism, "reference": e.Reference, "decision": e.Decision, "policy_version": e.PolicyVersion,
		"actor": e.Actor, "prev_hash": e.PrevHash, "hash": e.Hash,
	} {
		if v != "" {
			m[k] = sv(v)
		}
	}
	if e.ExposedMS != nil {
		m["exposed_ms"] = nv(*e.ExposedMS)
	}
	return m
}

func entryFrom(m map[string]types.AttributeValue) ledger.Entry {
	e := ledger.Entry{
		Seq: num(m, awsenv.LedgerSK), ID: str(m, "id"), Kind: ledger.Kind(str(m, "kind")), Region: str(m, "region"), Source: str(m, "source"),
		Record: str(m, "record"), SubjectRef: str(m, "subject_ref"), Category: str(m, "category"), FromRegion: str(m, "from_region"),
		FromCountry: str(m, "from_country"), ToRegion: str(m, "to_region"), ToCountry: str(m, "to_country"), Importer: str(m, "importer"),
		Mechanism: str(m, "mechanism"), Reference: str(m, "reference"), Decision: str(m, "decision"), PolicyVersion: str(m, "policy_version"),
		Actor: str(m, "actor"), PrevHash: str(m, "prev_hash"), Hash: str(m, "hash"),
	}
	e.Time, _ = time.Parse(time.RFC3339Nano, str(m, "time"))
	if _, ok := m["exposed_ms"].(*types.AttributeValueMemberN); ok {
		ms := num(m, "exposed_ms")
		e.ExposedMS = &ms
	}
	return e
}

func (s *Store) getLedgerItem(ctx context.Context, c API, pk string, sk int64) (map[string]types.AttributeValue, error) {
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.ledgerTable), Key: ledgerKey(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// Append links drafts onto region's chain and returns the stored entries in
// order; a draft whose id the chain holds already is returned as stored. It
// writes with transactions conditional on the head, so concurrent appenders
// never fork the chain: the loser re-reads the head and tries again.
func (s *Store) Append(ctx context.Context, region string, drafts []ledger.Entry) ([]ledger.Entry, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	out := make([]ledger.Entry, 0, len(drafts))
	for len(drafts) > 0 {
		chunk := drafts[:min(entriesPerTransaction, len(drafts))]
		stored, err := s.appendChunk(ctx, c, region, chunk)
		if err != nil {
			return out, fmt.Errorf("append to ledger %s: %w", region, err)
		}
		out = append(out, stored...)
		drafts = drafts[len(chunk):]
	}
	return out, nil
}

func (s *Store) appendChunk(ctx context.Context, c API, region string, drafts []ledger.Entry) ([]ledger.Entry, error) {
	for _, d := range drafts {
		if d.Region != region {
			return nil, fmt.Errorf("%w: entry %s is for chain %q, not %q", ledger.ErrInvalid, d.ID, d.Region, region)
		}
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt >= maxAppendAttempts {
				return nil, fmt.Errorf("the head kept moving: %d attempts", attempt)
			}
			if err := awsadapter.Backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		// The head and the tree's stored hashes it extends, and beside
		// them the drafts' ids: two round trips one after another, not
		// three. (An id another appender writes meanwhile fails this
		// transaction's conditions, and the next attempt reads it.)
		var head ledger.Head
		var known map[string]ledger.Entry
		tree := s.treeBuilder(ctx, c, region)
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error {
			headItem, err := s.getLedgerItem(gctx, c, headPK(region), 0)
			if err != nil {
				return err
			}
			head = ledger.Head{Seq: num(headItem, "seq"), Hash: str(headItem, "hash")}
			if num(headItem, treeSizeAttr) < head.Seq {
				if err := s.backfillTree(gctx, c, region, num(headItem, treeSizeAttr), head.Seq); err != nil {
					return err
				}
			}
			return tree.Prefetch(head.Seq)
		})
		g.Go(func() (err error) {
			known, err = s.storedIDs(gctx, c, region, drafts)
			return err
		})
		if err := g.Wait(); err != nil {
			return nil, err
		}
		prevSeq := head.Seq
		out := make([]ledger.Entry, 0, len(drafts))
		var tx []types.TransactWriteItem
		seen := map[string]int{}
		for _, d := range drafts {
			if i, ok := seen[d.ID]; ok {
				out = append(out, out[i])
				continue
			}
			if stored, ok := known[d.ID]; ok {
				seen[d.ID] = len(out)
				out = append(out, stored)
				continue
			}
			var e ledger.Entry
			e, head = ledger.Link(head, d)
			seen[d.ID] = len(out)
			out = append(out, e)
			nodes, err := tree.Add(e.Seq, e.Hash)
			if err != nil {
				return nil, err
			}
			item := entryAttrs(e)
			item[treeAttr] = &types.AttributeValueMemberB{Value: nodes}
			notExists := aws.String("attribute_not_exists(#p)")
			names := map[string]string{"#p": awsenv.LedgerPK}
			tx = append(tx,
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.ledgerTable), Item: item,
					ConditionExpression: notExists, ExpressionAttributeNames: names}},
				types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.ledgerTable),
					Item:                withAttrs(ledgerKey(idPK(region, d.ID), 0), "seq", nv(e.Seq)),
					ConditionExpression: notExists, ExpressionAttributeNames: names}},
			)
		}
		if len(tx) == 0 {
			return out, nil
		}
		upd := &types.Update{TableName: aws.String(s.ledgerTable), Key: ledgerKey(headPK(region), 0),
			UpdateExpression:          aws.String("SET #s = :new, #h = :hash, #z = :new"),
			ExpressionAttributeNames:  map[string]string{"#s": "seq", "#h": "hash", "#z": treeSizeAttr},
			ExpressionAttributeValues: map[string]types.AttributeValue{":new": nv(head.Seq), ":hash": sv(head.Hash), ":prev": nv(prevSeq)},
		}
		if prevSeq == 0 {
			upd.ConditionExpression = aws.String("attribute_not_exists(#s) OR #s = :prev")
		} else {
			upd.ConditionExpression = aws.String("#s = :prev")
		}
		tx = append(tx, types.TransactWriteItem{Update: upd})
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
		var canceled *types.TransactionCanceledException
		var conflict *types.TransactionConflictException
		if errors.As(err, &canceled) || errors.As(err, &conflict) || isCondFailed(err) {
			continue // another appender moved the head (or wrote one of these ids): re-read
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// storedIDs returns the entries region's chain holds already for the
// drafts' ids, by id: their id items, then those items' entries, each with
// one strongly consistent BatchGetItem (a chunk has at most
// entriesPerTransaction drafts, under BatchGetItem's 100 keys), rather than
// a GetItem per draft one after another (docs/capacity.md: most of a
// ledger batch's time, and the chain's first bottleneck from 10x on).
func (s *Store) storedIDs(ctx context.Context, c API, region string, drafts []ledger.Entry) (map[string]ledger.Entry, error) {
	var keys []map[string]types.AttributeValue
	asked := map[string]bool{}
	for _, d := range drafts {
		if !asked[d.ID] { // BatchGetItem refuses a key twice
			asked[d.ID] = true
			keys = append(keys, ledgerKey(idPK(region, d.ID), 0))
		}
	}
	prefix := idPK(region, "")
	idAt := map[int64]string{} // seq -> id
	err := batchGet(ctx, c, s.ledgerTable, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(m map[string]types.AttributeValue) error {
		idAt[num(m, "seq")] = strings.TrimPrefix(str(m, awsenv.LedgerPK), prefix)
		return nil
	})
	if err != nil || len(idAt) == 0 {
		return nil, err
	}
	keys = keys[:0]
	for seq := range idAt {
		keys = append(keys, ledgerKey(chainPK(region), seq))
	}
	out := make(map[string]ledger.Entry, len(idAt))
	err = batchGet(ctx, c, s.ledgerTable, types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}, func(m map[string]types.AttributeValue) error {
		e := entryFrom(m)
		out[idAt[e.Seq]] = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	for seq, id := range idAt {
		if _, ok := out[id]; !ok {
			return nil, fmt.Errorf("the id item of %s names entry %d, which the chain does not hold", id, seq)
		}
	}
	return out, nil
}

func withAttrs(m map[string]types.AttributeValue, kv ...any) map[string]types.AttributeValue {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return m
}

// Chains returns the regions whose ledger has entries.
func (s *Store) Chains(ctx context.Context) ([]string, error) {
	var out []string
	for region, c := range s.clients {
		head, err := s.getLedgerItem(ctx, c, headPK(region), 0)
		if err != nil {
			return nil, fmt.Errorf("ledger head of %s: %w", region, err)
		}
		if num(head, "seq") > 0 {
			out = append(out, region)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ScanChain calls fn with every entry of region's chain in seq order.
func (s *Store) ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String(s.ledgerTable), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.LedgerPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(chainPK(region))}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("scan ledger %s: %w", region, err)
		}
		for _, it := range page.Items {
			e := entryFrom(it)
			if err := fn(&e); err != nil {
				return err
			}
		}
	}
	return nil
}

// ScanChainAfter calls fn with at most limit entries (limit <= 0: all) of
// region's chain whose seq is above afterSeq, in seq order.
func (s *Store) ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	in := &dynamodb.QueryInput{TableName: aws.String(s.ledgerTable), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#p = :p AND #s > :after"),
		ExpressionAttributeNames:  map[string]string{"#p": awsenv.LedgerPK, "#s": awsenv.LedgerSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(chainPK(region)), ":after": nv(afterSeq)}}
	return s.query(ctx, c, in, limit, fn)
}

// query pages through a ledger query, calling fn with up to limit entries.
func (s *Store) query(ctx context.Context, c API, in *dynamodb.QueryInput, limit int, fn func(*ledger.Entry) error) error {
	n := 0
	p := dynamodb.NewQueryPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		for _, it := range page.Items {
			if limit > 0 && n == limit {
				return nil
			}
			e := entryFrom(it)
			if err := fn(&e); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

// ScanLedgerAfter calls fn with at most limit entries of the local region's
// chain matching q (limit <= 0: all) after the entry at after's (time, seq),
// in time order, reading the time index month by month. A deployed reports
// function reads its own region's ledger only.
func (s *Store) ScanLedgerAfter(ctx context.Context, q ledger.Query, after *ledger.Entry, limit int, fn func(*ledger.Entry) error) error {
	region := s.local
	if q.Region != "" && q.Region != region {
		return nil
	}
	c, err := s.client(region)
	if err != nil {
		return err
	}
	from := q.From
	if from.IsZero() {
		// The chain's first entry bounds the months to read.
		first, err := s.getLedgerItem(ctx, c, chainPK(region), 1)
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		if first == nil {
			return nil
		}
		from = entryFrom(first).Time
	}
	to := q.To
	if to.IsZero() {
		to = time.Now().Add(24 * time.Hour)
	}
	lower := sortKey(from, 0)
	if after != nil && sortKey(after.Time, after.Seq) > lower {
		lower = sortKey(after.Time, after.Seq)
		from = after.Time
	}
	kinds := map[ledger.Kind]bool{}
	for _, k := range q.Kinds {
		kinds[k] = true
	}
	n := 0
	stop := errors.New("limit")
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		in := &dynamodb.QueryInput{TableName: aws.String(s.ledgerTable), IndexName: aws.String(awsenv.TimeIndex),
			KeyConditionExpression:    aws.String("#p = :p AND #s BETWEEN :lo AND :hi"),
			ExpressionAttributeNames:  map[string]string{"#p": awsenv.TimeIndexPK, "#s": awsenv.TimeIndexSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(timePK(region, m)), ":lo": sv(lower), ":hi": sv(sortKey(to, 0))}}
		err := s.query(ctx, c, in, 0, func(e *ledger.Entry) error {
			if after != nil && sortKey(e.Time, e.Seq) <= sortKey(after.Time, after.Seq) {
				return nil
			}
			if !e.Time.Before(to) || (len(kinds) > 0 && !kinds[e.Kind]) {
				return nil
			}
			if limit > 0 && n == limit {
				return stop
			}
			n++
			return fn(e)
		})
		if errors.Is(err, stop) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func sortKey(t time.Time, seq int64) string {
	return fmt.Sprintf("%s#%020d", t.UTC().Format("2006-01-02T15:04:05.000000000Z"), seq)
}
