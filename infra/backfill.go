package main

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"
)

// The backfill state machine and its bucket.
const (
	// BackfillStateMachineName is the name of each region's backfill state
	// machine (one per stack, so the same in every region).
	BackfillStateMachineName = "residency-backfill"
	// backfillExports is the prefix of the table exports in the backfill
	// bucket: exports/<table>/AWSDynamoDB/<export id>/...
	backfillExports = "exports/"
	// backfillInventory is the prefix S3 Inventory reports of this
	// region's watched buckets are delivered to in the backfill bucket:
	// inventory/<source bucket>/<config id>/... (S3 adds the last two).
	backfillInventory = "inventory/"
	// backfillResults is the prefix of the Map Runs' results (each
	// segment's or data file's figures, and the failed ones with their
	// error and cause).
	backfillResults = "results/"
	// backfillExpiryDays is how long an export (a copy of the table's
	// personal data) and the results are kept: long enough for a backfill
	// to read them, short enough that no copy outlives an erasure by more.
	backfillExpiryDays = 7
	// taggerPermanentError is the errorType of a backfill page that cannot
	// succeed as it is (functions/tagger.PermanentError): never retried.
	taggerPermanentError = "PermanentError"
	// maxSegments is the most scan segments (States.ArrayRange makes at
	// most 1000 items) and the highest concurrency; maxPageLimit is the
	// tagger's MaxBackfillPage.
	maxSegments, maxPageLimit = 1000, 1000
	// pagesPerExecution is the most pages one execution's page loop runs
	// before it hands its cursor to a nested execution of this state
	// machine (startExecution.sync:2) and waits for it: a page costs about
	// 9 history events (11 with a wait), so 1,500 pages stay well under
	// Step Functions' 25,000 events an execution, with room for retries,
	// and a source of any size (a bucket of a billion objects, one data
	// file of an inventory) runs as a chain of executions.
	pagesPerExecution = 1500
)

// backfillDefaults are the input fields a start-execution may leave out.
var backfillDefaults = map[string]any{"mode": "scan", "segments": 8, "limit": maxPageLimit, "wait_seconds": 0, "concurrency": 8}

