// Package events holds the contract of every event Residency consumes or
// publishes on EventBridge: detail-type names, a Go type per detail with its
// validation, and (under schemas/) a JSON Schema for each. Under samples/ is a
// realistic payload for every trigger of every function, named
// <source>-<variant>.json; they are golden files for the tests and the input
// of `residency run`, with fixtures/ standing in for what AWS would be asked
// locally (S3 object metadata). SchemaFor also returns the schema of a ledger
// entry (LedgerEntry), the body of the ledger queue's messages, and
// NewDetail and DecodeDetail map a detail-type name to its Go type.
//
// Consumed details follow DESIGN Appendix C: timestamps are RFC 3339 strings
// or epoch seconds, record keys and items are plain JSON objects, unknown
// fields are ignored and a missing required field is an error naming it.
// Published details never carry a subject identifier, only its keyed HMAC
// reference.
package events
