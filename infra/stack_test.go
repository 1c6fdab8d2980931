package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/awsenv"
)

func TestStacksAreNamedPerRegionWithExplicitEnv(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN the app of three regions, and the European Sovereign Cloud's
	// WHEN they are synthesized
	// THEN there is one stack per region, named Residency-<region>, bound to
	// that region and the configured account
	for _, r := range allRegions {
		s := fixture.stacks[r]
		if s == nil {
			t.Fatalf("expect a stack for %s, got none", r)
		}
		if got := *s.StackName(); got != "Residency-"+r {
			t.Errorf("expect stack name Residency-%s, got %s", r, got)
		}
		if got := *s.Region(); got != r {
			t.Errorf("expect region %s, got %s", r, got)
		}
		if got := *s.Account(); got != testAccount {
			t.Errorf("expect account %s, got %s", testAccount, got)
		}
	}
	if len(fixture.stacks) != len(allRegions) {
		t.Errorf("expect %d stacks, got %d", len(allRegions), len(fixture.stacks))
	}
}

func TestTopology(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each region's template
	// WHEN resources are counted by type
	// THEN each stack has exactly the expected topology (S3 invoke
	// permissions only for the watched buckets of the stack's region)
	common := map[string]int{
		"AWS::DynamoDB::Table":                3, // catalog, ledger, quarantine
		"AWS::DynamoDB::GlobalTable":          0,
		"AWS::KMS::Key":                       2,
		"AWS::KMS::Alias":                     2,
		"AWS::Events::EventBus":               1,
		"AWS::Events::Rule":                   4,
		"AWS::SQS::Queue":                     7, // ledger, ledger DLQ, stream failures, events DLQ, schedule DLQ, violations, violations DLQ
		"AWS::SQS::QueuePolicy":               7, // TLS only (+ EventBridge on the events DLQ and the violations queue)
		"AWS::S3::Bucket":                     4, // digests, access logs, backfill, quarantine
		"AWS::S3::BucketPolicy":               4,
		"AWS::Lambda::Function":               5,
		"AWS::Lambda::EventSourceMapping":     4, // two watched tables' streams, the ledger queue, the violations queue
		"AWS::Lambda::EventInvokeConfig":      3, // tagger, router, retention (asynchronous)
		"AWS::Logs::LogGroup":                 7, // five functions, API access logs, backfill
		"AWS::IAM::Role":                      8, // five functions, the two schedules, backfill
		"AWS::IAM::Policy":                    8,
		"AWS::StepFunctions::StateMachine":    1, // backfill
		"AWS::IAM::ManagedPolicy":             2, // reports reader, certificate issuer
		"AWS::Scheduler::Schedule":            2, // retention sweep, ledger digest
		"AWS::ApiGatewayV2::Api":              1,
		"AWS::ApiGatewayV2::Stage":            1,
		"AWS::ApiGatewayV2::Route":            4,
		"AWS::ApiGatewayV2::Integration":      1,
		"AWS::ApiGatewayV2::Authorizer":       0,  // AWS_IAM needs none
		"AWS::CloudWatch::Alarm":              13, // five functions, five DLQs, overdue deletions, tagger iterator age, exposure p99
		"AWS::CloudWatch::Dashboard":          1,
		"Custom::DynamoDBReplica":             0,
		"AWS::CloudFormation::CustomResource": 0,
	}
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		for typ, n := range common {
			tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(n))
		}
		// Three rule targets that are functions (the violations rule
		// targets a queue), four API routes, one per watched bucket here.
		buckets := 0
		for _, br := range testBuckets {
			if br == r {
				buckets++
			}
		}
		tmpl.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(3+4+buckets))
	}
}

