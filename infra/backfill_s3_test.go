package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// regionBuckets are the test policies' watched buckets of region, sorted.
func regionBuckets(region string) []string {
	var out []string
	for b, r := range testBuckets {
		if r == region {
			out = append(out, b)
		}
	}
	sort.Strings(out)
	return out
}

func TestBackfillBucketModes(t *testing.T) {
	for _, r := range allRegions {
		t.Run(r, func(t *testing.T) {
			// GIVEN the region's backfill definition
			doc := asl(t, r)
			states := doc["States"].(map[string]any)
			tagger := taggerRef(t, r)

			// THEN a source may be one of this region's watched buckets, and
			// no other region's
			check, _ := json.Marshal(state(t, states, "CheckArguments"))
			for _, b := range regionBuckets(r) {
				if !strings.Contains(string(check), `"StringEquals":"`+b+`"`) {
					t.Errorf("expect %s a source of the backfill, got %s", b, check)
				}
			}
			for b, br := range testBuckets {
				if br != r && strings.Contains(string(check), `"StringEquals":"`+b+`"`) {
					t.Errorf("expect %s's bucket %s not a source in %s", br, b, r)
				}
			}
			// AND a bucket's modes are list (its default, for "scan") and
			// inventory, with a manifest under inventory/
			for _, want := range []string{`"Next":"BucketListDefault"`, `"Next":"ListedBucket"`, `"Next":"InventoriedBucket"`,
				`{"StringMatches":"inventory/*/manifest.json","Variable":"$.args.manifest"}`} {
				if !strings.Contains(string(check), want) {
					t.Errorf("expect the input check to hold %s, got %s", want, check)
				}
			}
			if got := state(t, states, "BucketListDefault")["Next"]; got != "ListedBucket" {
				t.Errorf("expect the default mode to be the listing, got %v", got)
			}

			// AND list mode is a Distributed Map over the one bucket, whose
			// iteration loops over ListObjectsV2 pages through the tagger
			for _, c := range []struct {
				pass, m, prefix string
				payload         map[string]any
			}{
				{"ListedBucket", "ListBucket", "List", map[string]any{"backfill": map[string]any{"region": r, "bucket.$": "$.source",
					"cursor.$": "$.cursor", "limit.$": "$.limit"}}},
				{"InventoriedBucket", "InventoryPages", "Inventory", map[string]any{"backfill": map[string]any{"region": r, "bucket.$": "$.source",
					"inventory": map[string]any{"bucket": "<local:" + backfillBucketID(t, r) + ">", "manifest.$": "$.manifest"},
					"cursor.$":  "$.cursor", "limit.$": "$.limit"}}},
			} {
				if got := state(t, states, c.pass)["Parameters"].(map[string]any)["buckets.$"]; got != "States.Array($.args.source)" || state(t, states, c.pass)["Next"] != c.m {
					t.Errorf("%s: expect the one bucket as the map's items, got %v", c.pass, got)
				}
				m := state(t, states, c.m)
				proc := m["ItemProcessor"].(map[string]any)["ProcessorConfig"].(map[string]any)
				if m["Type"] != "Map" || proc["Mode"] != "DISTRIBUTED" || m["ItemsPath"] != "$.buckets" || m["Next"] != "DescribeMapRun" || m["ResultPath"] != "$.map" {
					t.Errorf("%s: expect a Distributed Map over $.buckets, then DescribeMapRun, got %v", c.m, m)
				}
				inner := m["ItemProcessor"].(map[string]any)["States"].(map[string]any)
				wantPage(t, state(t, inner, c.prefix+"Page"), tagger, c.payload, c.prefix+"Failed")
				more, _ := json.Marshal(state(t, inner, c.prefix+"More"))
				if !strings.Contains(string(more), `{"Next":"`+c.prefix+`Done","StringEquals":"","Variable":"$.cursor"}`) {
					t.Errorf("%s: expect the loop to go on until next_cursor is \"\", got %s", c.m, more)
				}
			}
		})
	}
}

