package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/jurisdiction"
)

// statement is one policy statement of a template, with where it is.
type statement struct {
	// Owner is the logical id of the resource holding the policy; Kind its
	// type; Roles the roles an IAM policy is attached to.
	Owner, Kind string
	Roles       []string
	Sid         string
	Effect      string
	Actions     []string
	Resources   []any
}

// statements walks every policy of a template: IAM policies, managed
// policies and roles' inline policies (identity), and the resource
// policies of keys, buckets and queues.
func statements(region string) []statement {
	var out []statement
	add := func(owner, kind string, roles []string, doc any) {
		d, _ := doc.(map[string]any)
		sts, _ := d["Statement"].([]any)
		for _, s := range sts {
			st := s.(map[string]any)
			sid, _ := st["Sid"].(string)
			out = append(out, statement{
				Owner: owner, Kind: kind, Roles: roles, Sid: sid, Effect: st["Effect"].(string),
				Actions: asStrings(st["Action"]), Resources: asList(st["Resource"]),
			})
		}
	}
	for id, res := range fixture.json[region]["Resources"].(map[string]any) {
		r := res.(map[string]any)
		p := props(r)
		switch kind := r["Type"].(string); kind {
		case "AWS::IAM::Policy":
			var roles []string
			for _, x := range asList(p["Roles"]) {
				roles = append(roles, x.(map[string]any)["Ref"].(string))
			}
			add(id, kind, roles, p["PolicyDocument"])
		case "AWS::IAM::ManagedPolicy":
			add(id, kind, nil, p["PolicyDocument"])
		case "AWS::IAM::Role":
			for _, ip := range asList(p["Policies"]) {
				add(id, kind, []string{id}, ip.(map[string]any)["PolicyDocument"])
			}
			if len(asList(p["ManagedPolicyArns"])) > 0 {
				out = append(out, statement{Owner: id, Kind: "ManagedPolicyArns", Effect: "Allow", Actions: []string{"<AWS managed policy>"}})
			}
		case "AWS::KMS::Key":
			add(id, kind, nil, p["KeyPolicy"])
		case "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy":
			add(id, kind, nil, p["PolicyDocument"])
		}
	}
	return out
}

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	default:
		return []any{x}
	}
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, x.(string))
	}
	return out
}

// arn renders a Resource as a string: literals as they are, references to
// this stack's resources as <local:ID>, pseudo parameters by their value in
// region.
func arn(region string, v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::Region":
				return region
			case "AWS::Partition":
				partition, _ := jurisdiction.RegionPartition(region)
				return partition
			case "AWS::AccountId":
				return testAccount
			case "AWS::URLSuffix":
				if partition, _ := jurisdiction.RegionPartition(region); partition == jurisdiction.PartitionEUSC {
					return "amazonaws.eu"
				}
				return "amazonaws.com"
			}
			return "<local:" + ref + ">"
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			return "<local:" + ga[0].(string) + ">"
		}
		if j, ok := x["Fn::Join"].([]any); ok {
			var b strings.Builder
			for _, part := range j[1].([]any) {
				b.WriteString(arn(region, part))
			}
			return b.String()
		}
	}
	return fmt.Sprintf("<unknown %v>", v)
}

// arnRegion returns the region field of an ARN ("" when region-less), and
// whether s is an ARN at all.
func arnRegion(s string) (service, region string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return "", "", false
	}
	return parts[2], parts[3], true
}