// backfill makes the backfill of the watched tables: a Standard state
// machine that drives the tagger's backfill pages, with its bucket (table
// exports, Map Run results), log group and role.
//
// Input: {"source": "<watched table>", "mode": "scan"|"export",
// "segments": 8, "limit": 1000, "wait_seconds": 0, "concurrency": 8}, or
// {"source": "<watched bucket of this region>", "mode": "list"|"inventory",
// "manifest": "inventory/<bucket>/<config id>/<time>/manifest.json",
// "limit": 1000, "wait_seconds": 0}; all but source (and an inventory's
// manifest) are optional, and a bucket's default mode is list.
//
//   - scan: a Distributed Map over the segments 0..N-1 of a parallel Scan;
//     each iteration is a loop: invoke the tagger with a page, add its
//     figures, and invoke again with its next_cursor (the checkpoint) until
//     it is "". The read rate is set in three ways, by design: limit (items
//     a page, at most 1000, so that a page and its tag writes fit the
//     tagger's timeout), concurrency (the Map's MaxConcurrency: segments
//     read at once) and wait_seconds (a Wait state between a segment's
//     pages). A segment reads at most limit items per (page time +
//     wait_seconds), so the table's reads stay below concurrency * limit /
//     wait_seconds items a second whatever the table's size, without a
//     home-made rate limiter; the defaults read as fast as the tagger tags.
//   - export: ExportTableToPointInTime to the backfill bucket (no read
//     capacity; point-in-time recovery must be on), polled with
//     DescribeExport every minute until COMPLETED (FAILED fails the
//     execution with the export's failure code and message), then a
//     Distributed Map over the lines of the export's manifest-files.json
//     (JSONL item reader), each iteration the same loop over the pages of
//     one data file, which the tagger reads from S3.
//   - list (buckets): a Distributed Map over the one bucket, its iteration
//     the same page loop over ListObjectsV2 pages (the tagger lists and
//     reads the objects, next_cursor the sealed continuation token).
//   - inventory (buckets): the same over an S3 Inventory report (CSV) that
//     S3 delivered to the backfill bucket under inventory/: the tagger reads
//     its manifest.json and its data files, a page of limit rows at a time,
//     from file to file; no ListObjectsV2 request.
//
// Every page loop runs at most pagesPerExecution pages in an execution,
// then continues in a nested execution of this machine (see pageLoop and
// continuation), so no source is too large for an execution's history.
//
// No item passes through the state machine: its inputs and outputs (all
// logged, execution data included) hold table names, segment numbers,
// sealed cursors, data file keys, figures and rec_ references only.
// Failures: transient Lambda errors and timeouts are retried with backoff,
// a PermanentError never; an iteration that keeps failing fails alone with
// its error and cause (ToleratedFailurePercentage 100: the others finish),
// and DescribeMapRun then fails the execution if any did, before coverage
// is recorded. A completed backfill invokes the tagger with
// {"backfill_completed": {region, source, mode}}, which records coverage;
// an error of that invocation is kept in the output (coverage_error) and
// does not undo the backfill.
func (r *residency) backfill() {
	tables, buckets := WatchedTables(r.props.Policy), r.localBuckets()
	if len(tables) == 0 && len(buckets) == 0 {
		return
	}
	r.backfillBucket = r.privateBucket("BackfillBucket", "backfill/", &awss3.BucketProps{
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-exports-and-results"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(backfillExpiryDays)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(1)),
		}},
	})
	logs := awslogs.NewLogGroup(r.stack, jsii.String("BackfillLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + BackfillStateMachineName),
		Retention:     LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	role := awsiam.NewRole(r.stack, jsii.String("BackfillRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("states.amazonaws.com"), nil),
		Description: jsii.String("Residency backfill state machine (" + r.region + "): least privilege"),
	})
	if len(buckets) > 0 {
		r.inventoryDelivery(buckets)
	}
	b := &backfillBuilder{r: r, tables: tables, buckets: buckets}
	sm := sfn.NewStateMachine(r.stack, jsii.String("BackfillStateMachine"), &sfn.StateMachineProps{
		StateMachineName: jsii.String(BackfillStateMachineName),
		StateMachineType: sfn.StateMachineType_STANDARD,
		Comment:          jsii.String("Residency backfill: brings the records of a watched table or bucket that predate Residency under it (see README, Backfill existing data)"),
		DefinitionBody:   sfn.DefinitionBody_FromChainable(b.definition()),
		// The statements are written out below (backfillPermissions): the
		// CDK's own grants (lambda:InvokeFunction on <arn>:*, s3 on the
		// whole bucket) are wider than what the definition uses.
		Role:           role.WithoutPolicyUpdates(nil),
		Logs:           &sfn.LogOptions{Destination: logs, Level: sfn.LogLevel_ALL, IncludeExecutionData: jsii.Bool(true)},
		TracingEnabled: jsii.Bool(true),
	})
	// The CDK's policy of the Distributed Map's own grants, left empty by
	// the immutable role: backfillPermissions writes them.
	sm.Node().TryRemoveChild(jsii.String("DistributedMapPolicy"))
	r.backfillPermissions(role, tables, buckets)
	// The role's policy must exist before the state machine (logging is
	// checked at creation); the wait for the role is implied by RoleArn
	// (cfn-lint W3005).
	policy := role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
	sm.Node().DefaultChild().(sfn.CfnStateMachine).AddOverride(jsii.String("DependsOn"), &[]*string{r.stack.GetLogicalId(policy)})
	r.backfillMachine, r.backfillRole = sm, role
}

// backfillBuilder builds the definition.
type backfillBuilder struct {
	r       *residency
	tables  []string
	buckets []string // this region's watched buckets
	loops   []pageLoopSpec
	selfRef sfn.IStateMachine
}

func (b *backfillBuilder) id(s string) *string { return jsii.String(s) }

// definition is the state machine's definition (see backfill).
func (b *backfillBuilder) definition() sfn.IChainable {
	s := b.r.stack
	defaults := sfn.NewPass(s, b.id("Defaults"), &sfn.PassProps{Parameters: &map[string]any{"defaults": backfillDefaults, "input.$": "$"}})
	args := sfn.NewPass(s, b.id("Arguments"), &sfn.PassProps{
		Parameters: &map[string]any{"args.$": "States.JsonMerge($.defaults, $.input, false)"},
	})
	var tableSources, bucketSources []sfn.Condition
	for _, t := range b.tables {
		tableSources = append(tableSources, sfn.Condition_StringEquals(jsii.String("$.args.source"), jsii.String(t)))
	}
	for _, bk := range b.buckets {
		bucketSources = append(bucketSources, sfn.Condition_StringEquals(jsii.String("$.args.source"), jsii.String(bk)))
	}
	badSource := sfn.NewFail(s, b.id("NotAWatchedTable"), &sfn.FailProps{Error: jsii.String("InvalidInput"),
		Cause: jsii.String("source must be a watched table or bucket of this stack: " + strings.Join(append(append([]string{}, b.tables...), b.buckets...), ", "))})
	badArgs := sfn.NewFail(s, b.id("InvalidArguments"), &sfn.FailProps{Error: jsii.String("InvalidInput"),
		Cause: jsii.String(fmt.Sprintf(`mode must be "scan" or "export" for a table, "list" or "inventory" (with a manifest under %s) for a bucket; `+
			`segments (scan) and concurrency 1 to %d; limit 1 to %d; wait_seconds 0 to 3600`, backfillInventory, maxSegments, maxPageLimit))})

	inRange := func(field string, lo, hi float64) sfn.Condition {
		p := jsii.String("$.args." + field)
		return sfn.Condition_And(sfn.Condition_IsNumeric(p), sfn.Condition_NumberGreaterThanEquals(p, jsii.Number(lo)), sfn.Condition_NumberLessThanEquals(p, jsii.Number(hi)))
	}
	common := []sfn.Condition{inRange("limit", 1, maxPageLimit), inRange("wait_seconds", 0, 3600), inRange("concurrency", 1, maxSegments)}
	isMode := func(source sfn.Condition, m string, more ...sfn.Condition) sfn.Condition {
		cs := append([]sfn.Condition{source, sfn.Condition_StringEquals(jsii.String("$.args.mode"), jsii.String(m))}, common...)
		return sfn.Condition_And(append(cs, more...)...)
	}

	described := b.describeRun()
	check := sfn.NewChoice(s, b.id("CheckArguments"), nil).
		When(sfn.Condition_Not(sfn.Condition_And(sfn.Condition_IsPresent(jsii.String("$.args.source")), sfn.Condition_IsString(jsii.String("$.args.source")),
			sfn.Condition_Or(append(append([]sfn.Condition{}, tableSources...), bucketSources...)...))), badSource, nil)
	if len(b.tables) > 0 {
		table := sfn.Condition_Or(tableSources...)
		check.When(isMode(table, "scan", inRange("segments", 1, maxSegments)), b.scan(described), nil).
			When(isMode(table, "export"), b.export(described), nil)
	}
	if len(b.buckets) > 0 {
		bucket := sfn.Condition_Or(bucketSources...)
		list := b.list(described)
		// A bucket has no scan: the default mode is its listing.
		listDefault := sfn.NewPass(s, b.id("BucketListDefault"), &sfn.PassProps{Parameters: &map[string]any{
			"args.$": `States.JsonMerge($.args, States.StringToJson('{"mode": "list"}'), false)`,
		}})
		manifest := jsii.String("$.args.manifest")
		check.When(isMode(bucket, "scan"), listDefault.Next(list), nil).
			When(isMode(bucket, "list"), list, nil).
			When(isMode(bucket, "inventory", sfn.Condition_IsPresent(manifest), sfn.Condition_IsString(manifest),
				sfn.Condition_StringMatches(manifest, jsii.String(backfillInventory+"*/manifest.json"))), b.inventory(described), nil)
	}
	check.Otherwise(badArgs)
	return b.continuation(defaults.Next(args).Next(check))
}

// scan is the scan mode: a Distributed Map over the segments.
func (b *backfillBuilder) scan(next sfn.IChainable) sfn.IChainable {
	s := b.r.stack
	list := sfn.NewPass(s, b.id("SegmentList"), &sfn.PassProps{Parameters: &map[string]any{
		"args.$":     "$.args",
		"segments.$": "States.ArrayRange(0, States.MathAdd($.args.segments, -1), 1)",
	}})
	m := b.distributedMap("ScanSegments", &sfn.DistributedMapProps{
		ItemsPath: jsii.String("$.segments"),
		ItemSelector: iteration(map[string]any{
			"source.$": "$.args.source", "segment.$": "$$.Map.Item.Value", "segments.$": "$.args.segments",
		}),
	})
	m.ItemProcessor(b.pageLoop("Scan", []string{"source", "segment", "segments", "limit", "wait_seconds"}, map[string]any{
		"region": b.r.region, "table.$": "$.source", "segment.$": "$.segment", "segments.$": "$.segments",
		"cursor.$": "$.cursor", "limit.$": "$.limit",
	}), &sfn.ProcessorConfig{Mode: sfn.ProcessorMode_DISTRIBUTED, ExecutionType: sfn.ProcessorType_STANDARD})
	return list.Next(m.Next(next))
}

// list is a bucket's list mode: its ListObjectsV2 pages through the
// tagger.
func (b *backfillBuilder) list(next sfn.IChainable) sfn.IChainable {
	return b.bucketPages("ListedBucket", "ListBucket", "List", nil, map[string]any{
		"region": b.r.region, "bucket.$": "$.source", "cursor.$": "$.cursor", "limit.$": "$.limit",
	}, next)
}

// inventory is a bucket's inventory mode: the same loop over the pages of
// an S3 Inventory report in the backfill bucket, which the tagger reads.
func (b *backfillBuilder) inventory(next sfn.IChainable) sfn.IChainable {
	return b.bucketPages("InventoriedBucket", "InventoryPages", "Inventory", []string{"manifest"}, map[string]any{
		"region": b.r.region, "bucket.$": "$.source", "inventory": map[string]any{"bucket": b.r.backfillBucket.BucketName(), "manifest.$": "$.manifest"},
		"cursor.$": "$.cursor", "limit.$": "$.limit",
	}, next)
}

// bucketPages is a bucket mode: a Distributed Map over the one bucket
// (named by the states pass and mapName), whose iteration loops over its
// pages through the tagger (states prefixed loop) with payload as each
// page's request; args are the execution's inputs the loop needs besides
// the bucket, its page size and its wait.
func (b *backfillBuilder) bucketPages(pass, mapName, loop string, args []string, payload map[string]any, next sfn.IChainable) sfn.IChainable {
	one := sfn.NewPass(b.r.stack, b.id(pass), &sfn.PassProps{Parameters: &map[string]any{
		"args.$": "$.args", "buckets.$": "States.Array($.args.source)",
	}})
	selector := map[string]any{"source.$": "$$.Map.Item.Value"}
	keep := []string{"source"}
	for _, a := range args {
		selector[a+".$"] = "$.args." + a
		keep = append(keep, a)
	}
	keep = append(keep, "limit", "wait_seconds")
	m := b.distributedMap(mapName, &sfn.DistributedMapProps{ItemsPath: jsii.String("$.buckets"), ItemSelector: iteration(selector)})
	m.ItemProcessor(b.pageLoop(loop, keep, payload), &sfn.ProcessorConfig{Mode: sfn.ProcessorMode_DISTRIBUTED, ExecutionType: sfn.ProcessorType_STANDARD})
	return one.Next(m.Next(next))
}

// inventoryDelivery lets S3 Inventory deliver the reports of this region's
// watched buckets to the backfill bucket, under inventory/ only, from
// those buckets of this account only (as AWS documents the destination
// bucket's policy).
func (r *residency) inventoryDelivery(buckets []string) {
	arns, _ := r.bucketARNs(buckets)
	st := allow("S3InventoryOfWatchedBuckets", []string{"s3:PutObject"}, r.backfillBucket.ArnForObjects(jsii.String(backfillInventory+"*")))
	st.AddServicePrincipal(jsii.String("s3.amazonaws.com"), nil)
	st.AddCondition(jsii.String("ArnLike"), &map[string]any{"aws:SourceArn": arns})
	st.AddCondition(jsii.String("StringEquals"), &map[string]any{"aws:SourceAccount": r.stack.Account(), "s3:x-amz-acl": "bucket-owner-full-control"})
	r.backfillBucket.AddToResourcePolicy(st)
}

// export is the export mode: ExportTableToPointInTime, a DescribeExport
// loop, then a Distributed Map over the export's data files.
func (b *backfillBuilder) export(next sfn.IChainable) sfn.IChainable {
	s, r := b.r.stack, b.r
	tableARN := r.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("dynamodb"), Resource: jsii.String("table"), ResourceName: jsii.String("{}")})
	start := awsstepfunctionstasks.NewCallAwsService(s, b.id("StartExport"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service: jsii.String("dynamodb"), Action: jsii.String("exportTableToPointInTime"),
		IamAction: jsii.String("dynamodb:ExportTableToPointInTime"), IamResources: jsii.Strings("*"), // dropped: see backfillPermissions
		Parameters: &map[string]any{
			"TableArn.$":    "States.Format('" + *tableARN + "', $.args.source)",
			"S3Bucket":      r.backfillBucket.BucketName(),
			"S3Prefix.$":    "States.Format('" + strings.TrimSuffix(backfillExports, "/") + "/{}', $.args.source)",
			"ExportFormat":  "DYNAMODB_JSON",
			"ExportType":    "FULL_EXPORT",
			"ClientToken.$": "$$.Execution.Name", // a retried start is the same export
		},
		ResultSelector: &map[string]any{"arn.$": "$.ExportDescription.ExportArn"},
		ResultPath:     jsii.String("$.export"),
	})
	start.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException", "States.Timeout"),
		Interval: awscdk.Duration_Seconds(jsii.Number(10)), BackoffRate: jsii.Number(2), MaxAttempts: jsii.Number(5), JitterStrategy: sfn.JitterType_FULL})
	start.AddCatch(sfn.NewFail(s, b.id("PointInTimeRecoveryOff"), &sfn.FailProps{Error: jsii.String("PointInTimeRecoveryOff"),
		Cause: jsii.String("an export needs point-in-time recovery on the table: aws dynamodb update-continuous-backups --table-name TABLE " +
			"--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true, or start the backfill with \"mode\": \"scan\"")}),
		&sfn.CatchProps{Errors: jsii.Strings("DynamoDb.PointInTimeRecoveryUnavailableException")})

	wait := sfn.NewWait(s, b.id("WaitForExport"), &sfn.WaitProps{Time: sfn.WaitTime_Duration(awscdk.Duration_Minutes(jsii.Number(1)))})
	describe := awsstepfunctionstasks.NewCallAwsService(s, b.id("DescribeExport"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service: jsii.String("dynamodb"), Action: jsii.String("describeExport"),
		IamAction: jsii.String("dynamodb:DescribeExport"), IamResources: jsii.Strings("*"), // dropped: see backfillPermissions
		Parameters: &map[string]any{"ExportArn.$": "$.export.arn"},
		ResultSelector: &map[string]any{"arn.$": "$.ExportDescription.ExportArn", "status.$": "$.ExportDescription.ExportStatus",
			"description.$": "$.ExportDescription"},
		ResultPath: jsii.String("$.export"),
	})
	describe.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("DynamoDb.LimitExceededException", "DynamoDb.InternalServerErrorException", "States.Timeout"),
		Interval: awscdk.Duration_Seconds(jsii.Number(10)), BackoffRate: jsii.Number(2), MaxAttempts: jsii.Number(5), JitterStrategy: sfn.JitterType_FULL})
	failure := sfn.NewPass(s, b.id("ExportFailure"), &sfn.PassProps{Parameters: &map[string]any{"cause.$": "States.JsonToString($.export.description)"}})
	failed := sfn.NewFail(s, b.id("ExportFailed"), &sfn.FailProps{Error: jsii.String("ExportFailed"), CausePath: jsii.String("$.cause")})

	files := sfn.NewPass(s, b.id("ExportManifest"), &sfn.PassProps{Parameters: &map[string]any{
		"args.$": "$.args", "export_arn.$": "$.export.arn",
		// export-prefix/AWSDynamoDB/<export id>/manifest-files.json, the id
		// being the last part of the export's ARN (.../table/T/export/ID).
		"manifest.$": "States.Format('" + backfillExports + "{}/AWSDynamoDB/{}/manifest-files.json', $.args.source, " +
			"States.ArrayGetItem(States.StringSplit($.export.arn, '/'), 3))",
	}})
	m := b.distributedMap("ExportFiles", &sfn.DistributedMapProps{
		// One line a data file: {"itemCount", "md5Checksum", "etag", "dataFileS3Key"}.
		ItemReader: sfn.NewS3JsonLItemReader(&sfn.S3FileItemReaderProps{Bucket: r.backfillBucket, Key: sfn.JsonPath_StringAt(jsii.String("$.manifest"))}),
		ItemSelector: iteration(map[string]any{
			"source.$": "$.args.source", "bucket": r.backfillBucket.BucketName(), "key.$": "$$.Map.Item.Value.dataFileS3Key",
		}),
	})
	m.ItemProcessor(b.pageLoop("File", []string{"source", "bucket", "key", "limit", "wait_seconds"}, map[string]any{
		"region": r.region, "table.$": "$.source", "export": map[string]any{"bucket.$": "$.bucket", "key.$": "$.key"},
		"cursor.$": "$.cursor", "limit.$": "$.limit",
	}), &sfn.ProcessorConfig{Mode: sfn.ProcessorMode_DISTRIBUTED, ExecutionType: sfn.ProcessorType_STANDARD})

	status := jsii.String("$.export.status")
	poll := sfn.NewChoice(s, b.id("ExportDone"), nil).
		When(sfn.Condition_StringEquals(status, jsii.String("COMPLETED")), files.Next(m.Next(next)), nil).
		When(sfn.Condition_StringEquals(status, jsii.String("FAILED")), failure.Next(failed), nil).
		Otherwise(wait)
	return start.Next(wait).Next(describe).Next(poll)
}

