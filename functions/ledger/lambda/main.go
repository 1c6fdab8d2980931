// Command lambda is the ledger function's Lambda main: it only wires.
package main

import (
	"context"

	"github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "ledger", awsenv.LedgerTable, awsenv.SigningKeyID, awsenv.DigestBucket)
	store := app.Store()
	h := &ledger.Handler{Store: store, Log: app.Log, Region: app.Region, Digests: awsdigests.Writer(app, store),
		DeadLetters: app.DeadLetters(), Metrics: app.Metrics()}
	awsapp.Start(ctx, h.Invoke)
}
