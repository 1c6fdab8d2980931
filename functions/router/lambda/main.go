// Command lambda is the router's Lambda main: it only wires.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app, err := awsapp.Load(ctx, "router", awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID, awsenv.Regions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	h := &router.Handler{Region: app.Region, Policy: app.Policy, Refs: app.Refs, Tables: app.Store(), Bus: app.Bus(),
		Ledger: app.LedgerQueue(), Now: time.Now, Log: app.Log, QuarantineTable: app.QuarantineTable()}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
