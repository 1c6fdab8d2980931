// Command lambda is the tagger's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsclients"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "tagger", awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	store := app.Store()
	objects := awsclients.Objects(app)
	h := &tagger.Handler{Region: app.Region, Policy: awspolicy.MustLoad("tagger"), Refs: app.Refs, Tables: store, Catalog: store, Contracts: store,
		Objects: objects, Lister: objects, Bus: awsclients.Bus(app), Ledger: awsclients.LedgerQueue(app), Now: time.Now, Log: app.Log,
		DeadLetters: app.DeadLetters(), Scanner: store, Cursors: app.Refs, Metrics: app.Metrics(), Coverage: store,
		// A table export's data files and S3 Inventory reports, in the
		// stack's backfill bucket.
		Exports: &s3objects.Reader{API: s3.NewFromConfig(app.Config)}}
	awsapp.Start(ctx, h.Invoke)
}
