// Command lambda is the router's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsclients"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "router", awsenv.Policy, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID, awsenv.Regions)
	h := &router.Handler{Region: app.Region, Policy: awspolicy.MustLoad("router"), Refs: app.Refs, Tables: app.Store(), Objects: awsclients.RegionalObjects(app),
		Bus: awsclients.Bus(app), Ledger: awsclients.LedgerQueue(app), Now: time.Now, Log: app.Log, QuarantineTable: app.QuarantineTable(), QuarantineBuckets: app.QuarantineBuckets(),
		DeadLetters: app.DeadLetters(), Metrics: app.Metrics()}
	awsapp.Start(ctx, h.Invoke)
}
