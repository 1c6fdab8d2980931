// Package reporttest makes synthetic ledgers for the report's tests,
// benchmarks and measurements: realistic mixes of transfers, denials,
// violations (most of them relocated a few minutes later), relocations and
// deletions, spread over a period and over three regions' chains.
package reporttest
