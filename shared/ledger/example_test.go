package ledger_test

import (
	"fmt"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

func Example() {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	var head ledger.Head
	var chain []ledger.Entry
	for _, importer := range []string{"Acme Inc", "Tokyo Insights KK"} {
		var e ledger.Entry
		e, head = ledger.Link(head, ledger.Entry{ID: ledger.ID(ledger.KindTransfer, importer), Time: at, Kind: ledger.KindTransfer,
			Region: "eu-central-1", Importer: importer, Actor: "router"})
		chain = append(chain, e)
	}
	chain[0].Importer = "Someone Else" // tampering
	v := ledger.NewVerifier("eu-central-1")
	for i := range chain {
		v.Add(&chain[i])
	}
	fmt.Println(v.Err())
	// Output: ledger eu-central-1: seq 1: hash mismatch: the entry was altered
}
