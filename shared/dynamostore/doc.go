// Package dynamostore is the DynamoDB adapter of the store ports: the
// platform's watched tables (read and written with a region-scoped client,
// so the router can write to a home region), and Residency's own catalog and
// ledger tables in each region, with the key schemas of package awsenv.
//
// The ledger appends with a DynamoDB transaction (put the entry if absent,
// put its idempotency item if absent, advance the head item if its seq still
// matches), so concurrent or retried deliveries can neither fork nor
// duplicate a chain.
package dynamostore