func TestTablesAreRegionalEncryptedRecoverableAndKeyedPerAWSEnv(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each region's template
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		// WHEN the catalog, ledger and quarantine tables are inspected
		// THEN their key schemas and indexes are those of shared/awsenv, and
		// each has PITR, encryption, deletion protection, no replicas
		secure := map[string]any{
			"BillingMode":                      "PAY_PER_REQUEST",
			"DeletionProtectionEnabled":        true,
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true, "RecoveryPeriodInDays": 35},
			"SSESpecification":                 map[string]any{"SSEEnabled": true},
			"Replicas":                         assertions.Match_Absent(),
		}
		with := func(m map[string]any) map[string]any {
			out := map[string]any{}
			for k, v := range secure {
				out[k] = v
			}
			for k, v := range m {
				out[k] = v
			}
			return out
		}
		keys := func(pk, sk string) []any {
			return []any{map[string]any{"AttributeName": pk, "KeyType": "HASH"}, map[string]any{"AttributeName": sk, "KeyType": "RANGE"}}
		}
		gsi := func(name, pk, sk string) map[string]any {
			return map[string]any{"IndexName": name, "KeySchema": keys(pk, sk), "Projection": map[string]any{"ProjectionType": "ALL"}}
		}
		attr := func(name, typ string) map[string]any {
			return map[string]any{"AttributeName": name, "AttributeType": typ}
		}

		tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), with(map[string]any{
			"TableName": awsenv.DefaultCatalogTable,
			"KeySchema": keys(awsenv.CatalogPK, awsenv.CatalogSK),
			"AttributeDefinitions": assertions.Match_ArrayWith(&[]any{
				attr(awsenv.CatalogPK, "S"), attr(awsenv.CatalogSK, "S"), attr(awsenv.DueIndexPK, "S"),
				attr(awsenv.DueIndexSK, "S"), attr(awsenv.SubjectIndexPK, "S"), attr(awsenv.ContractIndexPK, "S"),
			}),
			"GlobalSecondaryIndexes": []any{
				gsi(awsenv.DueIndex, awsenv.DueIndexPK, awsenv.DueIndexSK),
				gsi(awsenv.SubjectIndex, awsenv.SubjectIndexPK, awsenv.CatalogPK),
				gsi(awsenv.ContractIndex, awsenv.ContractIndexPK, awsenv.CatalogPK),
			},
			// No TTL on the catalog: an entry expiring before its record
			// was deleted would leave the record to nobody.
			"TimeToLiveSpecification": assertions.Match_Absent(),
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), with(map[string]any{
			"TableName":              awsenv.DefaultLedgerTable,
			"KeySchema":              keys(awsenv.LedgerPK, awsenv.LedgerSK),
			"AttributeDefinitions":   assertions.Match_ArrayWith(&[]any{attr(awsenv.LedgerPK, "S"), attr(awsenv.LedgerSK, "N"), attr(awsenv.TimeIndexPK, "S"), attr(awsenv.TimeIndexSK, "S")}),
			"GlobalSecondaryIndexes": []any{gsi(awsenv.TimeIndex, awsenv.TimeIndexPK, awsenv.TimeIndexSK)},
		}))
		tmpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), with(map[string]any{
			"TableName": awsenv.DefaultQuarantineTable,
			"KeySchema": keys("pk", "sk"),
		}))
		// Retained if the stack is deleted.
		tmpl.AllResources(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
		// No global table anywhere: it would replicate EU data to the US.
		tmpl.ResourceCountIs(jsii.String("AWS::DynamoDB::GlobalTable"), jsii.Number(0))
		tmpl.AllResourcesProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{"Replicas": assertions.Match_Absent(), "StreamSpecification": assertions.Match_Absent()})
	}
}

