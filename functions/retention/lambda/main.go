// Command lambda is the retention function's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsclients"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "retention", awsenv.Policy, awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID)
	store := app.Store()
	h := &retention.Handler{Region: app.Region, Policy: awspolicy.MustLoad("retention"), Refs: app.Refs, Catalog: store, Holds: store,
		Contracts: store, Tables: store, Objects: awsclients.Objects(app), Bus: awsclients.Bus(app), Ledger: awsclients.LedgerQueue(app),
		Now: time.Now, Log: app.Log, DeadLetters: app.DeadLetters(), Coverage: store, Metrics: app.Metrics()}
	awsapp.Start(ctx, h.Invoke)
}
