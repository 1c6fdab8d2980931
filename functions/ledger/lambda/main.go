// Command lambda is the ledger function's Lambda main: it only wires.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "ledger", awsenv.LedgerTable)
	h := &ledger.Handler{Store: app.Store(), Log: app.Log}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