// roleOf returns the logical id of a function's role.
func roleOf(t *testing.T, region, fn string) string {
	t.Helper()
	id := logicalID(t, region, "AWS::Lambda::Function", "FunctionName", FunctionName(fn))
	return props(resources(region, "AWS::Lambda::Function")[id])["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
}

func TestNoWildcardActionsNoManagedPoliciesNoScan(t *testing.T) {
	for _, r := range allRegions {
		// GIVEN every policy statement of the region's template
		sts := statements(r)
		if len(sts) < 20 {
			t.Fatalf("%s: expect the walker to find the stack's statements, got %d", r, len(sts))
		}
		for _, st := range sts {
			// WHEN an Allow statement is read
			if st.Effect != "Allow" {
				continue // the TLS-only Deny s3:* / sqs:* statements protect, they grant nothing
			}
			// THEN it names every action: no wildcard, no AWS managed
			// policy, and no dynamodb:Scan (reads go through keys and
			// indexes) but the reports function's count of its catalog
			for _, a := range st.Actions {
				if strings.ContainsAny(a, "*?") || a == "<AWS managed policy>" {
					t.Errorf("%s: %s (%s): expect named actions, got %q", r, st.Owner, st.Kind, a)
				}
				if a != "dynamodb:Scan" || len(st.Actions) != 1 {
					if a == "dynamodb:Scan" {
						t.Errorf("%s: %s: expect dynamodb:Scan in a statement of its own, got %+v", r, st.Owner, st)
					}
					continue
				}
				switch st.Sid {
				case "CountCatalog":
					if len(st.Resources) != 1 || arn(r, st.Resources[0]) != "<local:"+catalogTableID(t, r)+">" {
						t.Errorf("%s: %s: expect CountCatalog's Scan on the catalog table only, got %+v", r, st.Owner, st)
					}
				case "BackfillWatchedTables":
					for _, res := range st.Resources {
						if s := arn(r, res); !strings.Contains(s, ":dynamodb:"+r+":") || !slices.ContainsFunc(testTables, func(tb string) bool { return strings.HasSuffix(s, ":table/"+tb) }) {
							t.Errorf("%s: %s: expect the backfill's Scan on this region's watched tables only, got %s", r, st.Owner, s)
						}
					}
				default:
					t.Errorf("%s: %s: expect no other dynamodb:Scan, got it in %+v", r, st.Owner, st)
				}
			}
		}
	}
}

func TestEachFunctionHasOnlyWhatItUses(t *testing.T) {
	// The actions each function's role may hold, all resources together.
	logs := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
	dlq := []string{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}
	allowed := map[string][]string{
		"tagger": concat(logs, dlq, streamRead, ddbReadWrite, []string{"dynamodb:Scan", "dynamodb:UpdateItem", "events:PutEvents", "kms:GenerateMac", "s3:GetObject", "s3:ListBucket"}),
		"router": concat(logs, dlq, []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "events:PutEvents", "kms:GenerateMac",
			"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectTagging", "s3:ListBucket", "s3:ListBucketVersions",
			"s3:PutObject", "s3:PutObjectTagging",
			"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:ReceiveMessage"}),
		"ledger": concat(logs, ddbAppend, []string{"kms:Sign", "s3:GetObject", "s3:ListBucket", "s3:PutObject",
			"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"}),
		"retention": concat(logs, dlq, ddbReadWrite, []string{"events:PutEvents", "kms:GenerateMac", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions",
			"s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersion"}),
		"reports": concat(logs, ddbRead, []string{"dynamodb:Scan", "kms:GenerateMac", "kms:GetPublicKey", "s3:GetObject", "s3:ListBucket", "s3:PutObject"}),
	}
	// What each must have, by statement id.
	required := map[string][]string{
		"tagger": {"ReadWatchedStreams", "TagWatchedRecords", "BackfillWatchedTables", "Catalog", "PublishResidencyEvents", "SendLedgerEntries", "MakeReferences", "ReadBackfillExports",
			"ListWatchedBuckets", "ReadBucketInventories"},
		"router": {"RecordsHere", "RelocateToHomeRegions", "PublishResidencyEvents", "SendLedgerEntries", "MakeReferences",
			"ReadMisplacedObjects", "ListMisplacedObjects", "RelocateObjectsToHomeRegions"},
		"ledger":    {"AppendLedger", "SignDigests", "StoreDigests", "ListDigests"},
		"retention": {"Catalog", "DeleteWatchedRecords", "PublishResidencyEvents", "SendLedgerEntries", "MakeReferences", "ReadObjectLocks"},
		"reports":   {"ReadLedger", "ReadCatalog", "CountCatalog", "MakeReferences", "DigestPublicKey", "ReadDigests", "ListDigests", "StoreCertificates"},
	}
	for _, r := range allRegions {
		sts := statements(r)
		for _, fn := range Functions {
			t.Run(r+"/"+fn, func(t *testing.T) {
				// GIVEN the statements of the function's role
				role := roleOf(t, r, fn)
				var sids []string
				for _, st := range sts {
					if !slices.Contains(st.Roles, role) {
						continue
					}
					if st.Kind != "AWS::IAM::Policy" {
						t.Errorf("expect only the role's own policy, got a %s", st.Kind)
					}
					if st.Sid != "" {
						sids = append(sids, st.Sid)
					}
					// WHEN each action is checked
					// THEN it is one the function uses
					for _, a := range st.Actions {
						if !slices.Contains(allowed[fn], a) {
							t.Errorf("expect only the actions %s uses, got %s", fn, a)
						}
					}
					for _, res := range st.Resources {
						if s := arn(r, res); s == "*" {
							t.Errorf("expect named resources, got * for %v", st.Actions)
						}
					}
				}
				for _, sid := range required[fn] {
					if !slices.Contains(sids, sid) {
						t.Errorf("expect statement %s, got %v", sid, sids)
					}
				}
			})
		}
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	for _, r := range allRegions {
		// GIVEN every statement on the ledger table
		ledger := logicalID(t, r, "AWS::DynamoDB::Table", "TableName", awsenv.DefaultLedgerTable)
		for _, st := range statements(r) {
			onLedger := false
			for _, res := range st.Resources {
				if strings.HasPrefix(arn(r, res), "<local:"+ledger+">") {
					onLedger = true
				}
			}
			if !onLedger || st.Effect != "Allow" {
				continue
			}
			// WHEN its actions are read
			// THEN none deletes, and only the ledger function writes
			for _, a := range st.Actions {
				if strings.Contains(a, "Delete") || a == "dynamodb:BatchWriteItem" {
					t.Errorf("%s: %s: expect no delete on the ledger, got %s", r, st.Owner, a)
				}
				if (a == "dynamodb:PutItem" || a == "dynamodb:UpdateItem") && !slices.Contains(st.Roles, roleOf(t, r, "ledger")) {
					t.Errorf("%s: %s: expect only the ledger function to write the ledger, got %s", r, st.Owner, a)
				}
			}
		}
	}
}

// TestEUStaysEU proves that a stack in an EU region holds no permission on
// anything outside the EU: every Resource of every policy statement (IAM and
// resource policies), every event source and every invoke permission's
// source is this stack's own resource, or an ARN in an EU region, or an S3
// ARN of a bucket configured in an EU region.
func TestEUStaysEU(t *testing.T) {
	for _, r := range allRegions {
		if !EURegion(r) {
			continue
		}
		t.Run(r, func(t *testing.T) {
			// GIVEN the EU stack's template
			check := func(where string, s string) {
				t.Helper()
				switch {
				case strings.HasPrefix(s, "<local:"):
					return // this stack's own resource, in this region
				case s == "*":
					// A key policy's * is the key itself; the backfill's log
					// delivery and tracing take no resource (backfill_test.go).
					if !strings.HasPrefix(where, "AWS::KMS::Key") && !backfillUnscoped(where) {
						t.Errorf("%s: expect named resources, got *", where)
					}
					return
				}
				service, region, ok := arnRegion(s)
				if !ok {
					t.Errorf("%s: expect an ARN, got %q", where, s)
					return
				}
				if region == "" {
					// Region-less: only S3 names, checked against the
					// bucket's configured region.
					partition, _ := jurisdiction.RegionPartition(r)
					bucket, _, _ := strings.Cut(strings.TrimPrefix(s, "arn:"+partition+":s3:::"), "/")
					if service != "s3" || !EURegion(bucketRegion(bucket)) {
						t.Errorf("%s: expect a resource in the EU, got %s (bucket region %q)", where, s, bucketRegion(bucket))
					}
					return
				}
				// THEN every regional resource is in the EU
				if !EURegion(region) {
					t.Errorf("%s: expect a resource in the EU, got %s", where, s)
				}
			}
			// WHEN every policy statement's resources are checked
			n := 0
			for _, st := range statements(r) {
				for _, res := range st.Resources {
					n++
					check(st.Kind+" "+st.Owner+" "+st.Sid+" "+strings.Join(st.Actions, ","), arn(r, res))
				}
			}
			if n < 40 {
				t.Fatalf("expect the walker to visit every resource, got %d", n)
			}
			// ... and every event source and invoke permission source
			for id, res := range resources(r, "AWS::Lambda::EventSourceMapping") {
				check("EventSourceMapping "+id, arn(r, props(res)["EventSourceArn"]))
			}
			for id, res := range resources(r, "AWS::Lambda::Permission") {
				check("Permission "+id, arn(r, props(res)["SourceArn"]))
			}
			for id, res := range resources(r, "AWS::Scheduler::Schedule") {
				target := props(res)["Target"].(map[string]any)
				check("Schedule "+id, arn(r, target["Arn"]))
			}
		})
	}
}

// TestOnlyTheUSRouterReachesEUTables proves the other direction: a non-EU
// stack's only permissions on EU resources are its router's, to get and put
// (copy and verify) records in the EU home regions' watched and quarantine
// tables: relocation, nothing else.
func TestOnlyTheUSRouterReachesEUTables(t *testing.T) {
	r := "us-east-1"
	// GIVEN the US stack's statements
	router := roleOf(t, r, "router")
	homes := map[string]bool{}
	euBuckets := map[string]bool{}
	for _, st := range statements(r) {
		var eu []string
		for _, res := range st.Resources {
			s := arn(r, res)
			if _, region, ok := arnRegion(s); ok && EURegion(region) {
				eu = append(eu, s)
			}
			if strings.HasPrefix(s, "arn:aws:s3:::") {
				// An EU bucket: only the router, to write (and read back)
				// a relocated or quarantined object, never to delete.
				bucket, rest, _ := strings.Cut(strings.TrimPrefix(s, "arn:aws:s3:::"), "/")
				if !EURegion(bucketRegion(bucket)) {
					continue
				}
				euBuckets[bucket] = true
				if !slices.Equal(st.Roles, []string{router}) || !slices.Equal(st.Actions, []string{"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"}) || rest == "" {
					t.Errorf("%s (%v): expect only the router's object writes in an EU bucket, got %v on %s", st.Owner, st.Roles, st.Actions, s)
				}
			}
		}
		if len(eu) == 0 {
			continue
		}
		// WHEN a statement names an EU resource
		// THEN it is the router's, get/put only, on the home regions' tables
		if !slices.Equal(st.Roles, []string{router}) {
			t.Errorf("%s (%v): expect only the router to reach the EU, got %v", st.Owner, st.Roles, eu)
		}
		if !slices.Equal(st.Actions, []string{"dynamodb:GetItem", "dynamodb:PutItem"}) {
			t.Errorf("%s: expect GetItem, PutItem for relocation, got %v", st.Owner, st.Actions)
		}
		for _, s := range eu {
			_, region, _ := arnRegion(s)
			table := s[strings.LastIndex(s, "/")+1:]
			if !slices.Contains(testTables, table) && table != awsenv.DefaultQuarantineTable {
				t.Errorf("expect a watched or quarantine table, got %s", s)
			}
			homes[region+"/"+table] = true
		}
	}
	// ... and relocation does reach every EU home region's buckets.
	for _, b := range []string{"acme-exports-eu", "acme-exports", QuarantineBucketName(testAccount, "eu-central-1"), QuarantineBucketName(testAccount, "eu-west-1")} {
		if !euBuckets[b] {
			t.Errorf("expect the US router to write to s3://%s, got %v", b, euBuckets)
		}
	}
	// ... and relocation does reach every EU home region's tables.
	for _, home := range []string{"eu-central-1", "eu-west-1"} {
		for _, table := range append([]string{awsenv.DefaultQuarantineTable}, testTables...) {
			if !homes[home+"/"+table] {
				t.Errorf("expect the US router to reach %s/%s, got %v", home, table, homes)
			}
		}
	}
	for id, res := range resources(r, "AWS::Lambda::EventSourceMapping") {
		if s := arn(r, props(res)["EventSourceArn"]); !strings.HasPrefix(s, "<local:") && !strings.Contains(s, ":"+r+":") {
			t.Errorf("%s: expect an event source of %s, got %s", id, r, s)
		}
	}
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// catalogTableID is the logical id of the region's catalog table.
func catalogTableID(t *testing.T, region string) string {
	t.Helper()
	return logicalID(t, region, "AWS::DynamoDB::Table", "TableName", awsenv.DefaultCatalogTable)
}

// TestEUSCStackCarriesItsPartition proves that the European Sovereign
// Cloud's stack names its resources in partition aws-eusc: no ARN of the
// template is written for the commercial partition, and the ones the stack
// writes itself (S3 sources, API routes) are aws-eusc's.
func TestEUSCStackCarriesItsPartition(t *testing.T) {
	// GIVEN the eusc-de-east-1 stack's template, as JSON text
	b, err := json.Marshal(fixture.json[euscRegion])
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	// THEN no ARN is in partition aws, some are in aws-eusc, and the
	// stack's environment is the sovereign region
	if n := strings.Count(text, `"arn:aws:`); n != 0 {
		i := strings.Index(text, `"arn:aws:`)
		t.Errorf("expect no arn:aws: literal, got %d, first at %.120s", n, text[i:])
	}
	for _, want := range []string{`arn:aws-eusc:s3:::acme-sovereign-exports`, `arn:aws-eusc:execute-api:eusc-de-east-1:`,
		`arn:aws-eusc:dynamodb:eusc-de-east-1:` + testAccount + `:table/users/stream/`} {
		if !strings.Contains(text, want) {
			t.Errorf("expect %s in the template, got none", want)
		}
	}
	if got := *fixture.stacks[euscRegion].Region(); got != euscRegion {
		t.Errorf("expect the stack in %s, got %s", euscRegion, got)
	}
	if got := *fixture.stacks[euscRegion].Partition(); got != jurisdiction.PartitionEUSC {
		t.Errorf("expect partition %s, got %s", jurisdiction.PartitionEUSC, got)
	}
}

// bucketRegion is the region of a bucket of the test policies: a watched
// one's, or a quarantine bucket's.
func bucketRegion(bucket string) string {
	if r, ok := testBuckets[bucket]; ok {
		return r
	}
	return strings.TrimPrefix(bucket, QuarantineBucketPrefix(testAccount))
}

// TestRouterObjectPermissions: each stack's router reads, lists and
// deletes misplaced objects only in its own region's watched buckets, and
// writes copies only to the home regions' buckets of the source and the
// quarantine buckets of the regions it may reach.
func TestRouterObjectPermissions(t *testing.T) {
	q := func(region string) string { return "arn:aws:s3:::" + QuarantineBucketName(testAccount, region) + "/*" }
	cases := map[string]struct{ read, list, write []string }{
		"eu-central-1": {
			read:  []string{"arn:aws:s3:::acme-exports-eu/users/*"},
			list:  []string{"arn:aws:s3:::acme-exports-eu"},
			write: []string{"arn:aws:s3:::acme-exports/users/*", q("eu-central-1"), q("eu-west-1")},
		},
		"us-east-1": {
			read:  []string{"arn:aws:s3:::acme-exports-us/users/*", "arn:aws:s3:::acme-us-archive/*"},
			list:  []string{"arn:aws:s3:::acme-exports-us", "arn:aws:s3:::acme-us-archive"},
			write: []string{"arn:aws:s3:::acme-exports-eu/users/*", "arn:aws:s3:::acme-exports/users/*", q("us-east-1"), q("eu-central-1"), q("eu-west-1")},
		},
	}
	for r, c := range cases {
		t.Run(r, func(t *testing.T) {
			// GIVEN the router's statements
			router := roleOf(t, r, "router")
			got := map[string][]string{}
			for _, st := range statements(r) {
				if !slices.Equal(st.Roles, []string{router}) {
					continue
				}
				for _, res := range st.Resources {
					got[st.Sid] = append(got[st.Sid], arn(r, res))
				}
			}
			// THEN each S3 statement names exactly these resources
			for sid, want := range map[string][]string{"ReadMisplacedObjects": c.read, "ListMisplacedObjects": c.list, "RelocateObjectsToHomeRegions": c.write} {
				slices.Sort(want)
				slices.Sort(got[sid])
				if !slices.Equal(want, got[sid]) {
					t.Errorf("%s: expect %v, got %v", sid, want, got[sid])
				}
			}
		})
	}
}

// TestDigestBucketWriters proves that two roles write to the digest
// bucket, and only there: the ledger function its digests, the reports
// function the erasure certificates under certificates/, both by put
// alone (no delete, no retention or lock action on the locked bucket).
func TestDigestBucketWriters(t *testing.T) {
	for _, r := range allRegions {
		// GIVEN the digest bucket (the one with Object Lock) and every
		// statement naming its objects
		var bucket string
		for id, res := range resources(r, "AWS::S3::Bucket") {
			if props(res)["ObjectLockEnabled"] == true {
				bucket = id
			}
		}
		if bucket == "" {
			t.Fatalf("%s: expect a bucket with Object Lock", r)
		}
		ledger, reports := roleOf(t, r, "ledger"), roleOf(t, r, "reports")
		writers := map[string][]string{}
		for _, st := range statements(r) {
			for _, res := range st.Resources {
				a := arn(r, res)
				if !strings.HasPrefix(a, "<local:"+bucket+">/") || st.Effect != "Allow" {
					continue
				}
				// WHEN its actions are read
				// THEN no role may delete or change a lock there, and who
				// puts puts where expected
				for _, act := range st.Actions {
					if strings.Contains(act, "Delete") || strings.Contains(act, "Retention") || strings.Contains(act, "LegalHold") || act == "s3:*" {
						t.Errorf("%s: %s: expect no delete or lock action on the digest bucket, got %s", r, st.Owner, act)
					}
					if act == "s3:PutObject" {
						for _, role := range st.Roles {
							writers[role] = append(writers[role], strings.TrimPrefix(a, "<local:"+bucket+">"))
						}
					}
				}
			}
		}
		want := map[string][]string{ledger: {"/*"}, reports: {"/certificates/*"}}
		if !maps.EqualFunc(writers, want, slices.Equal) {
			t.Errorf("%s: expect the ledger to put digests (/*) and reports certificates (/certificates/*), got %v", r, writers)
		}
	}
}
