package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Actions that take no resource-level permission: CloudWatch Logs' vended
// log delivery (the state machine's logs) and X-Ray (its traces).
var (
	logDelivery = []string{"logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
		"logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"}
	xrayWrite = []string{"xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"}
)

// backfillPermissions grants the backfill state machine's role exactly what
// its definition uses, in this region, and the tagger the reading of the
// exports.
func (r *residency) backfillPermissions(role awsiam.Role, tables, buckets []string) {
	arn := func(service, resource, name string) *string {
		return r.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String(service), Resource: jsii.String(resource),
			ResourceName: jsii.String(name), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
	}
	var watched, exports []*string
	for _, t := range tables {
		watched = append(watched, r.tableARN(r.region, t))
		exports = append(exports, r.tableARN(r.region, t+"/export/*"))
	}
	exportObjects := r.backfillBucket.ArnForObjects(jsii.String(backfillExports + "*"))
	resultObjects := r.backfillBucket.ArnForObjects(jsii.String(backfillResults + "*"))
	executions := []*string{
		arn("states", "execution", BackfillStateMachineName+":*"), // the CDK's form
		arn("states", "execution", BackfillStateMachineName+"/*"), // a Map Run's child executions
	}
	var sts []awsiam.PolicyStatement
	if len(tables) > 0 {
		sts = append(sts,
			allow("ExportWatchedTables", []string{"dynamodb:ExportTableToPointInTime"}, watched...),
			allow("DescribeWatchedTableExports", []string{"dynamodb:DescribeExport"}, exports...),
			// DynamoDB writes the export as the caller: PutObject, with the
			// bucket-owner-full-control ACL header (s3:PutObjectAcl), and
			// multipart uploads.
			allow("WriteExports", []string{"s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectAcl"}, exportObjects),
			allow("ReadExportManifests", []string{"s3:GetObject"}, exportObjects))
	}
	for _, st := range append(sts,
		allow("InvokeTagger", []string{"lambda:InvokeFunction"}, r.fns["tagger"].FunctionArn()),
		allow("WriteMapResults", []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"}, resultObjects),
		// A Map's iterations, and the nested executions a page loop starts
		// at its page budget (pageLoop), are executions of this machine.
		allow("RunMapIterations", []string{"states:StartExecution"}, arn("states", "stateMachine", BackfillStateMachineName)),
		// startExecution.sync:2 follows the nested execution through the
		// EventBridge rule Step Functions manages for it (as AWS documents
		// for the .sync integration of Step Functions).
		allow("FollowNestedExecutions", []string{"events:DescribeRule", "events:PutRule", "events:PutTargets"},
			r.stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("events"), Resource: jsii.String("rule"),
				ResourceName: jsii.String("StepFunctionsGetEventsForStepFunctionsExecutionRule"), ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME})),
		allow("ManageMapIterations", []string{"states:DescribeExecution", "states:RedriveExecution", "states:StopExecution"}, executions...),
		allow("DescribeMapRuns", []string{"states:DescribeMapRun"}, arn("states", "mapRun", BackfillStateMachineName+"/*")),
		allow("DeliverLogs", logDelivery, jsii.String("*")),
		allow("TraceExecutions", xrayWrite, jsii.String("*")),
	) {
		role.AddToPrincipalPolicy(st)
	}
	tagger := r.fns["tagger"].Role()
	if len(tables) > 0 {
		// The tagger reads the data files of the exports, nothing else there.
		tagger.AddToPrincipalPolicy(allow("ReadBackfillExports", []string{"s3:GetObject"}, exportObjects))
	}
	if len(buckets) > 0 {
		// The tagger lists this region's watched buckets under their
		// watched prefixes (ListObjectsV2 pages; it already reads their
		// objects' metadata, s3:GetObject, for their S3 events), and reads
		// the inventory reports S3 delivers to the backfill bucket. An
		// object's tag lives in the catalog: no s3:GetObjectTagging or
		// s3:PutObjectTagging.
		arns, prefixes := r.bucketARNs(buckets)
		tagger.AddToPrincipalPolicy(when(allow("ListWatchedBuckets", []string{"s3:ListBucket"}, arns...), "StringLike", "s3:prefix", prefixes))
		tagger.AddToPrincipalPolicy(allow("ReadBucketInventories", []string{"s3:GetObject"}, r.backfillBucket.ArnForObjects(jsii.String(backfillInventory+"*"))))
	}
}

// Suppression reasons of the backfill's wildcards.
const (
	reasonNoResourceLevel = "CloudWatch Logs' vended log delivery (logs:CreateLogDelivery and the others, which Step Functions needs to " +
		"deliver the state machine's logs to its log group) and X-Ray's trace writes support no resource-level permission: AWS documents " +
		"Resource \"*\" for them. They grant no read of any data."
	reasonBackfillObjects = "Object-level ARNs under the exports/, results/ and inventory/ prefixes of this stack's own backfill bucket: DynamoDB " +
		"chooses each export's id and data file names, Step Functions each Map Run's result files, S3 Inventory each report's dated " +
		"manifest and data file names, so the keys are not known in advance. " +
		"The bucket is private, in this region, and expires every object after 7 days."
	reasonExportARNs = "The exports of this region's watched tables (table/<name>/export/<id>): DynamoDB chooses the export id when " +
		"the state machine starts it; DescribeExport is granted on these tables' exports only."
	reasonMapExecutions = "A Distributed Map starts its iterations as child executions of this state machine, named by Step Functions " +
		"(execution:residency-backfill/<label>:<id>), and its Map Runs (mapRun:residency-backfill/<label>:<id>): only this state " +
		"machine's executions and Map Runs are granted, to describe, stop and redrive them."
)

// backfillSuppressions records the cdk-nag IAM5 findings of the backfill's
// wildcards, on the roles that hold them.
func (r *residency) backfillSuppressions(suppress func(c any, id, reason string, appliesTo ...any)) {
	if r.backfillMachine == nil {
		return
	}
	role := r.backfillRole
	objects := &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<BackfillBucket[0-9A-F]{8}\.Arn>\/(exports|results|inventory)\/\*$/g`)}
	suppress(role, "AwsSolutions-IAM5", reasonNoResourceLevel, "Resource::*")
	suppress(role, "AwsSolutions-IAM5", reasonBackfillObjects, objects)
	suppress(role, "AwsSolutions-IAM5", reasonExportARNs,
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]+\/export\/\*$/g`)})
	suppress(role, "AwsSolutions-IAM5", reasonMapExecutions,
		&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:(execution|mapRun):residency-backfill[:\/]\*$/g`)})
	suppress(r.fns["tagger"].Role(), "AwsSolutions-IAM5", reasonBackfillObjects, objects)
}
