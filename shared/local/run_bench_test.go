package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// streamLoad makes n stream records of the users table as `residency run`
// reads them from files: batches of batchSize INSERTs, each batch from one
// region's stream. Every 50th record of a us-east-1 batch is a French
// subject's, misplaced: the tagger reports it, the router relocates it.
//
// With misplacedPct >= 0 instead, every batch is from us-east-1 and record
// i is a French subject's (misplaced) when i%100 < misplacedPct.
func streamLoad(n, batchSize, misplacedPct int) [][]byte {
	regions := []string{"eu-central-1", "eu-west-1", "us-east-1"}
	if misplacedPct >= 0 {
		regions = []string{"us-east-1"}
	}
	countries := map[string][]string{
		"eu-central-1": {"DE", "FR", "IT", "ES", "NL", "CH"},
		"eu-west-1":    {"GB", "IE", "GB", "FR"},
		"us-east-1":    {"US", "US", "CA", "BR", "JP"},
	}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	var out [][]byte
	for start := 0; start < n; start += batchSize {
		region := regions[(start/batchSize)%len(regions)]
		var ev lambdaevents.DynamoDBEvent
		for i := start; i < min(n, start+batchSize); i++ {
			id := fmt.Sprintf("u-%07d", i)
			country := countries[region][i%len(countries[region])]
			if misplacedPct < 0 && region == "us-east-1" && i%50 == 0 || i%100 < misplacedPct {
				country = "FR"
			}
			s := lambdaevents.NewStringAttribute
			img := map[string]lambdaevents.DynamoDBAttributeValue{
				"pk": s("USER#" + id), "sk": s("PROFILE"), "user_id": s(id), "country": s(country),
				"name": s("Person " + id), "email": s(id + "@example.com"),
				"created_at": s(at.Format(time.RFC3339)), "last_seen_at": s(at.Format(time.RFC3339)), "account_id": s("acct-77"),
			}
			ev.Records = append(ev.Records, lambdaevents.DynamoDBEventRecord{
				EventID: fmt.Sprintf("evt-%07d", i), EventName: "INSERT", EventVersion: "1.1", EventSource: "aws:dynamodb", AWSRegion: region,
				EventSourceArn: "arn:aws:dynamodb:" + region + ":123456789012:table/users/stream/2026-11-01T00:00:00.000",
				Change: lambdaevents.DynamoDBStreamRecord{
					ApproximateCreationDateTime: lambdaevents.SecondsEpochTime{Time: at},
					Keys:                        map[string]lambdaevents.DynamoDBAttributeValue{"pk": img["pk"], "sk": img["sk"]},
					NewImage:                    img, SequenceNumber: fmt.Sprintf("%021d", i+1), SizeBytes: 300, StreamViewType: "NEW_AND_OLD_IMAGES",
				},
			})
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			panic(err)
		}
		out = append(out, payload)
	}
	return out
}

// BenchmarkRun drives the local pipeline as `residency run` does, on a file
// store: each stream batch file is applied to the embedded store's tables and
// delivered to its region's tagger; the tag writes come back through the
// stream (echoes, no write), violations go to the router, which relocates the
// misplaced records (whose copies and deletions go through the stream again),
// and the ledger function appends the violations and relocations. It reports
// the files' records per second (records/s), and all the stream records
// delivered to the tagger per second, as `residency run` counts them
// (stream-records/s).
func BenchmarkRun(b *testing.B) {
	for _, bc := range []struct{ records, batch, misplaced int }{{30000, 1000, -1}, {30000, 100, -1}, {20000, 1000, 10}, {20000, 1000, 100}} {
		name := fmt.Sprintf("records=%d/batch=%d", bc.records, bc.batch)
		if bc.misplaced >= 0 {
			name += fmt.Sprintf("/misplaced=%d%%", bc.misplaced)
		}
		b.Run(name, func(b *testing.B) {
			files := streamLoad(bc.records, bc.batch, bc.misplaced)
			ctx := context.Background()
			var elapsed time.Duration
			delivered := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, err := sqlitestore.Open(filepath.Join(b.TempDir(), "run.db"))
				if err != nil {
					b.Fatal(err)
				}
				s, err := local.New(local.Config{Store: st, Policy: policy.MustExample(), Key: key,
					Now: func() time.Time { return time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC) }})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				for _, f := range files {
					d, err := s.Replay(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					if d.Failed != 0 || d.Error != "" {
						b.Fatalf("expect no failure, got %+v", d)
					}
				}
				elapsed += time.Since(t0)
				delivered += s.Stats.StreamRecords
				b.StopTimer()
				checkRun(b, st, bc.records)
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(bc.records*b.N)/elapsed.Seconds(), "records/s")
			// What `residency run` counts as stream records delivered to the
			// tagger: the files' records, and those of the writes they cause
			// (the tags' echoes, the relocations' copies and deletions).
			b.ReportMetric(float64(delivered)/elapsed.Seconds(), "stream-records/s")
		})
	}
}

// checkRun checks what a benchmark run did: every record tagged once in
// the catalog, every misplaced one relocated, the ledger complete.
func checkRun(b *testing.B, st *sqlitestore.Store, records int) {
	b.Helper()
	ctx := context.Background()
	total := 0
	for _, r := range []string{"eu-central-1", "eu-west-1", "us-east-1"} {
		n, err := st.CountEntries(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		total += n
	}
	if total != records {
		b.Fatalf("expect %d catalog entries, got %d", records, total)
	}
	if n, _ := st.PendingStream(ctx, 1); len(n) != 0 {
		b.Fatalf("expect the stream drained, %d pending", len(n))
	}
	kinds := map[ledger.Kind]int{}
	err := st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error { kinds[e.Kind]++; return nil })
	if err != nil {
		b.Fatal(err)
	}
	if kinds[ledger.KindViolation] == 0 || kinds[ledger.KindViolation] != kinds[ledger.KindRelocation] {
		b.Fatalf("expect as many relocations as violations, got %v", kinds)
	}
}
