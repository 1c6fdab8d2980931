// Package report builds the compliance report from the ledger: the entries
// of a period, a summary, the transfer register (per destination country and
// importer: mechanism, reference, categories, counts, first and last seen, in
// the shape of GDPR Art. 30(1)(e)), the violations with the relocation that
// remediated each, the deletions, the legal holds in force, and the
// verification status and head of every region's chain.
//
// Reports stream: Render verifies the chains, summarizes the period in one
// pass over the ledger's time index and writes the entries in a second, as it
// reads them, in keyset pages (Scan), so a year of entries never sits in
// memory. The reports API pages the same way with an opaque cursor
// (Position.Cursor). Formats: a plain-text table, JSON, CSV, and a
// self-contained HTML page with SVG charts.
package report