// distributedMap is a Distributed Map of this definition: iterations run
// as Standard child executions, at most $.args.concurrency at once; every
// iteration runs whatever the others do (a failed one is counted, then
// DescribeMapRun decides); results go to the backfill bucket.
func (b *backfillBuilder) distributedMap(name string, props *sfn.DistributedMapProps) sfn.DistributedMap {
	props.Label = jsii.String(name)
	props.MaxConcurrencyPath = jsii.String("$.args.concurrency")
	props.ToleratedFailurePercentage = jsii.Number(100)
	props.ResultWriterV2 = sfn.NewResultWriterV2(&sfn.ResultWriterV2Props{Bucket: b.r.backfillBucket, Prefix: jsii.String(backfillResults + name)})
	props.ResultPath = jsii.String("$.map")
	return sfn.NewDistributedMap(b.r.stack, jsii.String(name), props)
}

// iteration is the ItemSelector of a Distributed Map whose iterations are
// page loops: fields, the execution's page size and wait, and the start of
// the loop at the source's first page.
func iteration(fields map[string]any) *map[string]any {
	fields["limit.$"], fields["wait_seconds.$"] = "$.args.limit", "$.args.wait_seconds"
	m := loopStart(fields, "")
	return &m
}

// loopStart adds to m the state a page loop starts from: no page run yet,
// zero totals, and its cursor: the value at the path cursor (a nested
// execution goes on from where its parent stopped), or "" (the source's
// first page) when cursor is "". It returns m.
func loopStart(m map[string]any, cursor string) map[string]any {
	if cursor == "" {
		m["cursor"] = ""
	} else {
		m["cursor.$"] = cursor
	}
	m["pages"], m["totals"] = 0, zeroTotals()
	return m
}

