package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/functions/tagger"
)

// asl is the backfill state machine's definition in a region, its tokens
// rendered as arn renders them (<local:ID>, pseudo parameters by value).
func asl(t *testing.T, region string) map[string]any {
	t.Helper()
	id := logicalID(t, region, "AWS::StepFunctions::StateMachine", "StateMachineName", BackfillStateMachineName)
	def := props(resources(region, "AWS::StepFunctions::StateMachine")[id])["DefinitionString"]
	var doc map[string]any
	if err := json.Unmarshal([]byte(arn(region, def)), &doc); err != nil {
		t.Fatalf("%s: expect the definition as JSON, got %v", region, err)
	}
	return doc
}

// taggerRef is the tagger function of region's stack as the backfill's
// definition and role name it, rendered by arn (<local:ID>).
func taggerRef(t *testing.T, region string) string {
	t.Helper()
	return "<local:" + logicalID(t, region, "AWS::Lambda::Function", "FunctionName", FunctionName("tagger")) + ">"
}

// state returns the named state of a States map, failing if it is absent.
func state(t *testing.T, states map[string]any, name string) map[string]any {
	t.Helper()
	s, ok := states[name].(map[string]any)
	if !ok {
		t.Fatalf("expect state %s, got states %v", name, slices.Sorted(mapsKeys(states)))
	}
	return s
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// transitions checks that every state of a States map (and of its maps'
// processors) goes only to states of the same map, and that every state is
// reached from StartAt.
func transitions(t *testing.T, where string, startAt string, states map[string]any) {
	t.Helper()
	reached := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if reached[name] {
			return
		}
		s, ok := states[name].(map[string]any)
		if !ok {
			t.Errorf("%s: expect state %s to exist (a transition names it)", where, name)
			return
		}
		reached[name] = true
		var next []string
		if n, ok := s["Next"].(string); ok {
			next = append(next, n)
		}
		if n, ok := s["Default"].(string); ok {
			next = append(next, n)
		}
		for _, c := range asList(s["Choices"]) {
			next = append(next, c.(map[string]any)["Next"].(string))
		}
		for _, c := range asList(s["Catch"]) {
			next = append(next, c.(map[string]any)["Next"].(string))
		}
		if p, ok := s["ItemProcessor"].(map[string]any); ok {
			transitions(t, where+"/"+name, p["StartAt"].(string), p["States"].(map[string]any))
		}
		if len(next) == 0 && s["Type"] != "Succeed" && s["Type"] != "Fail" && s["End"] != true {
			t.Errorf("%s: %s: expect a next state or an end, got %v", where, name, s)
		}
		for _, n := range next {
			walk(n)
		}
	}
	walk(startAt)
	for name := range states {
		if !reached[name] {
			t.Errorf("%s: expect state %s reachable from %s", where, name, startAt)
		}
	}
}

func TestBackfillStateMachineIsStandardLoggedTracedAndOutput(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range allRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		logs := logicalID(t, r, "AWS::Logs::LogGroup", "LogGroupName", "/aws/vendedlogs/states/"+BackfillStateMachineName)
		// WHEN the backfill state machine is inspected
		// THEN it is a Standard workflow that logs everything, execution
		// data included, to its own log group (kept a year), traces with
		// X-Ray, and its ARN is an output
		tmpl.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), map[string]any{
			"StateMachineName": BackfillStateMachineName, "StateMachineType": "STANDARD",
			"LoggingConfiguration": map[string]any{"Level": "ALL", "IncludeExecutionData": true,
				"Destinations": []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{"LogGroupArn": getAtt(logs)}}}},
			"TracingConfiguration": map[string]any{"Enabled": true},
		})
		tmpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"LogGroupName": "/aws/vendedlogs/states/" + BackfillStateMachineName, "RetentionInDays": 365})
		sm := logicalID(t, r, "AWS::StepFunctions::StateMachine", "StateMachineName", BackfillStateMachineName)
		tmpl.HasOutput(jsii.String(OutBackfillARN), map[string]any{"Value": ref(sm)})
		// ... and it waits for its role's policy only (logging is checked at
		// creation; the role is implied by RoleArn)
		deps, _ := resources(r, "AWS::StepFunctions::StateMachine")[sm]["DependsOn"].([]any)
		if len(deps) != 1 || !strings.HasPrefix(deps[0].(string), "BackfillRoleDefaultPolicy") {
			t.Errorf("%s: expect DependsOn [the backfill role's DefaultPolicy], got %v", r, deps)
		}
	}
}

