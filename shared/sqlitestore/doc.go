// Package sqlitestore is the embedded store: one SQLite file (pure Go,
// modernc.org/sqlite, no cgo) that stands in locally for what Residency uses
// on AWS. It holds the platform's watched tables (one per region, with a
// change stream like DynamoDB Streams), S3 object metadata, the catalog, legal
// holds, contract ends and the hash-chained ledger of every region.
//
// It implements the small interfaces the functions declare; the same contract
// tests run against it and the AWS adapters.
package sqlitestore