// totalsFields are a page's figures, added up per iteration.
var totalsFields = []string{"items", "tagged", "unchanged", "violations", "failed"}

func zeroTotals() map[string]any {
	out := map[string]any{}
	for _, f := range totalsFields {
		out[f] = 0
	}
	return out
}

// pageLoop is one iteration's loop: invoke the tagger with a page (payload:
// the {"backfill": ...} request, from the iteration's state), add the
// page's figures to its totals, and go on from next_cursor until it is ""
// (waiting wait_seconds between pages when above 0). keep lists the state
// fields the loop carries from page to page. After pagesPerExecution pages
// with more to come, it starts a nested execution of this state machine
// with its state, {"continue": {"loop": prefix, "state": ...}}, which runs
// the same loop from the cursor (continuation, from the execution's
// start), waits for it, and adds its totals: each execution's history
// stays bounded whatever the source's size. The loop is recorded in
// b.loops, for continuation to enter.
func (b *backfillBuilder) pageLoop(prefix string, keep []string, payload map[string]any) sfn.IChainable {
	b.loops = append(b.loops, pageLoopSpec{prefix, keep, payload})
	return b.loop(prefix, prefix, keep, payload)
}

// pageLoopSpec is a page loop, as continuation builds it again.
type pageLoopSpec struct {
	name    string
	keep    []string
	payload map[string]any
}

