// Command lambda is the tagger's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "tagger", awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	store := app.Store()
	h := &tagger.Handler{Region: app.Region, Policy: awspolicy.MustLoad("tagger"), Refs: app.Refs, Tables: store, Catalog: store, Contracts: store,
		Objects: &s3objects.Objects{API: s3.NewFromConfig(app.Config)}, Bus: &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: time.Now, Log: app.Log}
	lambda.StartWithOptions(tagger.Raw(h.Invoke), lambda.WithContext(ctx))
}
