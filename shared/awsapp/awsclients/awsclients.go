// Package awsclients builds, for the Lambda mains, the adapters of the
// region's event bus, ledger queue and S3 objects from an awsapp.App. It is
// apart from package awsapp so that the functions that use none of them
// (ledger, reports) do not link the EventBridge, SQS and S3 clients.
package awsclients

import (
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/shared/awsadapter/eventbus"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/awsadapter/sqsqueue"
	"github.com/residency-dev/residency/shared/awsapp"
)

// Bus publishes on the region's residency event bus (RESIDENCY_EVENT_BUS).
func Bus(app *awsapp.App) *eventbus.Bus {
	return &eventbus.Bus{API: eventbridge.NewFromConfig(app.Config), Name: app.BusName()}
}

// LedgerQueue sends to the region's ledger FIFO queue
// (RESIDENCY_LEDGER_QUEUE_URL).
func LedgerQueue(app *awsapp.App) *sqsqueue.LedgerQueue {
	return &sqsqueue.LedgerQueue{API: sqs.NewFromConfig(app.Config), URL: app.LedgerQueueURL()}
}

// Objects reads and tags the watched buckets' objects.
func Objects(app *awsapp.App) *s3objects.Objects {
	return &s3objects.Objects{API: s3.NewFromConfig(app.Config)}
}

// RegionalObjects reads, writes and deletes objects in this region and in
// every region of RESIDENCY_REGIONS, each through its own region's client
// (the router's copies to a home region).
func RegionalObjects(app *awsapp.App) *s3objects.Objects {
	o := &s3objects.Objects{API: s3.NewFromConfig(app.Config), Regions: map[string]s3objects.S3API{}}
	o.Regions[app.Region] = o.API
	for _, r := range app.Regions() {
		if r != app.Region {
			o.Regions[r] = s3.NewFromConfig(app.Config, func(opts *s3.Options) { opts.Region = r })
		}
	}
	return o
}