// loop builds the states of a page loop named loop, prefixed prefix (the
// loop itself in a Map's iterations, Continued<loop> at the top level).
func (b *backfillBuilder) loop(prefix, loop string, keep []string, payload map[string]any) sfn.IChainable {
	s := b.r.stack
	page := b.invokeTagger(prefix+"Page", map[string]any{"backfill": payload}, &map[string]any{
		"items.$": "$.Payload.items", "tagged.$": "$.Payload.tagged", "unchanged.$": "$.Payload.unchanged",
		"violations.$": "$.Payload.violations", "failed.$": "$.Payload.failed", "next_cursor.$": "$.Payload.next_cursor",
	}, "$.page")
	// An iteration that keeps failing fails alone, with the error and cause
	// of its last attempt; the page it stopped at is its cursor.
	failed := sfn.NewFail(s, b.id(prefix+"Failed"), &sfn.FailProps{ErrorPath: jsii.String("$.error.Error"), CausePath: jsii.String("$.error.Cause")})
	page.AddCatch(failed, &sfn.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: jsii.String("$.error")})

	carry := func(m map[string]any) map[string]any {
		for _, f := range keep {
			m[f+".$"] = "$." + f
		}
		return m
	}
	totals := func(add func(f string) string) map[string]any {
		out := map[string]any{}
		for _, f := range totalsFields {
			out[f+".$"] = "States.MathAdd($.totals." + f + ", " + add(f) + ")"
		}
		return out
	}
	next := carry(map[string]any{"cursor.$": "$.page.next_cursor", "pages.$": "States.MathAdd($.pages, 1)", "totals": totals(func(f string) string {
		if f == "failed" {
			return "States.ArrayLength($.page.failed)"
		}
		return "$.page." + f
	})})
	add := sfn.NewPass(s, b.id(prefix+"Add"), &sfn.PassProps{Parameters: &next})

	// The nested execution: the loop's state from its cursor, its own page
	// count and totals from zero; its output is its final state.
	state := carry(loopStart(map[string]any{}, "$.cursor"))
	cont := awsstepfunctionstasks.NewStepFunctionsStartExecution(s, b.id(prefix+"Continue"), &awsstepfunctionstasks.StepFunctionsStartExecutionProps{
		StateMachine:        b.self(),
		IntegrationPattern:  sfn.IntegrationPattern_RUN_JOB, // startExecution.sync:2: waits, its Output as JSON
		AssociateWithParent: jsii.Bool(true),
		Input:               sfn.TaskInput_FromObject(&map[string]any{"continue": map[string]any{"loop": loop, "state": state}}),
		ResultSelector:      &map[string]any{"totals.$": "$.Output.totals"},
		ResultPath:          jsii.String("$.continued"),
	})
	// A nested execution that failed is not run again (its pages were
	// retried there); StartExecution's own errors (throttling, the
	// running-executions limit) are, with backoff.
	cont.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("States.TaskFailed"), MaxAttempts: jsii.Number(0)})
	cont.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("States.ALL"), Interval: awscdk.Duration_Seconds(jsii.Number(5)), BackoffRate: jsii.Number(2),
		MaxAttempts: jsii.Number(8), MaxDelay: awscdk.Duration_Minutes(jsii.Number(5)), JitterStrategy: sfn.JitterType_FULL})
	cont.AddCatch(failed, &sfn.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: jsii.String("$.error")})
	continued := carry(map[string]any{"cursor": "", "pages.$": "$.pages", "totals": totals(func(f string) string { return "$.continued.totals." + f })})
	addContinued := sfn.NewPass(s, b.id(prefix+"AddContinued"), &sfn.PassProps{Parameters: &continued})

	done := sfn.NewSucceed(s, b.id(prefix+"Done"), nil)
	pace := sfn.NewWait(s, b.id(prefix+"Pace"), &sfn.WaitProps{Time: sfn.WaitTime_SecondsPath(jsii.String("$.wait_seconds"))})
	more := sfn.NewChoice(s, b.id(prefix+"More"), nil).
		When(sfn.Condition_StringEquals(jsii.String("$.cursor"), jsii.String("")), done, nil).
		When(sfn.Condition_NumberGreaterThanEquals(jsii.String("$.pages"), jsii.Number(pagesPerExecution)), cont.Next(addContinued).Next(done), nil).
		When(sfn.Condition_NumberGreaterThan(jsii.String("$.wait_seconds"), jsii.Number(0)), pace.Next(page), nil).
		Otherwise(page)
	return page.Next(add).Next(more)
}