func TestFunctionsAreArmProvidedAL2023WithPolicyAndOnlyTheirEnvironment(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each region's template
	common := []string{awsenv.Policy}
	want := map[string][]string{
		"tagger":    {awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID},
		"router":    {awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID, awsenv.Regions, awsenv.QuarantineTable, awsenv.QuarantineBucketPrefix},
		"ledger":    {awsenv.LedgerTable, awsenv.SigningKeyID, awsenv.DigestBucket},
		"retention": {awsenv.CatalogTable, awsenv.EventBus, awsenv.LedgerQueueURL, awsenv.HMACKeyID},
		"reports":   {awsenv.LedgerTable, awsenv.CatalogTable, awsenv.HMACKeyID, awsenv.SigningKeyID, awsenv.DigestBucket},
	}
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		for _, fn := range Functions {
			// WHEN a function is inspected
			// THEN it runs the bootstrap of provided.al2023 on arm64, reads
			// the bundled policy, and gets exactly the names it uses
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"FunctionName":  FunctionName(fn),
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"Environment":   map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{awsenv.Policy: "/var/task/residency.yaml"})},
			})
			id := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(fn))
			vars := props(resources(r, "AWS::Lambda::Function")[id])["Environment"].(map[string]any)["Variables"].(map[string]any)
			var got []string
			for k := range vars {
				got = append(got, k)
			}
			expect := append(append([]string{}, common...), want[fn]...)
			slices.Sort(got)
			slices.Sort(expect)
			if !slices.Equal(got, expect) {
				t.Errorf("%s %s: expect environment %v, got %v", r, fn, expect, got)
			}
		}
	}
	// The router's reach: its region and the home regions, but from an EU
	// stack only the EU ones.
	for r, reach := range map[string]string{
		"eu-central-1": "eu-central-1,eu-west-1",
		"eu-west-1":    "eu-west-1,eu-central-1",
		"us-east-1":    "us-east-1,eu-central-1,eu-west-1",
	} {
		fixture.templates[r].HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"FunctionName": FunctionName("router"),
			"Environment":  map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{awsenv.Regions: reach})},
		})
	}
}

func TestFunctionCodeBundlesBootstrapAndPolicy(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN the synthesized assembly
	policyYAML, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for id, res := range resources("eu-central-1", "AWS::Lambda::Function") {
		// WHEN a function's code asset is opened
		meta := res["Metadata"].(map[string]any)
		dir := filepath.Join(fixture.outdirs[0], meta["aws:asset:path"].(string))
		// THEN it holds an executable bootstrap and the policy as residency.yaml
		st, err := os.Stat(filepath.Join(dir, "bootstrap"))
		if err != nil || st.Mode()&0o111 == 0 {
			t.Errorf("%s: expect an executable bootstrap in %s, got %v", id, dir, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, PolicyAssetName))
		if err != nil || string(got) != string(policyYAML) {
			t.Errorf("%s: expect residency.yaml to be the policy, got %q (%v)", id, got, err)
		}
	}
}

func TestFunctionsWaitForTheirPolicies(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each function
	for id, res := range resources("eu-west-1", "AWS::Lambda::Function") {
		// WHEN its DependsOn is read
		deps, _ := res["DependsOn"].([]any)
		// THEN it waits for its role's policy (event source mappings are
		// checked against it at creation)
		roleID := props(res)["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		if len(deps) != 1 || !strings.HasPrefix(deps[0].(string), roleID[:len(roleID)-8]+"DefaultPolicy") {
			t.Errorf("%s: expect DependsOn [its role's DefaultPolicy], got %v", id, deps)
		}
	}
}

func TestLogGroupsHaveRetention(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each region's template
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		// WHEN the log groups are inspected
		// THEN every one keeps its logs a year, and each function has its own
		tmpl.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 365})
		for _, fn := range Functions {
			lg := logicalID(t, r, "AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/"+FunctionName(fn))
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"FunctionName":  FunctionName(fn),
				"LoggingConfig": map[string]any{"LogGroup": ref(lg)},
			})
		}
	}
}

