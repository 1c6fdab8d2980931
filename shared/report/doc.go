// Package report builds the compliance report from the ledger: the entries
// of a period, a summary, the transfer register (per destination country and
// importer: mechanism, reference, categories, counts, first and last seen, in
// the shape of GDPR Art. 30(1)(e)) and the verification status of every
// region's chain. It renders JSON, CSV and a plain-text table.
package report
