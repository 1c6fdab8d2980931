// Package tagger is the tagger function: triggered by writes (DynamoDB
// Streams of watched tables, S3 ObjectCreated, EventBridge `Data Written`),
// it determines each record's subject jurisdiction, origin region, home
// region, status and retain-until, writes the residency tag onto the record
// and its catalog entry, and reports a record in a region its policy does not
// allow as a `Residency Violation` (event and ledger entry).
//
// Tagging is idempotent: a record whose tag already says what the tagger
// would write is left alone, without a write, so the tagger never retriggers
// itself through the stream.
package tagger