func TestEventRulesRouteResidencyAndPlatformEvents(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN each region's template
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		bus := logicalID(t, r, "AWS::Events::EventBus", "Name", awsenv.DefaultEventBus)
		dlq := logicalID(t, r, "AWS::SQS::Queue", "QueueName", eventsDLQName)
		cases := map[string]struct {
			detailTypes []string
			source      any
			function    string
		}{
			"ingest and transfers to router": {[]string{events.RecordIngest, events.TransferRequested}, []any{map[string]any{"anything-but": []any{"residency"}}}, "router"},
			"violations to router":           {[]string{events.ResidencyViolation}, []any{"residency"}, "router"},
			"data written to tagger":         {[]string{events.DataWritten}, []any{map[string]any{"anything-but": []any{"residency"}}}, "tagger"},
			"holds, contracts, erasure to retention": {[]string{events.LegalHoldSet, events.LegalHoldReleased, events.ContractEnded, events.ErasureRequested},
				[]any{map[string]any{"anything-but": []any{"residency"}}}, "retention"},
		}
		for name, c := range cases {
			t.Run(r+"/"+name, func(t *testing.T) {
				defer reportAssertion(t)
				// WHEN the rule of those detail types is looked up
				fn := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(c.function))
				if c.detailTypes[0] == events.ResidencyViolation {
					// Violations go to the router through its queue.
					fn = logicalID(t, r, "AWS::SQS::Queue", "QueueName", violationsQueueName)
				}
				dts := make([]any, len(c.detailTypes))
				for i, d := range c.detailTypes {
					dts[i] = d
				}
				// THEN it is on the residency bus, matches the right source,
				// targets the function with retries and a dead-letter queue
				tmpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
					"EventBusName": ref(bus),
					"State":        "ENABLED",
					"EventPattern": map[string]any{"detail-type": dts, "source": c.source},
					"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
						"Arn":              getAtt(fn),
						"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq)},
						"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 86400},
					})},
				})
			})
		}
		// Asynchronous invocations that fail every retry are kept.
		for _, fn := range []string{"tagger", "router", "retention"} {
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
				"FunctionName":         ref(logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(fn))),
				"MaximumRetryAttempts": 2,
				"DestinationConfig":    map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlq)}},
			})
		}
	}
}

func TestLedgerQueueIsFIFOEncryptedWithFIFODeadLetters(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		dlq := logicalID(t, r, "AWS::SQS::Queue", "QueueName", ledgerDLQName)
		queue := logicalID(t, r, "AWS::SQS::Queue", "QueueName", awsenv.DefaultLedgerQueue)
		// WHEN the ledger queue and its DLQ are inspected
		// THEN both are FIFO without content-based deduplication (the
		// functions set MessageDeduplicationId), encrypted, redriven after 5
		tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName":                 awsenv.DefaultLedgerQueue,
			"FifoQueue":                 true,
			"ContentBasedDeduplication": false,
			"SqsManagedSseEnabled":      true,
			"VisibilityTimeout":         6 * ledgerTimeoutSeconds,
			"RedrivePolicy":             map[string]any{"deadLetterTargetArn": getAtt(dlq), "maxReceiveCount": 5},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName": ledgerDLQName, "FifoQueue": true, "ContentBasedDeduplication": false, "SqsManagedSseEnabled": true,
			"MessageRetentionPeriod": 14 * 24 * 3600,
		})
		// Every queue is encrypted and refuses plain HTTP.
		tmpl.AllResourcesProperties(jsii.String("AWS::SQS::Queue"), map[string]any{"SqsManagedSseEnabled": true})
		for id := range resources(r, "AWS::SQS::Queue") {
			tmpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
				"Queues": []any{ref(id)},
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
				})})},
			})
		}
		// The ledger function consumes it and reports failed items alone.
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"EventSourceArn":        getAtt(queue),
			"FunctionName":          ref(logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("ledger"))),
			"BatchSize":             ledgerBatchSize,
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		})
	}
}

func TestWatchedTableStreamsFeedTheTagger(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		tagger := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("tagger"))
		failures := logicalID(t, r, "AWS::SQS::Queue", "QueueName", streamDLQName)
		for _, table := range testTables {
			// WHEN the mapping of a watched table's stream is inspected
			// THEN it reads this region's stream of that table, reports
			// failed records alone, bisects, retries a bounded number of
			// times for a bounded age, then keeps the batch's coordinates
			tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
				"EventSourceArn":             testStreamARN(r, table),
				"FunctionName":               ref(tagger),
				"StartingPosition":           "TRIM_HORIZON",
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"BisectBatchOnFunctionError": true,
				"MaximumRetryAttempts":       streamRetries,
				"MaximumRecordAgeInSeconds":  streamMaxRecordAge * 3600,
				"DestinationConfig":          map[string]any{"OnFailure": map[string]any{"Destination": getAtt(failures)}},
			})
		}
	}
}

