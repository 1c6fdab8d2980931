// Command lambda is the retention function's Lambda main: it only wires.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/policy"
)

func main() {
	ctx := context.Background()
	app, err := awsapp.Load(ctx, "retention", awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p, err := policy.Load(os.Getenv(awsenv.Policy))
	if err != nil {
		fmt.Fprintf(os.Stderr, "retention: %v\n", err)
		os.Exit(1)
	}
	store := app.Store()
	h := &retention.Handler{Region: app.Region, Policy: p, Refs: app.Refs, Catalog: store, Holds: store, Contracts: store,
		Tables: store, Objects: &s3objects.Objects{API: s3.NewFromConfig(app.Config)}, Bus: &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()}, Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: time.Now, Log: app.Log}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