func TestBackfillBucketIsPrivateEncryptedLoggedAndExpiring(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range allRegions {
		// GIVEN each region's template
		tmpl := fixture.templates[r]
		logs := ""
		for id, res := range resources(r, "AWS::S3::Bucket") {
			if props(res)["LoggingConfiguration"] == nil {
				logs = id
			}
		}
		// WHEN the backfill bucket (exports and results) is inspected
		// THEN it is private, SSE-S3, TLS only, logs its accesses, and
		// expires every object (a copy of personal data) after 7 days
		tmpl.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
			"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			"BucketEncryption":               map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}},
			"OwnershipControls":              map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"LoggingConfiguration":           map[string]any{"DestinationBucketName": ref(logs), "LogFilePrefix": "backfill/"},
			"LifecycleConfiguration": map[string]any{"Rules": []any{map[string]any{"Status": "Enabled", "ExpirationInDays": backfillExpiryDays,
				"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 1}, "Id": "expire-exports-and-results"}}},
		})
		bucket := backfillBucketID(t, r)
		tmpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"Bucket": ref(bucket),
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}}),
			})},
		})
		tmpl.HasOutput(jsii.String(OutBackfillBucket), map[string]any{"Value": ref(bucket)})
	}
}

func TestBackfillDefinition(t *testing.T) {
	for _, r := range allRegions {
		t.Run(r, func(t *testing.T) {
			// GIVEN the region's backfill definition
			doc := asl(t, r)
			states := doc["States"].(map[string]any)
			tagger := taggerRef(t, r)
			// THEN every transition names a state, every state is reached
			transitions(t, "backfill", doc["StartAt"].(string), states)

			// AND the input is validated: source a watched table, the rest
			// in range, defaults merged
			defaults := state(t, states, "Defaults")["Parameters"].(map[string]any)["defaults"]
			if d := cmp.Diff(map[string]any{"mode": "scan", "segments": 8.0, "limit": 1000.0, "wait_seconds": 0.0, "concurrency": 8.0}, defaults); d != "" {
				t.Errorf("expect the defaults (-want +got):\n%s", d)
			}
			check, _ := json.Marshal(state(t, states, "CheckArguments"))
			for _, want := range []string{`"StringEquals":"users"`, `"StringEquals":"orders"`, `"Next":"NotAWatchedTable"`, `"Default":"InvalidArguments"`,
				`{"NumericLessThanEquals":1000,"Variable":"$.args.segments"}`, `{"NumericGreaterThanEquals":1,"Variable":"$.args.limit"}`} {
				if !strings.Contains(string(check), want) {
					t.Errorf("expect the input check to hold %s, got %s", want, check)
				}
			}

			// AND scan mode is a Distributed Map over the segments, whose
			// iterations loop over the tagger's pages
			scan := state(t, states, "ScanSegments")
			wantMap := func(m map[string]any, label string) {
				t.Helper()
				proc := m["ItemProcessor"].(map[string]any)["ProcessorConfig"].(map[string]any)
				if m["Type"] != "Map" || proc["Mode"] != "DISTRIBUTED" || proc["ExecutionType"] != "STANDARD" || m["Label"] != label ||
					m["ToleratedFailurePercentage"] != 100.0 || m["MaxConcurrencyPath"] != "$.args.concurrency" || m["ResultPath"] != "$.map" {
					t.Errorf("expect a Distributed Map of Standard iterations, all run, at most $.args.concurrency at once, got %v", m)
				}
				rw, _ := m["ResultWriter"].(map[string]any)
				if rw["Resource"] != "arn:"+partitionOf(r)+":states:::s3:putObject" || !strings.HasPrefix(rw["Parameters"].(map[string]any)["Prefix"].(string), backfillResults) {
					t.Errorf("expect results written to the backfill bucket under %s, got %v", backfillResults, rw)
				}
			}
			wantMap(scan, "ScanSegments")
			if scan["ItemsPath"] != "$.segments" || state(t, states, "SegmentList")["Parameters"].(map[string]any)["segments.$"] != "States.ArrayRange(0, States.MathAdd($.args.segments, -1), 1)" {
				t.Errorf("expect the map over States.ArrayRange(0, segments-1), got %v", scan["ItemsPath"])
			}
			inner := scan["ItemProcessor"].(map[string]any)["States"].(map[string]any)
			page := state(t, inner, "ScanPage")
			wantPayload := map[string]any{"backfill": map[string]any{"region": r, "table.$": "$.source", "segment.$": "$.segment", "segments.$": "$.segments",
				"cursor.$": "$.cursor", "limit.$": "$.limit"}}
			wantPage(t, page, tagger, wantPayload, "ScanFailed")
			more, _ := json.Marshal(state(t, inner, "ScanMore"))
			for _, want := range []string{`{"Next":"ScanDone","StringEquals":"","Variable":"$.cursor"}`, `{"Next":"ScanPace","NumericGreaterThan":0,"Variable":"$.wait_seconds"}`, `"Default":"ScanPage"`} {
				if !strings.Contains(string(more), want) {
					t.Errorf("expect the loop to go on from next_cursor until it is \"\" (%s), got %s", want, more)
				}
			}
			if got := state(t, inner, "ScanAdd")["Parameters"].(map[string]any)["totals"].(map[string]any)["failed.$"]; got != "States.MathAdd($.totals.failed, States.ArrayLength($.page.failed))" {
				t.Errorf("expect the failures counted into the totals, got %v", got)
			}
			// AND after pagesPerExecution pages the loop hands its cursor to
			// a nested execution of this machine and waits for it (see
			// TestBackfillPageLoopsContinueInNestedExecutions for the run)
			if !strings.Contains(string(more), fmt.Sprintf(`{"Next":"ScanContinue","NumericGreaterThanEquals":%d,"Variable":"$.pages"}`, pagesPerExecution)) {
				t.Errorf("expect the loop bounded at %d pages an execution, got %s", pagesPerExecution, more)
			}
			cont := state(t, inner, "ScanContinue")
			cp := cont["Parameters"].(map[string]any)
			self := "arn:" + partitionOf(r) + ":states:" + r + ":" + testAccount + ":stateMachine:" + BackfillStateMachineName
			in, _ := cp["Input"].(map[string]any)
			if cont["Resource"] != "arn:"+partitionOf(r)+":states:::states:startExecution.sync:2" || cp["StateMachineArn"] != self ||
				in["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$"] != "$$.Execution.Id" || in["continue"].(map[string]any)["loop"] != "Scan" {
				t.Errorf("expect a nested execution of %s that runs the Scan loop, associated with its parent, got %v", self, cont)
			}
			if doc["StartAt"] != "Continuation" || state(t, states, "ContinuedScanState")["InputPath"] != "$.continue.state" {
				t.Errorf("expect an execution to begin by entering a continued loop, got StartAt %v", doc["StartAt"])
			}

			// AND export mode starts an export to the backfill bucket, polls
			// it, then maps over its manifest's data files (JSONL)
			start := state(t, states, "StartExport")
			sp := start["Parameters"].(map[string]any)
			if start["Resource"] != "arn:"+partitionOf(r)+":states:::aws-sdk:dynamodb:exportTableToPointInTime" || sp["ExportFormat"] != "DYNAMODB_JSON" ||
				sp["S3Prefix.$"] != "States.Format('exports/{}', $.args.source)" || !strings.HasPrefix(sp["S3Bucket"].(string), "<local:BackfillBucket") ||
				sp["TableArn.$"] != "States.Format('arn:"+partitionOf(r)+":dynamodb:"+r+":"+testAccount+":table/{}', $.args.source)" {
				t.Errorf("expect ExportTableToPointInTime of the source to the backfill bucket, got %v", start)
			}
			if c := asList(start["Catch"]); len(c) != 1 || c[0].(map[string]any)["Next"] != "PointInTimeRecoveryOff" {
				t.Errorf("expect PITR off to fail saying so, got %v", start["Catch"])
			}
			poll, _ := json.Marshal(state(t, states, "ExportDone"))
			for _, want := range []string{`{"Next":"ExportManifest","StringEquals":"COMPLETED","Variable":"$.export.status"}`, `{"Next":"ExportFailure","StringEquals":"FAILED","Variable":"$.export.status"}`, `"Default":"WaitForExport"`} {
				if !strings.Contains(string(poll), want) {
					t.Errorf("expect the export polled until done (%s), got %s", want, poll)
				}
			}
			if state(t, states, "ExportFailed")["CausePath"] != "$.cause" || state(t, states, "WaitForExport")["Next"] != "DescribeExport" {
				t.Errorf("expect a failed export to fail with its description, got %v", state(t, states, "ExportFailed"))
			}
			filesMap := state(t, states, "ExportFiles")
			wantMap(filesMap, "ExportFiles")
			reader := filesMap["ItemReader"].(map[string]any)
			if reader["Resource"] != "arn:"+partitionOf(r)+":states:::s3:getObject" || reader["ReaderConfig"].(map[string]any)["InputType"] != "JSONL" ||
				reader["Parameters"].(map[string]any)["Key.$"] != "$.manifest" {
				t.Errorf("expect the map to read the manifest's JSON lines, got %v", reader)
			}
			if got := filesMap["ItemSelector"].(map[string]any)["key.$"]; got != "$$.Map.Item.Value.dataFileS3Key" {
				t.Errorf("expect each iteration to read one dataFileS3Key, got %v", got)
			}
			inner = filesMap["ItemProcessor"].(map[string]any)["States"].(map[string]any)
			wantPage(t, state(t, inner, "FilePage"), tagger, map[string]any{"backfill": map[string]any{"region": r, "table.$": "$.source",
				"export": map[string]any{"bucket.$": "$.bucket", "key.$": "$.key"}, "cursor.$": "$.cursor", "limit.$": "$.limit"}}, "FileFailed")

			// AND after either map, failed iterations fail the execution;
			// else the tagger records coverage, tolerating an error
			if state(t, states, "ScanSegments")["Next"] != "DescribeMapRun" || filesMap["Next"] != "DescribeMapRun" {
				t.Errorf("expect both maps to go to DescribeMapRun")
			}
			done, _ := json.Marshal(state(t, states, "AllIterationsDone"))
			for _, want := range []string{`{"NumericGreaterThan":0,"Variable":"$.run.items.Failed"}`, `"Next":"Incomplete"`, `"Default":"RecordCoverage"`} {
				if !strings.Contains(string(done), want) {
					t.Errorf("expect failed iterations to stop coverage (%s), got %s", want, done)
				}
			}
			coverage := state(t, states, "RecordCoverage")
			if d := cmp.Diff(map[string]any{"backfill_completed": map[string]any{"region": r, "source.$": "$.args.source", "mode.$": "$.args.mode"}},
				coverage["Parameters"].(map[string]any)["Payload"]); d != "" {
				t.Errorf("expect the coverage payload (-want +got):\n%s", d)
			}
			if c := asList(coverage["Catch"]); len(c) != 1 || c[0].(map[string]any)["Next"] != "CoverageNotRecorded" {
				t.Errorf("expect an error recording coverage kept in the output, got %v", coverage["Catch"])
			}
		})
	}
	// The retriers name the tagger's permanent failure by its type.
	if got := reflect.TypeOf(tagger.PermanentError{}).Name(); got != taggerPermanentError {
		t.Errorf("expect the tagger's permanent error type %s, got %s", taggerPermanentError, got)
	}
}

