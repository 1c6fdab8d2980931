// Command lambda is the router's Lambda main: it only wires.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/policy"
)

func main() {
	ctx := context.Background()
	app, err := awsapp.Load(ctx, "router", awsenv.Policy, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID, awsenv.Regions)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p, err := policy.Load(os.Getenv(awsenv.Policy))
	if err != nil {
		fmt.Fprintf(os.Stderr, "router: %v\n", err)
		os.Exit(1)
	}
	h := &router.Handler{Region: app.Region, Policy: p, Refs: app.Refs, Tables: app.Store(), Bus: &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()},
		Ledger: &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}, Now: time.Now, Log: app.Log, QuarantineTable: app.QuarantineTable()}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