func backfillBucketID(t *testing.T, region string) string {
	t.Helper()
	for id, res := range resources(region, "AWS::S3::Bucket") {
		if lc, _ := props(res)["LoggingConfiguration"].(map[string]any); lc["LogFilePrefix"] == "backfill/" {
			return id
		}
	}
	t.Fatalf("%s: expect the backfill bucket", region)
	return ""
}

func TestBucketBackfillPermissions(t *testing.T) {
	for _, r := range allRegions {
		t.Run(r, func(t *testing.T) {
			// GIVEN the tagger's statements and the backfill bucket's policy
			p := partitionOf(r)
			bucket := backfillBucketID(t, r)
			taggerRole := roleOf(t, r, "tagger")
			got := grantsOf(r, func(st statement) bool {
				return slices.Contains(st.Roles, taggerRole) && (st.Sid == "ListWatchedBuckets" || st.Sid == "ReadBucketInventories")
			})
			var buckets []string
			for _, b := range regionBuckets(r) {
				buckets = append(buckets, "arn:"+p+":s3:::"+b)
			}
			// THEN the tagger lists this region's watched buckets only, and
			// reads the inventories in the backfill bucket only: no object
			// tagging (an object's tag lives in the catalog)
			want := map[string]grant{
				"ListWatchedBuckets":    {[]string{"s3:ListBucket"}, buckets},
				"ReadBucketInventories": {[]string{"s3:GetObject"}, []string{"<local:" + bucket + ">/inventory/*"}},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("expect the tagger's bucket backfill statements (-want +got):\n%s", d)
			}
			for _, st := range statements(r) {
				if slices.Contains(st.Roles, taggerRole) && (slices.Contains(st.Actions, "s3:PutObjectTagging") || slices.Contains(st.Actions, "s3:GetObjectTagging")) {
					t.Errorf("expect the tagger not to read or write object tags, got %s %v", st.Sid, st.Actions)
				}
			}
			// AND the listing is limited to the watched prefixes
			var listing map[string]any
			for _, res := range resources(r, "AWS::IAM::Policy") {
				for _, s := range asList(props(res)["PolicyDocument"].(map[string]any)["Statement"]) {
					if st := s.(map[string]any); st["Sid"] == "ListWatchedBuckets" {
						listing = st
					}
				}
			}
			if c, _ := json.Marshal(listing["Condition"]); !strings.Contains(string(c), `"s3:prefix"`) || !strings.Contains(string(c), `"StringLike"`) {
				t.Errorf("expect ListBucket under the watched prefixes only, got %s", c)
			}

			// AND S3 Inventory may deliver the reports of this region's
			// watched buckets of this account to inventory/, nothing else
			var delivery map[string]any
			for _, res := range resources(r, "AWS::S3::BucketPolicy") {
				pp := props(res)
				if b, _ := pp["Bucket"].(map[string]any); b["Ref"] != bucket {
					continue
				}
				for _, s := range asList(pp["PolicyDocument"].(map[string]any)["Statement"]) {
					if st := s.(map[string]any); st["Sid"] == "S3InventoryOfWatchedBuckets" {
						delivery = st
					}
				}
			}
			if delivery == nil {
				t.Fatalf("expect the backfill bucket's policy to let S3 Inventory deliver")
			}
			cond, _ := json.Marshal(delivery["Condition"])
			principal, _ := json.Marshal(delivery["Principal"])
			if delivery["Action"] != "s3:PutObject" || arn(r, delivery["Resource"]) != "<local:"+bucket+">/inventory/*" ||
				string(principal) != `{"Service":"s3.amazonaws.com"}` {
				t.Errorf("expect s3.amazonaws.com to PutObject under inventory/ only, got %v", delivery)
			}
			for _, want := range append([]string{`"aws:SourceAccount":"` + testAccount + `"`, `"s3:x-amz-acl":"bucket-owner-full-control"`}, buckets...) {
				if !strings.Contains(arn(r, string(cond)), want) && !strings.Contains(string(cond), want) {
					t.Errorf("expect the delivery's condition to hold %s, got %s", want, cond)
				}
			}
		})
	}
}
