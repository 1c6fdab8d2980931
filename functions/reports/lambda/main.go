// Command lambda is the reports function's Lambda main: it only wires.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsapp/awspolicy"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
)

// ledgerReader is the part of the store the reports read, as method values:
// the function executes an html/template, and a *dynamostore.Store stored in
// an interface would keep every method of the store (see package awsapp).
type ledgerReader struct {
	chains          func(context.Context) ([]string, error)
	scanChainAfter  func(context.Context, string, int64, int, func(*ledger.Entry) error) error
	scanLedgerAfter func(context.Context, ledger.Query, *ledger.Entry, int, func(*ledger.Entry) error) error
	listHolds       func(context.Context) ([]catalog.Hold, error)
	// The catalog, for the register's hosting rows and a subject's holds.
	countByCategory  func(context.Context, string) ([]catalog.Count, error)
	entriesBySubject func(context.Context, string, string) ([]catalog.Entry, error)
}

func (l ledgerReader) Chains(ctx context.Context) ([]string, error) { return l.chains(ctx) }

func (l ledgerReader) ScanChainAfter(ctx context.Context, region string, afterSeq int64, limit int, fn func(*ledger.Entry) error) error {
	return l.scanChainAfter(ctx, region, afterSeq, limit, fn)
}

func (l ledgerReader) ScanLedgerAfter(ctx context.Context, q ledger.Query, after *ledger.Entry, limit int, fn func(*ledger.Entry) error) error {
	return l.scanLedgerAfter(ctx, q, after, limit, fn)
}

func (l ledgerReader) ListHolds(ctx context.Context) ([]catalog.Hold, error) { return l.listHolds(ctx) }

func (l ledgerReader) CountByCategory(ctx context.Context, region string) ([]catalog.Count, error) {
	return l.countByCategory(ctx, region)
}

func (l ledgerReader) EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error) {
	return l.entriesBySubject(ctx, region, subjectRef)
}

func main() {
	ctx := context.Background()
	app := awsapp.MustLoad(ctx, "reports", awsenv.LedgerTable, awsenv.CatalogTable, awsenv.HMACKeyID, awsenv.SigningKeyID, awsenv.DigestBucket)
	store := app.Store()
	l := ledgerReader{chains: store.Chains, scanChainAfter: store.ScanChainAfter, scanLedgerAfter: store.ScanLedgerAfter, listHolds: store.ListHolds,
		countByCategory: store.CountByCategory, entriesBySubject: store.EntriesBySubject}
	// The register's hosting rows count this region's catalog only: each
	// region's reports function answers for its own region.
	h := &reports.Handler{Ledger: l, Holds: l, Refs: app.Refs, Now: time.Now, Log: app.Log,
		Digests: awsdigests.MustChecker(ctx, app), Policy: awspolicy.MustLoad("reports"), Catalog: l, Regions: []string{app.Region}}
	lambda.StartWithOptions(h.Invoke, lambda.WithContext(ctx))
}