func TestWatchedBucketsMayInvokeTheTaggerOnlyInTheirRegion(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		tagger := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("tagger"))
		for b, br := range testBuckets {
			// WHEN the S3 invoke permissions are inspected
			want := map[string]any{
				"Action": "lambda:InvokeFunction", "FunctionName": getAtt(tagger), "Principal": "s3.amazonaws.com",
				"SourceArn": "arn:aws:s3:::" + b, "SourceAccount": testAccount,
			}
			n := 0
			for _, res := range resources(r, "AWS::Lambda::Permission") {
				if props(res)["SourceArn"] == want["SourceArn"] {
					n++
				}
			}
			// THEN only the stack of the bucket's region has one
			if br == r {
				tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), want)
			} else if n != 0 {
				t.Errorf("%s: expect no S3 permission for %s (in %s), got %d", r, b, br, n)
			}
		}
	}
}

func TestSchedules(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		for _, sc := range []struct{ name, fn, sid string }{
			{ScheduleName(r), "retention", "InvokeSweep"},
			{DigestScheduleName(r), "ledger", "InvokeDigest"},
		} {
			// GIVEN each region's template and its schedule
			tmpl := fixture.templates[r]
			fn := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(sc.fn))
			dlq := logicalID(t, r, "AWS::SQS::Queue", "QueueName", scheduleDLQName)
			var schedule map[string]any
			for _, res := range resources(r, "AWS::Scheduler::Schedule") {
				if p := props(res); p["Name"] == sc.name {
					schedule = p
				}
			}
			if schedule == nil {
				t.Fatalf("%s: expect a schedule %s", r, sc.name)
			}
			role := schedule["Target"].(map[string]any)["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
			// WHEN the schedule is inspected
			// THEN it invokes its function hourly (the sweep's default
			// rate; the digests as CloudTrail's), with its own role,
			// retries and dead-letter queue
			tmpl.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), map[string]any{
				"Name":               sc.name,
				"ScheduleExpression": "rate(1 hour)",
				"State":              "ENABLED",
				"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
				"Target": assertions.Match_ObjectLike(&map[string]any{
					"Arn":              getAtt(fn),
					"RoleArn":          getAtt(role),
					"DeadLetterConfig": map[string]any{"Arn": getAtt(dlq)},
					"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600},
				}),
			})
			// The payload is a Scheduled Event from aws.scheduler, as the
			// functions' trigger detection expects.
			var input map[string]any
			if err := json.Unmarshal([]byte(schedule["Target"].(map[string]any)["Input"].(string)), &input); err != nil {
				t.Fatalf("%s: expect the input to be JSON, got %v", r, err)
			}
			if input["detail-type"] != "Scheduled Event" || input["source"] != "aws.scheduler" || input["id"] != "<aws.scheduler.execution-id>" {
				t.Errorf("%s: expect a Scheduled Event from aws.scheduler, got %v", r, input)
			}
			// The role is for the Scheduler of this account only, and may
			// only invoke its function and dead-letter it.
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
				"AssumeRolePolicyDocument": map[string]any{"Statement": []any{map[string]any{
					"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "scheduler.amazonaws.com"},
					"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": testAccount}},
				}}},
			})
			tmpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"Roles": []any{ref(role)},
				"PolicyDocument": map[string]any{"Statement": []any{
					map[string]any{"Sid": sc.sid, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": getAtt(fn)},
					map[string]any{"Sid": "DeadLetters", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": getAtt(dlq)},
				}},
			})
		}
	}
}