// self is this state machine, by name (a nested execution of the same
// definition, which holds every loop).
func (b *backfillBuilder) self() sfn.IStateMachine {
	if b.selfRef == nil {
		b.selfRef = sfn.StateMachine_FromStateMachineName(b.r.stack, b.id("BackfillItself"), jsii.String(BackfillStateMachineName))
	}
	return b.selfRef
}

// continuation is where an execution started by a page loop's Continue
// begins: {"continue": {"loop": NAME, "state": {...}}} runs the loop NAME
// from that state and ends with it (its totals are the output); an
// unknown loop fails; any other input is a backfill's start (start).
func (b *backfillBuilder) continuation(start sfn.IChainable) sfn.IChainable {
	s := b.r.stack
	loop := jsii.String("$.continue.loop")
	c := sfn.NewChoice(s, b.id("Continuation"), nil)
	for _, l := range b.loops {
		enter := sfn.NewPass(s, b.id("Continued"+l.name+"State"), &sfn.PassProps{InputPath: jsii.String("$.continue.state")})
		c.When(sfn.Condition_And(sfn.Condition_IsPresent(loop), sfn.Condition_StringEquals(loop, jsii.String(l.name))),
			enter.Next(b.loop("Continued"+l.name, l.name, l.keep, l.payload)), nil)
	}
	c.When(sfn.Condition_IsPresent(jsii.String("$.continue")), sfn.NewFail(s, b.id("InvalidContinuation"), &sfn.FailProps{Error: jsii.String("InvalidInput"),
		Cause: jsii.String("continue is the input of an execution a backfill starts itself when a page loop reaches its page budget: continue.loop must name one of its page loops")}), nil)
	return c.Otherwise(start)
}

