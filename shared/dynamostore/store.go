package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the DynamoDB store of a deployment: one client per region.
type Store struct {
	local        string
	clients      map[string]API
	catalogTable string
	ledgerTable  string
	shards       int
}

// Option configures a Store.
type Option func(*Store)

// WithTables sets the catalog and ledger table names (default awsenv's).
func WithTables(catalogTable, ledgerTable string) Option {
	return func(s *Store) { s.catalogTable, s.ledgerTable = catalogTable, ledgerTable }
}

// WithShards sets how many partitions one day of the due index is spread
// over (default 16), so one day's deletions do not all hit one partition.
func WithShards(n int) Option { return func(s *Store) { s.shards = n } }

// New returns the store of the stack in region local, over clients, one per
// region of the deployment (local's included). Holds and contract ends live
// in the local region's catalog: the stacks' rules deliver those events to
// every region, and no region writes another's catalog.
func New(local string, clients map[string]API, opts ...Option) *Store {
	s := &Store{local: local, clients: clients, catalogTable: awsenv.DefaultCatalogTable, ledgerTable: awsenv.DefaultLedgerTable, shards: 16}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Store) client(region string) (API, error) {
	c, ok := s.clients[region]
	if !ok {
		return nil, fmt.Errorf("no DynamoDB client for region %q (a region of this deployment?)", region)
	}
	return c, nil
}

func isCondFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}