func TestReportsAPIIsIAMAuthorizedAndLogged(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		api := logicalID(t, r, "AWS::ApiGatewayV2::Api", "Name", "residency-reports")
		fn := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("reports"))
		// WHEN the API is inspected
		// THEN its three GET routes and its POST route require SigV4
		// (AWS_IAM) and proxy to the reports function; the stage logs every
		// access and is throttled
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{"ProtocolType": "HTTP"})
		for _, route := range []string{"GET /v1/report", "GET /v1/verify", "GET /v1/proof", "POST /v1/certificate"} {
			tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{
				"ApiId": ref(api), "RouteKey": route, "AuthorizationType": "AWS_IAM",
			})
		}
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Integration"), map[string]any{
			"ApiId": ref(api), "IntegrationType": "AWS_PROXY", "IntegrationUri": getAtt(fn), "PayloadFormatVersion": "2.0",
		})
		tmpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
			"ApiId": ref(api), "StageName": "$default", "AutoDeploy": true,
			"AccessLogSettings":    map[string]any{"DestinationArn": assertions.Match_AnyValue(), "Format": assertions.Match_StringLikeRegexp(jsii.String(`\$context\.identity\.userArn`))},
			"DefaultRouteSettings": map[string]any{"ThrottlingBurstLimit": 20, "ThrottlingRateLimit": 10},
		})
		// A managed policy grants exactly the GET routes to compliance.
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
			"ManagedPolicyName": "residency-reports-reader-" + r,
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Sid": "CallReportsAPI", "Effect": "Allow", "Action": "execute-api:Invoke",
				"Resource": []any{
					// In the template's order (the policy sorts its resources).
					map[string]any{"Fn::Join": []any{"", []any{"arn:aws:execute-api:" + r + ":" + testAccount + ":", ref(api), "/$default/GET/v1/proof"}}},
					map[string]any{"Fn::Join": []any{"", []any{"arn:aws:execute-api:" + r + ":" + testAccount + ":", ref(api), "/$default/GET/v1/report"}}},
					map[string]any{"Fn::Join": []any{"", []any{"arn:aws:execute-api:" + r + ":" + testAccount + ":", ref(api), "/$default/GET/v1/verify"}}},
				},
			}}},
		})
		// Another grants the certificate route only, to whoever issues
		// erasure certificates: a reader cannot write to the digest bucket.
		tmpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), map[string]any{
			"ManagedPolicyName": "residency-reports-certifier-" + r,
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Sid": "IssueErasureCertificates", "Effect": "Allow", "Action": "execute-api:Invoke",
				"Resource": map[string]any{"Fn::Join": []any{"", []any{"arn:aws:execute-api:" + r + ":" + testAccount + ":", ref(api), "/$default/POST/v1/certificate"}}},
			}}},
		})
	}
}

func TestDigestBucketIsLockedVersionedPrivateEncryptedAndLogged(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		var digests, logs string
		for id, res := range resources(r, "AWS::S3::Bucket") {
			switch {
			case props(res)["ObjectLockEnabled"] == true:
				digests = id
			case props(res)["LoggingConfiguration"] == nil && props(res)["BucketName"] == nil:
				logs = id // the others are the backfill (backfill_test.go) and quarantine buckets
			}
		}
		private := map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true}
		sse := map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}}
		// WHEN the digest bucket is inspected
		// THEN Object Lock holds every digest 7 years in compliance mode;
		// the bucket is versioned, private, encrypted, and logs its accesses
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"ObjectLockEnabled": true,
			"ObjectLockConfiguration": map[string]any{"ObjectLockEnabled": "Enabled",
				"Rule": map[string]any{"DefaultRetention": map[string]any{"Mode": "COMPLIANCE", "Years": 7}}},
			"VersioningConfiguration":        map[string]any{"Status": "Enabled"},
			"PublicAccessBlockConfiguration": private,
			"BucketEncryption":               sse,
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"LoggingConfiguration":           map[string]any{"DestinationBucketName": ref(logs), "LogFilePrefix": "digests/"},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"PublicAccessBlockConfiguration": private, "BucketEncryption": sse, "ObjectLockEnabled": assertions.Match_Absent(),
		})
		tmpl.AllResources(jsii.String("AWS::S3::Bucket"), map[string]any{"DeletionPolicy": "Retain"})
		// Both refuse plain HTTP and old TLS.
		for _, b := range []string{digests, logs} {
			tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
				"Bucket": ref(b),
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
					assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
					assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"NumericLessThan": map[string]any{"s3:TlsVersion": 1.2}}}),
				})},
			})
		}
	}
}

