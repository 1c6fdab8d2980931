// Command lambda is the retention function's Lambda main: it only wires.
package main

import (
	"context"
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
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "retention", awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	store := app.Store()
	h := &retention.Handler{Region: app.Region, Policy: awspolicy.MustLoad("retention"), Refs: app.Refs, Catalog: store, Holds: store,
		Contracts: store, Tables: store, Objects: &s3objects.Objects{API: s3.NewFromConfig(app.Config)},
		Bus:    &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: time.Now, Log: app.Log}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
