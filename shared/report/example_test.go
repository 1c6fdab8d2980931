package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// Render streams a report straight from the ledger to a writer.
func ExampleRender() {
	dir, _ := os.MkdirTemp("", "report")
	defer os.RemoveAll(dir)
	st, _ := sqlitestore.Open(filepath.Join(dir, "ledger.db"))
	defer st.Close()
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	st.Append(context.Background(), "eu-central-1", []ledger.Entry{
		{ID: "t1", Time: at, Kind: ledger.KindTransfer, Region: "eu-central-1", ToCountry: "JP", Importer: "Tokyo Insights KK",
			Mechanism: "adequacy", Reference: "Commission Implementing Decision (EU) 2019/419", Decision: "allowed", Actor: "router"},
		{ID: "d1", Time: at.Add(time.Hour), Kind: ledger.KindDenial, Region: "eu-central-1", ToCountry: "IN", Importer: "B Ltd",
			Mechanism: "none", Reference: "no adequacy decision for IN", Decision: "denied", Actor: "router"},
	})
	q := report.Query{Kinds: []ledger.Kind{ledger.KindDenial}}
	res, err := report.Render(context.Background(), st, q, "csv", os.Stdout, report.Options{Now: at})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Entries, "entry; ledger verified:", res.Header.Ledger.Verified)
	// Output:
	// seq,id,time,kind,region,source,record,subject_ref,category,from_region,from_country,to_region,to_country,importer,mechanism,reference,decision,policy_version,actor,prev_hash,hash,exposed_ms
	// 2,d1,2026-11-21T10:00:00Z,denial,eu-central-1,,,,,,,,IN,B Ltd,none,no adequacy decision for IN,denied,,router,d6a0a3341f092d0f118c7796363942c8c8a72d547e4a9de704d29caa6783797a,ecc6feb308ffc0f95d2f7e4020ee0b712f0d14d9735bbaad4b349489664d74ff,
	// 1 entry; ledger verified: true
}
