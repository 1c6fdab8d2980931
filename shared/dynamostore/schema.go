package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
)

// TableCreator is the part of the DynamoDB client CreateTables uses.
type TableCreator interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

// CreateTables creates the catalog and ledger tables with the key schemas
// of package awsenv (on-demand). The CDK stack creates them on AWS; this is
// for tests and local endpoints such as moto_server. Existing tables are
// left alone.
func CreateTables(ctx context.Context, c TableCreator, catalogTable, ledgerTable string) error {
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sk), KeyType: types.KeyTypeRange}}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	inputs := []*dynamodb.CreateTableInput{
		{
			TableName: aws.String(catalogTable), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{str(awsenv.CatalogPK), str(awsenv.CatalogSK), str(awsenv.DueIndexPK),
				str(awsenv.DueIndexSK), str(awsenv.SubjectIndexPK), str(awsenv.ContractIndexPK)},
			KeySchema: key(awsenv.CatalogPK, awsenv.CatalogSK),
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				{IndexName: aws.String(awsenv.DueIndex), KeySchema: key(awsenv.DueIndexPK, awsenv.DueIndexSK), Projection: all},
				{IndexName: aws.String(awsenv.SubjectIndex), KeySchema: key(awsenv.SubjectIndexPK, awsenv.CatalogPK), Projection: all},
				{IndexName: aws.String(awsenv.ContractIndex), KeySchema: key(awsenv.ContractIndexPK, awsenv.CatalogPK), Projection: all},
			},
		},
		{
			TableName: aws.String(ledgerTable), BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{str(awsenv.LedgerPK),
				{AttributeName: aws.String(awsenv.LedgerSK), AttributeType: types.ScalarAttributeTypeN},
				str(awsenv.TimeIndexPK), str(awsenv.TimeIndexSK)},
			KeySchema: key(awsenv.LedgerPK, awsenv.LedgerSK),
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				{IndexName: aws.String(awsenv.TimeIndex), KeySchema: key(awsenv.TimeIndexPK, awsenv.TimeIndexSK), Projection: all},
			},
		},
	}
	for _, in := range inputs {
		if _, err := c.CreateTable(ctx, in); err != nil {
			var inUse *types.ResourceInUseException
			if errors.As(err, &inUse) {
				continue
			}
			return fmt.Errorf("create table %s: %w", *in.TableName, err)
		}
	}
	return nil
}