// invokeTagger is a Task invoking the tagger (RequestResponse) with
// payload, retried with exponential backoff and jitter on Lambda's
// transient errors and timeouts, then a few times on any other function
// error (a page is idempotent), never on a PermanentError.
func (b *backfillBuilder) invokeTagger(name string, payload map[string]any, selector *map[string]any, resultPath string) awsstepfunctionstasks.LambdaInvoke {
	t := awsstepfunctionstasks.NewLambdaInvoke(b.r.stack, b.id(name), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:           b.r.fns["tagger"],
		Payload:                  sfn.TaskInput_FromObject(&payload),
		ResultSelector:           selector,
		ResultPath:               jsii.String(resultPath),
		RetryOnServiceExceptions: jsii.Bool(false), // the retriers below
		TaskTimeout:              sfn.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(90))),
	})
	t.AddRetry(&sfn.RetryProps{Errors: jsii.Strings(taggerPermanentError), MaxAttempts: jsii.Number(0)})
	t.AddRetry(&sfn.RetryProps{
		Errors:   jsii.Strings("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException", "States.Timeout"),
		Interval: awscdk.Duration_Seconds(jsii.Number(2)), BackoffRate: jsii.Number(2), MaxAttempts: jsii.Number(8),
		MaxDelay: awscdk.Duration_Minutes(jsii.Number(2)), JitterStrategy: sfn.JitterType_FULL,
	})
	t.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("States.TaskFailed"),
		Interval: awscdk.Duration_Seconds(jsii.Number(5)), BackoffRate: jsii.Number(2), MaxAttempts: jsii.Number(3), JitterStrategy: sfn.JitterType_FULL})
	return t
}