// wantPage checks a page Task: the tagger, the payload, the retriers
// (PermanentError never; Lambda's transient errors and timeouts with
// exponential backoff; other errors a few times) and the catch that fails
// the iteration alone with its error.
func wantPage(t *testing.T, page map[string]any, taggerARN string, payload map[string]any, failed string) {
	t.Helper()
	p := page["Parameters"].(map[string]any)
	if page["Resource"] == nil || !strings.HasSuffix(page["Resource"].(string), ":states:::lambda:invoke") || p["FunctionName"] != taggerARN {
		t.Errorf("expect the tagger invoked, got %v", page)
	}
	if d := cmp.Diff(payload, p["Payload"]); d != "" {
		t.Errorf("expect the page payload (-want +got):\n%s", d)
	}
	retry := asList(page["Retry"])
	if len(retry) != 3 {
		t.Fatalf("expect three retriers, got %v", retry)
	}
	first, second, third := retry[0].(map[string]any), retry[1].(map[string]any), retry[2].(map[string]any)
	if !slices.Equal(asStrings(first["ErrorEquals"]), []string{taggerPermanentError}) || first["MaxAttempts"] != 0.0 {
		t.Errorf("expect PermanentError never retried, first, got %v", first)
	}
	if !slices.Equal(asStrings(second["ErrorEquals"]), []string{"Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException",
		"Lambda.TooManyRequestsException", "States.Timeout"}) || second["BackoffRate"] != 2.0 || second["MaxAttempts"] != 8.0 ||
		second["IntervalSeconds"] != 2.0 || second["MaxDelaySeconds"] != 120.0 || second["JitterStrategy"] != "FULL" {
		t.Errorf("expect Lambda's transient errors retried with exponential backoff, got %v", second)
	}
	if !slices.Equal(asStrings(third["ErrorEquals"]), []string{"States.TaskFailed"}) || third["MaxAttempts"] != 3.0 {
		t.Errorf("expect other function errors retried a few times, got %v", third)
	}
	c := asList(page["Catch"])
	if len(c) != 1 || c[0].(map[string]any)["Next"] != failed || c[0].(map[string]any)["ResultPath"] != "$.error" {
		t.Errorf("expect a failing page caught into %s with its error, got %v", failed, c)
	}
	if page["TimeoutSeconds"] != 90.0 {
		t.Errorf("expect a page timeout of 90 s, got %v", page["TimeoutSeconds"])
	}
}

