package dynamostore

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
)

// Of two requests for one catalog item in a batch, only the last is
// written: chunks written at once have no order.
func TestLastPerItem(t *testing.T) {
	item := func(pk, v string) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
			awsenv.CatalogPK: sv(pk), awsenv.CatalogSK: sv("entry"), "v": sv(v)}}}
	}
	del := func(pk string) types.WriteRequest {
		return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{
			awsenv.CatalogPK: sv(pk), awsenv.CatalogSK: sv("entry")}}}
	}
	got := lastPerItem([]types.WriteRequest{item("a", "1"), item("b", "1"), del("a"), item("c", "1"), item("b", "2")})
	var desc []string
	for _, r := range got {
		if r.DeleteRequest != nil {
			desc = append(desc, "del "+str(r.DeleteRequest.Key, awsenv.CatalogPK))
		} else {
			desc = append(desc, "put "+str(r.PutRequest.Item, awsenv.CatalogPK)+"="+str(r.PutRequest.Item, "v"))
		}
	}
	want := "del a,put c=1,put b=2"
	if s := strings.Join(desc, ","); s != want {
		t.Fatalf("expect %s, got %s", want, s)
	}
}
