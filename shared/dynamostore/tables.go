package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/record"
)

// GetItem reads an item with a consistent read.
func (s *Store) GetItem(ctx context.Context, region, table string, key record.Key) (record.Item, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	k, err := fromKey(key)
	if err != nil {
		return nil, err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, record.ErrNotFound)
	}
	return toItem(out.Item)
}

func firstKeyName(key record.Key) string {
	for k := range key {
		return k
	}
	return ""
}

// PutItem writes an item; with ifAbsent it fails with ErrConditionFailed
// when one exists.
func (s *Store) PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	av, err := fromItem(item)
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: av}
	if ifAbsent {
		in.ConditionExpression = aws.String("attribute_not_exists(#k)")
		in.ExpressionAttributeNames = map[string]string{"#k": firstKeyName(key)}
	}
	if _, err := c.PutItem(ctx, in); err != nil {
		if isCondFailed(err) {
			return fmt.Errorf("put %s/%s: %w", region, table, record.ErrConditionFailed)
		}
		return fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	return nil
}

// UpdateTag sets the residency tag of an existing item (ErrNotFound when the
// item is gone: a deleted record is never resurrected).
func (s *Store) UpdateTag(ctx context.Context, region, table string, key record.Key, tag record.Tag) error {
	return s.updateTag(ctx, region, table, record.TagWrite{Key: key, Tag: tag})
}

// updateTag writes w's tag, and its TTL attribute if it has one.
func (s *Store) updateTag(ctx context.Context, region, table string, w record.TagWrite) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	k, err := fromKey(w.Key)
	if err != nil {
		return err
	}
	tv, err := fromValue(w.Tag.Map())
	if err != nil {
		return err
	}
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: k,
		UpdateExpression:          aws.String("SET #r = :t"),
		ConditionExpression:       aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames:  map[string]string{"#r": record.TagAttribute, "#k": firstKeyName(w.Key)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": tv},
	}
	if w.TTLAttribute != "" {
		in.ExpressionAttributeNames["#x"] = w.TTLAttribute
		if w.TTL != 0 {
			in.UpdateExpression = aws.String("SET #r = :t, #x = :x")
			in.ExpressionAttributeValues[":x"] = nv(w.TTL)
		} else {
			in.UpdateExpression = aws.String("SET #r = :t REMOVE #x")
		}
	}
	_, err = c.UpdateItem(ctx, in)
	if isCondFailed(err) {
		return fmt.Errorf("tag %s/%s: %w", region, table, record.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("tag %s/%s: %w", region, table, err)
	}
	return nil
}

// UpdateTags sets the tags of a batch of records, one conditional update
// each (DynamoDB has no batch update), parallel at a time; per-record
// errors are in the slice.
func (s *Store) UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error) {
	errs := make([]error, len(writes))
	each(len(writes), func(i int) {
		errs[i] = s.updateTag(ctx, region, table, writes[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return errs, nil
}

// DeleteItem deletes an item; with retainUntil, only if its tag still
// carries that retain_until (ErrConditionFailed otherwise). ErrNotFound when
// it is gone.
func (s *Store) DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	k, err := fromKey(key)
	if err != nil {
		return err
	}
	in := &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k,
		ConditionExpression: aws.String("attribute_exists(#k)"), ExpressionAttributeNames: map[string]string{"#k": firstKeyName(key)}}
	if retainUntil != "" {
		in.ConditionExpression = aws.String("#r.#u = :u")
		in.ExpressionAttributeNames = map[string]string{"#r": record.TagAttribute, "#u": "retain_until"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":u": sv(retainUntil)}
	}
	// A failed condition returns the item as it is, if there is one: gone
	// and changed are told apart without reading it again.
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = c.DeleteItem(ctx, in)
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		if len(cf.Item) == 0 {
			return fmt.Errorf("delete %s/%s: %w", region, table, record.ErrNotFound)
		}
		return fmt.Errorf("delete %s/%s: %w", region, table, record.ErrConditionFailed)
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", region, table, err)
	}
	return nil
}

// GetItems reads the items under keys in region's table with consistent
// reads, 100 keys a BatchGetItem (a few at a time): out[i] is the item under
// keys[i], nil when there is none. Every key names the same attributes (the
// table's key schema).
func (s *Store) GetItems(ctx context.Context, region, table string, keys []record.Key) ([]record.Item, error) {
	out := make([]record.Item, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(keys[0]))
	for n := range keys[0] {
		names = append(names, n)
	}
	// Keys are matched to the items found by the key attributes' values, as
	// the SDK's AttributeValues read back.
	// Each distinct key once (BatchGetItem refuses a key named twice), and
	// the slots it fills.
	at := map[string][]int{}
	var distinct []map[string]types.AttributeValue
	for i, k := range keys {
		av, err := fromKey(k)
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
		}
		id, err := keyID(av, names)
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
		}
		if at[id] == nil {
			distinct = append(distinct, av)
		}
		at[id] = append(at[id], i)
	}
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(parallel)
	for start := 0; start < len(distinct); start += 100 {
		chunk := distinct[start:min(len(distinct), start+100)]
		g.Go(func() error {
			return batchGet(ctx, c, table, types.KeysAndAttributes{Keys: chunk, ConsistentRead: aws.Bool(true)}, func(m map[string]types.AttributeValue) error {
				id, err := keyID(m, names)
				if err != nil {
					return err
				}
				it, err := toItem(m)
				if err != nil {
					return err
				}
				mu.Lock()
				for _, i := range at[id] {
					out[i] = it
				}
				mu.Unlock()
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	return out, nil
}

// keyID is the values of the key attributes names of m, as one comparable
// string.
func keyID(m map[string]types.AttributeValue, names []string) (string, error) {
	k := make(map[string]types.AttributeValue, len(names))
	for _, n := range names {
		k[n] = m[n]
	}
	it, err := toItem(k)
	if err != nil {
		return "", err
	}
	return record.Key(it).String(), nil
}

// PutItems writes a batch of items in region's table, each as PutItem does
// (with IfAbsent, only where no item is; DynamoDB's BatchWriteItem takes no
// condition, so these are conditional PutItems, a few at a time); per-item
// errors are in the slice.
func (s *Store) PutItems(ctx context.Context, region, table string, puts []record.Put) ([]error, error) {
	errs := make([]error, len(puts))
	each(len(puts), func(i int) {
		errs[i] = s.PutItem(ctx, region, table, puts[i].Key, puts[i].Item, puts[i].IfAbsent)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return errs, nil
}
