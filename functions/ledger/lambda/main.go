// Command lambda is the ledger function's Lambda main: it only wires.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/lambdaraw"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "ledger", awsenv.LedgerTable, awsenv.SigningKeyID, awsenv.DigestBucket)
	store := app.Store()
	h := &ledger.Handler{Store: store, Log: app.Log, Region: app.Region, Digests: awsdigests.Writer(app, store),
		DeadLetters: app.DeadLetters(), Metrics: app.Metrics()}
	lambda.StartWithOptions(lambdaraw.Handler(h.Invoke), lambda.WithContext(ctx))
}
