package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/storetest"
)

func TestMain(m *testing.M) { os.Exit(mototest.Run(m)) }

var seq atomic.Int64

// newStore creates fresh tables (unique names) in two regions of moto.
func newStore(t *testing.T) *dynamostore.Store {
	s, _, _ := newStoreWith(t)
	return s
}

// newStoreWith is newStore, with the eu-central-1 client and the catalog
// table's name.
func newStoreWith(t *testing.T) (*dynamostore.Store, *dynamodb.Client, string) {
	ctx := mototest.Context(t)
	n := seq.Add(1)
	catalog, ledger := fmt.Sprintf("catalog-%d", n), fmt.Sprintf("ledger-%d", n)
	clients := map[string]dynamostore.API{}
	for _, region := range []string{"eu-central-1", "us-east-1"} {
		c := dynamodb.NewFromConfig(mototest.Config(t, region))
		if err := dynamostore.CreateTables(ctx, c, catalog, ledger); err != nil {
			t.Fatal(err)
		}
		// The platform's watched table, as in the example policy.
		if err := createUsers(ctx, c); err != nil {
			t.Fatal(err)
		}
		clients[region] = c
	}
	s := dynamostore.New("eu-central-1", clients, dynamostore.WithTables(catalog, ledger), dynamostore.WithShards(4))
	return s, clients["eu-central-1"].(*dynamodb.Client), catalog
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return newStore(t)
	})
}

func createUsers(ctx context.Context, c *dynamodb.Client) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("users"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	return err
}
