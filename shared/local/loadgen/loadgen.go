// Package loadgen makes generated loads of the shape of the real work for
// benchmarks and `make bench-run`: DynamoDB stream batches of profile
// INSERTs, as Lambda's event source mapping delivers them, with a chosen
// share of misplaced records (EU subjects written in us-east-1).
package loadgen

import (
	"encoding/json"
	"fmt"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// StreamBatches makes n stream records of the users table as `residency run`
// reads them from files: batches of batchSize INSERTs, each batch from one
// region's stream. Every 50th record of a us-east-1 batch is a French
// subject's, misplaced: the tagger reports it, the router relocates it.
//
// With misplacedPct >= 0 instead, every batch is from us-east-1 and record
// i is a French subject's (misplaced) when i%100 < misplacedPct.
func StreamBatches(n, batchSize, misplacedPct int) [][]byte {
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
			panic(err) // the event holds strings only
		}
		out = append(out, payload)
	}
	return out
}
