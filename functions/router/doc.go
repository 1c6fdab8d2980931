// Package router is the router function. On EventBridge it enforces
// residency: `Record Ingest` writes a record straight into its home region's
// table (preventive); `Residency Violation` relocates a misplaced record to
// its home region (copy, verify, delete the misplaced copy) or quarantines
// it, per policy (corrective); `Transfer Requested` decides whether an export
// has a valid mechanism and answers `Transfer Decided` (outbound). Every
// decision goes to the ledger.
package router
