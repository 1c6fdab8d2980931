package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// alarms raises an alarm on any error of a function and on any message in a
// dead-letter queue: both mean something was not done and waits for a
// human. The alarms have no actions; their state changes reach the default
// event bus ("CloudWatch Alarm State Change"), where the platform's on-call
// routing subscribes.
func (r *residency) alarms() {
	for _, fn := range Functions {
		awscloudwatch.NewAlarm(r.stack, jsii.String(id(fn)+"ErrorsAlarm"), &awscloudwatch.AlarmProps{
			AlarmName:        jsii.String("residency-" + fn + "-errors"),
			AlarmDescription: jsii.String("Residency " + fn + ": invocations failed"),
			Metric: r.fns[fn].MetricErrors(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"),
			}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
	for _, q := range r.dlqs() {
		awscloudwatch.NewAlarm(r.stack, jsii.String(id(q.name)+"MessagesAlarm"), &awscloudwatch.AlarmProps{
			AlarmName:        jsii.String("residency-" + q.name + "-messages"),
			AlarmDescription: jsii.String("Residency " + q.name + ": dead letters are waiting"),
			Metric: q.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
				Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
			}),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}

// Output names.
const (
	OutAPIURL         = "ReportsApiUrl"
	OutEventBusName   = "EventBusName"
	OutCatalogTable   = "CatalogTableName"
	OutLedgerTable    = "LedgerTableName"
	OutQuarantine     = "QuarantineTableName"
	OutLedgerQueueURL = "LedgerQueueUrl"
	OutDigestBucket   = "DigestBucketName"
	OutTaggerARN      = "TaggerFunctionArn"
	// OutBackfillARN is the backfill state machine (make backfill reads it).
	OutBackfillARN    = "BackfillStateMachineArn"
	OutBackfillBucket = "BackfillBucketName"
)

func (r *residency) outputs() {
	out := func(id string, value *string, description string) {
		awscdk.NewCfnOutput(r.stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value, Description: jsii.String(description)})
	}
	out(OutAPIURL, r.apiURL, "Reports API (AWS_IAM): GET {url}v1/report, GET {url}v1/verify")
	out(OutEventBusName, r.bus.EventBusName(), "The residency event bus: the platform publishes its events here")
	out(OutCatalogTable, r.catalog.TableName(), "The catalog table")
	out(OutLedgerTable, r.ledger.TableName(), "The ledger table")
	if r.quarantine != nil {
		out(OutQuarantine, r.quarantine.TableName(), "The quarantine table")
	}
	out(OutLedgerQueueURL, r.ledgerQueue.QueueUrl(), "The ledger FIFO queue")
	out(OutDigestBucket, r.digests.BucketName(), "The ledger digests (Object Lock, compliance mode)")
	out(OutTaggerARN, r.fns["tagger"].FunctionArn(), "The tagger: target of the watched buckets' s3:ObjectCreated:* notifications")
	if r.backfillMachine != nil {
		out(OutBackfillARN, r.backfillMachine.StateMachineArn(), "The backfill state machine: aws stepfunctions start-execution --input '{\"source\": \"<table>\"}' (make backfill)")
		out(OutBackfillBucket, r.backfillBucket.BucketName(), "The backfill's table exports and Map Run results (expire after 7 days)")
	}
}