// grant is a statement's actions and resources.
type grant struct{ Actions, Resources []string }

// grantsOf is the statements of region that keep takes, by Sid: their
// actions and their resources as arn renders them, sorted.
func grantsOf(region string, keep func(statement) bool) map[string]grant {
	got := map[string]grant{}
	for _, st := range statements(region) {
		if !keep(st) {
			continue
		}
		var res []string
		for _, x := range st.Resources {
			res = append(res, arn(region, x))
		}
		slices.Sort(res)
		got[st.Sid] = grant{st.Actions, res}
	}
	return got
}

func TestBackfillRoleHasOnlyWhatTheDefinitionUses(t *testing.T) {
	for _, r := range allRegions {
		t.Run(r, func(t *testing.T) {
			// GIVEN the statements of the backfill role
			role := logicalID(t, r, "AWS::IAM::Role", "Description", "Residency backfill state machine ("+r+"): least privilege")
			p := partitionOf(r)
			bucket := backfillBucketID(t, r)
			tagger := taggerRef(t, r)
			tables := func(suffix string) []string {
				var out []string
				for _, tb := range []string{"orders", "users"} {
					out = append(out, "arn:"+p+":dynamodb:"+r+":"+testAccount+":table/"+tb+suffix)
				}
				return out
			}
			states := "arn:" + p + ":states:" + r + ":" + testAccount + ":"
			want := map[string]grant{
				"InvokeTagger":                {[]string{"lambda:InvokeFunction"}, []string{tagger}},
				"ExportWatchedTables":         {[]string{"dynamodb:ExportTableToPointInTime"}, tables("")},
				"DescribeWatchedTableExports": {[]string{"dynamodb:DescribeExport"}, tables("/export/*")},
				"WriteExports":                {[]string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl"}, []string{"<local:" + bucket + ">/exports/*"}},
				"ReadExportManifests":         {[]string{"s3:GetObject"}, []string{"<local:" + bucket + ">/exports/*"}},
				"WriteMapResults":             {[]string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"}, []string{"<local:" + bucket + ">/results/*"}},
				"RunMapIterations":            {[]string{"states:StartExecution"}, []string{states + "stateMachine:residency-backfill"}},
				"ManageMapIterations": {[]string{"states:DescribeExecution", "states:RedriveExecution", "states:StopExecution"},
					[]string{states + "execution:residency-backfill/*", states + "execution:residency-backfill:*"}}, // sorted
				"DescribeMapRuns": {[]string{"states:DescribeMapRun"}, []string{states + "mapRun:residency-backfill/*"}},
				"FollowNestedExecutions": {[]string{"events:DescribeRule", "events:PutRule", "events:PutTargets"},
					[]string{"arn:" + p + ":events:" + r + ":" + testAccount + ":rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"}},
				"DeliverLogs":     {logDelivery, []string{"*"}},
				"TraceExecutions": {xrayWrite, []string{"*"}},
			}
			got := grantsOf(r, func(st statement) bool { return slices.Contains(st.Roles, role) })
			// THEN they are exactly these: the tagger alone, the exports of
			// this region's watched tables, the backfill bucket's prefixes,
			// this state machine's own executions and Map Runs, and the
			// resource-less log delivery and tracing
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("expect the backfill role's statements (-want +got):\n%s", d)
			}
			// AND the tagger may read the exports' objects, nothing else there
			found := false
			for _, st := range statements(r) {
				if st.Sid == "ReadBackfillExports" && slices.Contains(st.Roles, roleOf(t, r, "tagger")) {
					found = slices.Equal(st.Actions, []string{"s3:GetObject"}) && len(st.Resources) == 1 && arn(r, st.Resources[0]) == "<local:"+bucket+">/exports/*"
				}
			}
			if !found {
				t.Errorf("expect the tagger's ReadBackfillExports: s3:GetObject on the exports only")
			}
		})
	}
}

// backfillUnscoped reports whether a statement, as TestEUStaysEU names it
// ("<kind> <owner> <sid> <actions>"), is the backfill role's log delivery
// or tracing: the two that take Resource "*".
func backfillUnscoped(where string) bool {
	f := strings.Fields(where)
	if len(f) != 4 || f[0] != "AWS::IAM::Policy" || !strings.HasPrefix(f[1], "BackfillRoleDefaultPolicy") {
		return false
	}
	return (f[2] == "DeliverLogs" && f[3] == strings.Join(logDelivery, ",")) || (f[2] == "TraceExecutions" && f[3] == strings.Join(xrayWrite, ","))
}
