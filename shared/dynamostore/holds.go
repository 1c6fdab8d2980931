package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

func holdOnPK(h catalog.Hold) string {
	if h.SubjectRef != "" {
		return "HOLDON#sub#" + h.SubjectRef
	}
	return "HOLDON#rec#" + h.Source + "#" + h.Key.String()
}

// SetHold records a legal hold in the local region's catalog.
func (s *Store) SetHold(ctx context.Context, h catalog.Hold) error {
	on := holdOnPK(h)
	region := s.local
	{
		err := s.batchWrite(ctx, region, s.catalogTable, []types.WriteRequest{
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLD#" + h.ID), awsenv.CatalogSK: sv("HOLD"),
				"on": sv(on), "reason": sv(h.Reason), "set_at": sv(h.SetAt.UTC().Format(time.RFC3339))}}},
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv(on), awsenv.CatalogSK: sv("HOLD#" + h.ID),
				"hold_id": sv(h.ID)}}},
			{PutRequest: &types.PutRequest{Item: holdListItem(h)}},
		})
		if err != nil {
			return fmt.Errorf("set hold %s in %s: %w", h.ID, region, err)
		}
	}
	return nil
}

// ReleaseHold removes a hold; it reports whether it existed.
func (s *Store) ReleaseHold(ctx context.Context, id string) (bool, error) {
	existed := false
	region := s.local
	c, err := s.client(region)
	if err != nil {
		return false, err
	}
	{
		out, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable), ReturnValues: types.ReturnValueAllOld,
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLD#" + id), awsenv.CatalogSK: sv("HOLD")}})
		if err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
		on := str(out.Attributes, "on")
		if on == "" {
			return false, nil
		}
		existed = true
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable),
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLDS"), awsenv.CatalogSK: sv("HOLD#" + id)}}); err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable),
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv(on), awsenv.CatalogSK: sv("HOLD#" + id)}}); err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
	}
	return existed, nil
}

// EndContract records when a contract ended.
func (s *Store) EndContract(ctx context.Context, contract string, endedAt time.Time) error {
	c, err := s.client(s.local)
	if err != nil {
		return err
	}
	{
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.catalogTable), Item: map[string]types.AttributeValue{
			awsenv.CatalogPK: sv("CONTRACT#" + contract), awsenv.CatalogSK: sv("END"), "ended_at": sv(endedAt.UTC().Format(time.RFC3339Nano))}})
		if err != nil {
			return fmt.Errorf("end contract in %s: %w", s.local, err)
		}
	}
	return nil
}

// ContractEnd returns when a contract ended, or the zero time.
func (s *Store) ContractEnd(ctx context.Context, contract string) (time.Time, error) {
	if contract == "" {
		return time.Time{}, nil
	}
	c, err := s.client(s.local)
	if err != nil {
		return time.Time{}, err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.catalogTable),
		Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("CONTRACT#" + contract), awsenv.CatalogSK: sv("END")}})
	if err != nil {
		return time.Time{}, fmt.Errorf("contract end in %s: %w", s.local, err)
	}
	if at := str(out.Item, "ended_at"); at != "" {
		t, _ := time.Parse(time.RFC3339Nano, at)
		return t, nil
	}
	return time.Time{}, nil
}

// holdListItem is a hold's entry in the list of holds in force (partition
// "HOLDS"), which the reports list.
func holdListItem(h catalog.Hold) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLDS"), awsenv.CatalogSK: sv("HOLD#" + h.ID), "hold_id": sv(h.ID),
		"reason": sv(h.Reason), "set_at": sv(h.SetAt.UTC().Format(time.RFC3339Nano))}
	if h.SubjectRef != "" {
		m["hold_subject"] = sv(h.SubjectRef)
	}
	if h.Source != "" {
		m["hold_source"] = sv(h.Source)
	}
	if len(h.Key) > 0 {
		m["hold_record"] = sv(h.Key.String())
	}
	return m
}

// ListHolds returns the legal holds in force in the local region, by id.
func (s *Store) ListHolds(ctx context.Context) ([]catalog.Hold, error) {
	c, err := s.client(s.local)
	if err != nil {
		return nil, err
	}
	var out []catalog.Hold
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.CatalogPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("HOLDS")}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		for _, it := range page.Items {
			h := catalog.Hold{ID: str(it, "hold_id"), SubjectRef: str(it, "hold_subject"), Source: str(it, "hold_source"), Reason: str(it, "reason")}
			h.SetAt, _ = time.Parse(time.RFC3339Nano, str(it, "set_at"))
			if k := str(it, "hold_record"); k != "" {
				h.Key, _ = record.ParseKey(k)
			}
			out = append(out, h)
		}
	}
	return out, nil
}
