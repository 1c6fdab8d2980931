// Command genledger fills an embedded store with a synthetic ledger, to
// measure reports over large ledgers (see scripts/report-1m.sh):
//
//	go run ./scripts/genledger --db /tmp/1m.db --n 1000000
package main