func TestKMSKeys(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		// WHEN the keys are inspected
		// THEN one is an HMAC key for references, one an ECC P-256 signing
		// key for digests; both regional (never multi-Region), retained, and
		// their policies delegate only their uses to IAM
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC", "MultiRegion": false,
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": "UseThroughIAMPoliciesOnly", "Action": []any{"kms:GenerateMac", "kms:VerifyMac"},
			})})},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY", "MultiRegion": false,
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": "UseThroughIAMPoliciesOnly", "Action": []any{"kms:GetPublicKey", "kms:Sign", "kms:Verify"},
			})})},
		})
		// Neither key type supports automatic rotation: none is claimed.
		tmpl.AllResourcesProperties(jsii.String("AWS::KMS::Key"), map[string]any{"EnableKeyRotation": assertions.Match_Absent()})
		tmpl.AllResources(jsii.String("AWS::KMS::Key"), map[string]any{"DeletionPolicy": "Retain"})
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]any{"AliasName": referenceAlias})
		tmpl.HasResourceProperties(jsii.String("AWS::KMS::Alias"), map[string]any{"AliasName": signingAlias})
	}
}

func TestAlarmsOnFunctionErrorsAndDeadLetters(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		// WHEN the alarms are inspected
		// THEN every function's errors and every DLQ's first message alarm
		for _, fn := range Functions {
			tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace": "AWS/Lambda", "MetricName": "Errors", "Statistic": "Sum", "Threshold": 1,
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"Dimensions":         []any{map[string]any{"Name": "FunctionName", "Value": ref(logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(fn)))}},
			})
		}
		for _, q := range []string{ledgerDLQName, streamDLQName, eventsDLQName, scheduleDLQName} {
			tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 1,
				"ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"Dimensions": []any{map[string]any{"Name": "QueueName", "Value": map[string]any{
					"Fn::GetAtt": []any{logicalID(t, r, "AWS::SQS::Queue", "QueueName", q), "QueueName"}}}},
			})
		}
	}
}

// The region's alarms on overdue deletions (two sweep periods, missing data
// breaching: sweeps that stop alarm too) and the tagger's iterator age, and
// its dashboard of the functions' metrics.
func TestOverdueAndIteratorAgeAlarmsAndDashboard(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		tmpl := fixture.templates[r]
		tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "Residency", "MetricName": "OldestOverdueAge", "Statistic": "Maximum", "Period": 7200, "Threshold": 7200,
			"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "breaching",
			"Dimensions": []any{map[string]any{"Name": "function", "Value": "retention"}, map[string]any{"Name": "region", "Value": r}},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Statistic": "Maximum", "Threshold": 300000,
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": ref(logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("tagger")))}},
		})
		dashboards := tmpl.FindResources(jsii.String("AWS::CloudWatch::Dashboard"), nil)
		if len(*dashboards) != 1 {
			t.Fatalf("%s: expect one dashboard, got %d", r, len(*dashboards))
		}
		for _, d := range *dashboards {
			props := (*d)["Properties"].(map[string]any)
			body, _ := json.Marshal(props["DashboardBody"])
			if props["DashboardName"] != "Residency-"+r {
				t.Errorf("%s: expect dashboard Residency-%s, got %v", r, r, props["DashboardName"])
			}
			for _, want := range []string{"RecordsTagged", "Violations", "RecordsFailed", "SweepDeleted", "OldestOverdueAge", "AppendLag", "IteratorAge", "ApproximateNumberOfMessagesVisible", "SEARCH("} {
				if !strings.Contains(string(body), want) {
					t.Errorf("%s: expect the dashboard to show %s, got %s", r, want, body)
				}
			}
		}
	}
}

func TestSweepPeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"rate(1 hour)": time.Hour, "rate(15 minutes)": 15 * time.Minute, "rate(2 days)": 48 * time.Hour,
		"cron(0 3 * * ? *)": 24 * time.Hour, "": time.Hour,
	} {
		if got := sweepPeriod(in); got != want {
			t.Errorf("sweepPeriod(%q): expect %v, got %v", in, want, got)
		}
	}
}