// describeRun follows both maps: DescribeMapRun counts the iterations that
// failed; with none, the tagger records the backfill's coverage.
func (b *backfillBuilder) describeRun() sfn.IChainable {
	s := b.r.stack
	run := awsstepfunctionstasks.NewCallAwsService(s, b.id("DescribeMapRun"), &awsstepfunctionstasks.CallAwsServiceProps{
		Service: jsii.String("sfn"), Action: jsii.String("describeMapRun"),
		IamAction: jsii.String("states:DescribeMapRun"), IamResources: jsii.Strings("*"), // dropped: see backfillPermissions
		Parameters:     &map[string]any{"MapRunArn.$": "$.map.MapRunArn"},
		ResultSelector: &map[string]any{"status.$": "$.Status", "items.$": "$.ItemCounts"},
		ResultPath:     jsii.String("$.run"),
	})
	run.AddRetry(&sfn.RetryProps{Errors: jsii.Strings("Sfn.SfnException", "States.Timeout"),
		Interval: awscdk.Duration_Seconds(jsii.Number(5)), BackoffRate: jsii.Number(2), MaxAttempts: jsii.Number(5), JitterStrategy: sfn.JitterType_FULL})
	incomplete := sfn.NewPass(s, b.id("Incomplete"), &sfn.PassProps{Parameters: &map[string]any{
		"cause.$": "States.Format('{} of {} iterations failed, {} timed out, {} aborted: each failed one names its error and cause in the Map Run {} " +
			"(and its results in the backfill bucket under " + backfillResults + "); the others are done. Start the backfill again: what is done writes nothing. " +
			"Coverage is not recorded.', $.run.items.Failed, $.run.items.Total, $.run.items.TimedOut, $.run.items.Aborted, $.map.MapRunArn)",
	}})
	failed := sfn.NewFail(s, b.id("BackfillIncomplete"), &sfn.FailProps{Error: jsii.String("BackfillIncomplete"), CausePath: jsii.String("$.cause")})

	done := sfn.NewSucceed(s, b.id("Done"), nil)
	coverage := b.invokeTagger("RecordCoverage", map[string]any{"backfill_completed": map[string]any{
		"region": b.r.region, "source.$": "$.args.source", "mode.$": "$.args.mode",
	}}, &map[string]any{"recorded": true, "response.$": "$.Payload"}, "$.coverage")
	// The tagger records coverage (issue 16 item 4); a tagger that does not
	// know the payload, or fails, leaves the backfill done and coverage not
	// recorded, which the output says.
	coverage.AddCatch(sfn.NewPass(s, b.id("CoverageNotRecorded"), &sfn.PassProps{}).Next(done),
		&sfn.CatchProps{Errors: jsii.Strings("States.ALL"), ResultPath: jsii.String("$.coverage_error")})

	counts := func(f string) sfn.Condition {
		return sfn.Condition_NumberGreaterThan(jsii.String("$.run.items."+f), jsii.Number(0))
	}
	check := sfn.NewChoice(s, b.id("AllIterationsDone"), nil).
		When(sfn.Condition_Or(counts("Failed"), counts("TimedOut"), counts("Aborted")), incomplete.Next(failed), nil).
		Otherwise(coverage.Next(done))
	return run.Next(check)
}
