// Command lambda is the reports function's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
)

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "reports", awsenv.LedgerTable, awsenv.CatalogTable, awsenv.HMACKeyID, awsenv.SigningKeyID, awsenv.DigestBucket)
	store := app.Store()
	// The register's hosting rows count this region's catalog only: each
	// region's reports function answers for its own region.
	h := &reports.Handler{Ledger: store, Holds: store, Refs: app.Refs, Now: time.Now, Log: app.Log,
		Digests: awsdigests.MustChecker(ctx, app, store), Policy: awspolicy.MustLoad("reports"), Catalog: store, Regions: []string{app.Region},
		Certificates: awsdigests.Certificates(app)}
	awsapp.Start(ctx, h.Invoke)
}
