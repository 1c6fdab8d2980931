// Command lambda is the tagger's Lambda main: it only wires.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app, err := awsapp.Load(ctx, "tagger", awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := app.Store()
	h := &tagger.Handler{Region: app.Region, Policy: app.Policy, Refs: app.Refs, Tables: store, Catalog: store, Contracts: store,
		Objects: app.Objects(), Bus: app.Bus(), Ledger: app.LedgerQueue(), Now: time.Now, Log: app.Log}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
