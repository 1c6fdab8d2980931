package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
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
	listed, err := holdListItemOf(h)
	if err != nil {
		return fmt.Errorf("set hold %s in %s: %w", h.ID, region, err)
	}
	{
		err := s.batchWrite(ctx, region, s.catalogTable, []types.WriteRequest{
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLD#" + h.ID), awsenv.CatalogSK: sv("HOLD"),
				"on": sv(on), "reason": sv(h.Reason), "set_at": sv(h.SetAt.UTC().Format(time.RFC3339))}}},
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv(on), awsenv.CatalogSK: sv("HOLD#" + h.ID),
				"hold_id": sv(h.ID)}}},
			{PutRequest: &types.PutRequest{Item: listed}},
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
		t, err := time.Parse(time.RFC3339Nano, at)
		if err != nil {
			return time.Time{}, fmt.Errorf("contract end in %s: ended_at: %w", s.local, err)
		}
		return t, nil
	}
	return time.Time{}, nil
}

// holdListItem is a hold's entry in the list of holds in force (partition
// "HOLDS"), which the reports list.
type holdListItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	ID      string `dynamodbav:"hold_id"`
	Reason  string `dynamodbav:"reason"`
	SetAt   string `dynamodbav:"set_at"`
	Subject string `dynamodbav:"hold_subject,omitempty"`
	Source  string `dynamodbav:"hold_source,omitempty"`
	Record  string `dynamodbav:"hold_record,omitempty"`
}

func holdListItemOf(h catalog.Hold) (map[string]types.AttributeValue, error) {
	it := holdListItem{PK: "HOLDS", SK: "HOLD#" + h.ID, ID: h.ID, Reason: h.Reason, SetAt: h.SetAt.UTC().Format(time.RFC3339Nano),
		Subject: h.SubjectRef, Source: h.Source}
	if len(h.Key) > 0 {
		it.Record = h.Key.String()
	}
	return attributevalue.MarshalMap(it)
}

func holdOf(m map[string]types.AttributeValue) (catalog.Hold, error) {
	var it holdListItem
	if err := attributevalue.UnmarshalMap(m, &it); err != nil {
		return catalog.Hold{}, err
	}
	h := catalog.Hold{ID: it.ID, SubjectRef: it.Subject, Source: it.Source, Reason: it.Reason}
	var err error
	if it.SetAt != "" {
		if h.SetAt, err = time.Parse(time.RFC3339Nano, it.SetAt); err != nil {
			return h, fmt.Errorf("hold %s: set_at: %w", h.ID, err)
		}
	}
	if it.Record != "" {
		if h.Key, err = record.ParseKey(it.Record); err != nil {
			return h, fmt.Errorf("hold %s: %w", h.ID, err)
		}
	}
	return h, nil
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
			h, err := holdOf(it)
			if err != nil {
				return nil, fmt.Errorf("list holds: %w", err)
			}
			out = append(out, h)
		}
	}
	return out, nil
}