func TestOutputs(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		// WHEN its outputs are read
		// THEN the API URL, bus name, table names and what the platform
		// needs to wire its buckets are there
		for _, o := range []string{OutAPIURL, OutEventBusName, OutCatalogTable, OutLedgerTable, OutQuarantine, OutLedgerQueueURL, OutDigestBucket, OutTaggerARN,
			OutBackfillARN, OutBackfillBucket} {
			tmpl.HasOutput(jsii.String(o), map[string]any{"Value": assertions.Match_AnyValue()})
		}
		tmpl.HasOutput(jsii.String(OutCatalogTable), map[string]any{"Value": ref(logicalID(t, r, "AWS::DynamoDB::Table", "TableName", awsenv.DefaultCatalogTable))})
		tmpl.HasOutput(jsii.String(OutEventBusName), map[string]any{"Value": ref(logicalID(t, r, "AWS::Events::EventBus", "Name", awsenv.DefaultEventBus))})
	}
}

func TestQuarantineBucketIsNamedByRegionPrivateEncryptedAndLogged(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template (the policy watches buckets)
		tmpl := fixture.templates[r]
		name := QuarantineBucketName(testAccount, r)
		id := logicalID(t, r, "AWS::S3::Bucket", "BucketName", name)
		// WHEN its quarantine bucket is inspected
		// THEN it has the name every router computes, and is private,
		// encrypted, logged, retained and TLS only
		tmpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": assertions.Match_ObjectLike(&map[string]any{
				"BucketName":                     name,
				"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
				"BucketEncryption":               map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}},
				"LoggingConfiguration":           assertions.Match_ObjectLike(&map[string]any{"LogFilePrefix": "quarantine/"}),
			}),
		})
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"Bucket": ref(id),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			})},
		})
		// AND the router is told the prefix of every region's
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"FunctionName": FunctionName("router"),
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				awsenv.QuarantineBucketPrefix: QuarantineBucketPrefix(testAccount)})},
		})
	}
}

func TestViolationsQueueFeedsTheRouterInBatches(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range testRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		queue := logicalID(t, r, "AWS::SQS::Queue", "QueueName", violationsQueueName)
		dlq := logicalID(t, r, "AWS::SQS::Queue", "QueueName", violationsDLQName)
		router := logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName("router"))
		// WHEN the violations queue, its DLQ and the router's event
		// source mapping are inspected
		// THEN the queue is encrypted, redriven to its DLQ after 5
		// receives, its visibility timeout six times the router's
		tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName":            violationsQueueName,
			"SqsManagedSseEnabled": true,
			"VisibilityTimeout":    6 * routerTimeoutSeconds,
			"RedrivePolicy":        map[string]any{"deadLetterTargetArn": getAtt(dlq), "maxReceiveCount": violationsMaxReceives},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"FunctionName": FunctionName("router"), "Timeout": routerTimeoutSeconds,
		})
		tmpl.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
			"QueueName": violationsDLQName, "SqsManagedSseEnabled": true, "MessageRetentionPeriod": 14 * 24 * 3600,
		})
		// the router consumes it in batches of up to 100 and reports
		// failed messages alone
		tmpl.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
			"EventSourceArn":                 getAtt(queue),
			"FunctionName":                   ref(router),
			"BatchSize":                      violationsBatchSize,
			"MaximumBatchingWindowInSeconds": violationsBatchWindow,
			"FunctionResponseTypes":          []any{"ReportBatchItemFailures"},
		})
		// only EventBridge's rule of this stack may send to it
		tmpl.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
			"Queues": []any{ref(queue)},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Allow", "Action": []any{"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"}, "Principal": map[string]any{"Service": "events.amazonaws.com"},
				"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": assertions.Match_ObjectLike(&map[string]any{
					"Fn::GetAtt": assertions.Match_ArrayWith(&[]any{assertions.Match_StringLikeRegexp(jsii.String("^ViolationToRouterRule"))}),
				})}},
			})})},
		})
		// and the router's role may receive and delete on that queue only
		role := roleOf(t, r, "router")
		for _, st := range statements(r) {
			if !slices.Contains(st.Roles, role) || !slices.ContainsFunc(st.Actions, func(a string) bool { return a == "sqs:ReceiveMessage" || a == "sqs:DeleteMessage" }) {
				continue
			}
			for _, res := range st.Resources {
				if got := arn(r, res); got != "<local:"+queue+">" {
					t.Errorf("%s: expect the router to receive only from the violations queue, got %s", r, got)
				}
			}
		}
	}
}
