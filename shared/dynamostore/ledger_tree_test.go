package dynamostore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/storetest"
)

// TestTree runs the tree contract on moto; a table "written before the
// tree" is one whose entry items lack the tree attribute and whose head
// lacks tree_size.
func TestTree(t *testing.T) {
	clients := map[storetest.TreeStore]*dynamodb.Client{}
	tables := map[storetest.TreeStore]string{}
	storetest.RunTree(t, func(t *testing.T) storetest.TreeStore {
		s, c, catalog := newStoreWith(t)
		clients[s], tables[s] = c, "ledger-"+strings.TrimPrefix(catalog, "catalog-")
		return s
	}, func(t *testing.T, s storetest.TreeStore, region string) storetest.TreeStore {
		ctx := context.Background()
		c := clients[s]
		table := tables[s]
		out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
				Key:              map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]},
				UpdateExpression: aws.String("REMOVE tree, tree_size")})
			if err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
}
