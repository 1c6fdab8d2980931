package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// The retention sweep's batch operations. DynamoDB has no conditional batch
// delete and no batch query, so the per-record requests of a batch run a
// few at a time.

// parallel is how many requests of one batch are in flight at once: the
// SDK's HTTP client keeps 10 idle connections a host, and a Lambda function
// with 1,769 MB or less has one vCPU to encode and decode them.
const parallel = 8

// each runs fn(i) for i in [0, n), parallel at a time, and waits.
func each(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	var g errgroup.Group
	g.SetLimit(parallel)
	for i := range n {
		g.Go(func() error { fn(i); return nil })
	}
	g.Wait()
}

// DeleteItems deletes a batch of items, each as DeleteItem does (with a
// RetainUntil, only if the item's tag still carries it); per-record errors
// are in the slice (ErrNotFound, ErrConditionFailed, or the request's).
func (s *Store) DeleteItems(ctx context.Context, region, table string, dels []record.Delete) ([]error, error) {
	errs := make([]error, len(dels))
	each(len(dels), func(i int) {
		errs[i] = s.DeleteItem(ctx, region, table, dels[i].Key, dels[i].RetainUntil)
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return errs, nil
}

// DeleteEntries removes catalog entries (BatchWriteItem, 25 at a time, in
// each entry's region); absent ones are not an error.
func (s *Store) DeleteEntries(ctx context.Context, entries []catalog.Entry) error {
	byRegion, order := writesByRegion(entries, func(_ int, e catalog.Entry) types.WriteRequest {
		return types.WriteRequest{DeleteRequest: &types.DeleteRequest{
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv(entryPK(e.Source, e.Key)), awsenv.CatalogSK: sv(entrySK)}}}
	})
	for _, r := range order {
		if err := s.batchWrite(ctx, r, s.catalogTable, byRegion[r]); err != nil {
			return fmt.Errorf("delete catalog entries in %s: %w", r, err)
		}
	}
	return nil
}

// HoldsOn returns, for each entry, the id of a hold on its subject or on the
// record itself, or "": one query per distinct subject and record, a few at
// a time.
func (s *Store) HoldsOn(ctx context.Context, entries []catalog.Entry) ([]string, error) {
	c, err := s.client(s.local)
	if err != nil {
		return nil, err
	}
	var ons []string
	seen := map[string]bool{}
	for _, e := range entries {
		for _, on := range holdOns(e) {
			if !seen[on] {
				seen[on] = true
				ons = append(ons, on)
			}
		}
	}
	ids := make([]string, len(ons))
	errs := make([]error, len(ons))
	each(len(ons), func(i int) {
		out, err := c.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), Limit: aws.Int32(1), ConsistentRead: aws.Bool(true),
			KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.CatalogPK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(ons[i])}})
		if err != nil {
			errs[i] = err
			return
		}
		if len(out.Items) > 0 {
			ids[i] = str(out.Items[0], "hold_id")
		}
	})
	found := map[string]string{}
	for i, on := range ons {
		if errs[i] != nil {
			return nil, fmt.Errorf("look up holds: %w", errs[i])
		}
		found[on] = ids[i]
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		for _, on := range holdOns(e) {
			if id := found[on]; id != "" {
				out[i] = id
				break
			}
		}
	}
	return out, nil
}

// holdOns are the partitions where holds covering e live: its subject's,
// then its record's.
func holdOns(e catalog.Entry) []string {
	rec := holdOnPK(catalog.Hold{Source: e.Source, Key: e.Key})
	if e.SubjectRef == "" {
		return []string{rec}
	}
	return []string{holdOnPK(catalog.Hold{SubjectRef: e.SubjectRef}), rec}
}

// RemoveDeleted removes the catalog entries of records deleted by at (the
// tagger, on their REMOVE stream records), except those due by then: a due
// record may have been deleted by a retention sweep that stopped before its
// receipt, and its entry is how the next sweep finds it and writes the
// receipt. One conditional delete each, a few at a time.
func (s *Store) RemoveDeleted(ctx context.Context, entries []catalog.Entry, at time.Time) error {
	errs := make([]error, len(entries))
	each(len(entries), func(i int) {
		e := entries[i]
		c, err := s.client(e.Region)
		if err != nil {
			errs[i] = err
			return
		}
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable),
			Key:                       map[string]types.AttributeValue{awsenv.CatalogPK: sv(entryPK(e.Source, e.Key)), awsenv.CatalogSK: sv(entrySK)},
			ConditionExpression:       aws.String("attribute_not_exists(#u) OR #u > :at"),
			ExpressionAttributeNames:  map[string]string{"#u": "retain_until"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":at": sv(record.FormatTime(at))},
		})
		if err != nil && !isCondFailed(err) {
			errs[i] = fmt.Errorf("remove catalog entry in %s: %w", e.Region, err)
		}
	})
	return errors.Join(errs...)
}
