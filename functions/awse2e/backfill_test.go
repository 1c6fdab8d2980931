package awse2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/record"
)

// TestBackfillPagesOnDynamoDB: the tagger, given backfill pages as the
// state machine sends them, scans the users table on moto in two segments,
// a page of 2 at a time following next_cursor, and tags every record that
// was there before it watched the table: the misplaced one is announced as
// a violation, a malformed one fails alone by reference, and a second pass
// writes nothing.
func TestBackfillPagesOnDynamoDB(t *testing.T) {
	w := setup(t)
	for i := range 5 {
		country := "US"
		if i == 2 {
			country = "FR" // misplaced: an EEA subject in us-east-1
		}
		w.put(map[string]string{"pk": fmt.Sprintf("USER#b-%d", i), "sk": "PROFILE", "user_id": fmt.Sprintf("b-%d", i), "country": country,
			"created_at": "2026-10-01T00:00:00Z"})
	}
	w.put(map[string]string{"pk": "USER#b-bad", "sk": "PROFILE", "country": "US"}) // no user_id
	w.streamBatch()                                                                // the puts' own stream records: not this test's concern

	pass := func() (total tagger.BackfillPageResult) {
		t.Helper()
		for seg := range 2 {
			cursor := ""
			for page := 0; ; page++ {
				payload, _ := json.Marshal(map[string]any{"backfill": tagger.BackfillPage{Region: "us-east-1", Table: "users",
					Segment: seg, Segments: 2, Cursor: cursor, Limit: 2}})
				var res tagger.BackfillPageResult
				if err := json.Unmarshal(w.invoke(w.tagger.Invoke, payload), &res); err != nil {
					t.Fatal(err)
				}
				if res.Items > 2 || page > 10 {
					t.Fatalf("expect pages of at most 2 that end, got %+v", res)
				}
				// The cursor is sealed: no record key in it, even decoded.
				if raw, _ := base64.RawURLEncoding.DecodeString(res.NextCursor); strings.Contains(res.NextCursor+string(raw), "USER#") {
					t.Fatalf("expect a sealed cursor, got %q", res.NextCursor)
				}
				total.Items += res.Items
				total.Tagged += res.Tagged
				total.Unchanged += res.Unchanged
				total.Violations += res.Violations
				total.Failed = append(total.Failed, res.Failed...)
				if cursor = res.NextCursor; cursor == "" {
					break
				}
			}
		}
		return total
	}
	first := pass()
	if first.Items != 6 || first.Tagged != 5 || first.Violations != 1 || len(first.Failed) != 1 ||
		!strings.HasPrefix(first.Failed[0].Record, "rec_") || !strings.Contains(first.Failed[0].Reason, `"user_id" missing`) {
		t.Fatalf("expect 6 records: 5 tagged, 1 violation, 1 failed by reference, got %+v", first)
	}
	out, err := w.ddb[us].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#b-2"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil || out.Item[record.TagAttribute] == nil {
		t.Fatalf("expect the misplaced record tagged in place, got %v (%v)", out.Item, err)
	}
	if second := pass(); second.Tagged != 0 || second.Unchanged != 5 || second.Violations != 0 {
		t.Fatalf("expect a second pass to write nothing, got %+v", second)
	}
}
