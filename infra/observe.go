package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/retention"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/metrics"
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
	// Deletions overdue: the oldest due record no hold keeps was more than
	// two sweep periods past its retain-until when a sweep reached it, or
	// no sweep reported in two periods (missing data breaches).
	period := sweepPeriod(r.props.SweepSchedule)
	awscloudwatch.NewAlarm(r.stack, jsii.String("OverdueDeletionAlarm"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String("residency-retention-overdue"),
		AlarmDescription: jsii.String(fmt.Sprintf("Residency retention: a due record waited more than two sweep periods (%s) for its deletion, or no sweep ran in that time",
			2*period)),
		Metric:             r.residencyMetric("retention", retention.MetricOldestOverdueAge, "Maximum", 2*period),
		Threshold:          jsii.Number((2 * period).Seconds()),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
	})
	// Misplaced records stay exposed longer than the SLO: the p99 of the
	// router's Exposure (one value per relocation or quarantine, across
	// every source) over 5 minutes. No relocation, no data: not breaching.
	slo := r.exposureSLO()
	awscloudwatch.NewAlarm(r.stack, jsii.String("ExposureAlarm"), &awscloudwatch.AlarmProps{
		AlarmName: jsii.String("residency-router-exposure-p99"),
		AlarmDescription: jsii.String(fmt.Sprintf("Residency router: the p99 of misplaced records' exposure (write to deletion of the misplaced copy) exceeded the SLO of %s (%s)",
			slo, CtxExposureSLOSeconds)),
		Metric:             r.residencyMetric("router", router.MetricExposure, "p99", 5*time.Minute),
		Threshold:          jsii.Number(float64(slo.Milliseconds())),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	// The tagger falls behind its streams: misplaced records wait longer
	// than the exposure they should have.
	awscloudwatch.NewAlarm(r.stack, jsii.String("TaggerIteratorAgeAlarm"), &awscloudwatch.AlarmProps{
		AlarmName:        jsii.String("residency-tagger-iterator-age"),
		AlarmDescription: jsii.String("Residency tagger: stream records wait more than 5 minutes to be tagged"),
		Metric: r.fns["tagger"].Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"),
		}),
		Threshold:          jsii.Number(float64((5 * time.Minute).Milliseconds())),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}

// exposureSLO is the stack's exposure SLO (default 60 s).
func (r *residency) exposureSLO() time.Duration {
	if r.props.ExposureSLO > 0 {
		return r.props.ExposureSLO
	}
	return DefaultExposureSLOSeconds * time.Second
}

// residencyMetric is a metric the functions write as EMF lines (namespace
// Residency) with the dimensions region and function.
func (r *residency) residencyMetric(fn, name, statistic string, period time.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{metrics.DimRegion: jsii.String(r.region), metrics.DimFunction: jsii.String(fn)},
		Statistic:     jsii.String(statistic), Period: awscdk.Duration_Seconds(jsii.Number(period.Seconds())),
	})
}

// perSource sums a metric the tagger writes per source (dimension source)
// over every source of the region, with a metrics SEARCH.
func (r *residency) perSource(name, label string) awscloudwatch.MathExpression {
	return r.perSourceOf("tagger", name, label)
}

// perSourceOf sums a metric fn writes per source over every source.
func (r *residency) perSourceOf(fn, name, label string) awscloudwatch.MathExpression {
	return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf(`SUM(SEARCH('{%s,%s,%s,%s} MetricName="%s" %s="%s" %s="%s"', 'Sum', 300))`,
			metrics.Namespace, metrics.DimRegion, metrics.DimFunction, metrics.DimSource, name, metrics.DimRegion, r.region, metrics.DimFunction, fn)),
		Label:  jsii.String(label),
		Period: awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// dashboard is the region's CloudWatch dashboard: what the tagger saw, what
// the sweep deleted and how late, the ledger's lag, and the failures.
func (r *residency) dashboard() {
	fiveMin := 5 * time.Minute
	graph := func(title string, left ...awscloudwatch.IMetric) awscloudwatch.GraphWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12)})
	}
	var errs, dead []awscloudwatch.IMetric
	for _, fn := range Functions {
		errs = append(errs, r.fns[fn].MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"), Label: jsii.String(fn)}))
	}
	for _, q := range r.dlqs() {
		dead = append(dead, q.queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum"), Label: jsii.String(q.name)}))
	}
	sweep := 2 * sweepPeriod(r.props.SweepSchedule)
	awscloudwatch.NewDashboard(r.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String("Residency-" + r.region),
		Widgets: &[]*[]awscloudwatch.IWidget{
			{
				graph("Records tagged, violations, failures (all watched sources)", r.perSource(tagger.MetricRecordsTagged, "tagged"),
					r.perSource(tagger.MetricViolations, "violations"), r.perSource(tagger.MetricRecordsFailed, "failed")),
				graph("Tagger iterator age (ms)", r.fns["tagger"].Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{
					Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Maximum")})),
			},
			{
				graph("Retention sweep", r.residencyMetric("retention", retention.MetricSweepDue, "Sum", sweep),
					r.residencyMetric("retention", retention.MetricSweepDeleted, "Sum", sweep), r.residencyMetric("retention", retention.MetricSweepHeld, "Maximum", sweep),
					r.residencyMetric("retention", retention.MetricSweepLocked, "Maximum", sweep)),
				graph("Oldest overdue record (s)", r.residencyMetric("retention", retention.MetricOldestOverdueAge, "Maximum", sweep)),
			},
			{
				graph("Ledger: entries appended", r.residencyMetric("ledger", ledger.MetricEntriesAppended, "Sum", fiveMin)),
				graph("Ledger append lag p99 (ms)", r.residencyMetric("ledger", ledger.MetricAppendLag, "p99", fiveMin)),
			},
			{
				awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
					Title: jsii.String("Exposure of misplaced records (ms): p50, p99, max"), Width: jsii.Number(12),
					Left: &[]awscloudwatch.IMetric{r.residencyMetric("router", router.MetricExposure, "p50", fiveMin),
						r.residencyMetric("router", router.MetricExposure, "p99", fiveMin), r.residencyMetric("router", router.MetricExposure, "Maximum", fiveMin)},
					LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(float64(r.exposureSLO().Milliseconds())), Label: jsii.String("SLO")}},
				}),
				graph("Relocations and quarantines (all sources)", r.perSourceOf("router", router.MetricRelocations, "relocated"),
					r.perSourceOf("router", router.MetricQuarantines, "quarantined"), r.perSourceOf("router", router.MetricRelocationsFailed, "failed")),
			},
			{graph("Function errors", errs...), graph("Dead letters waiting", dead...)},
		},
	})
}

// sweepPeriod is the time between two sweeps of a Scheduler expression:
// rate(N unit) says it; a cron(...) expression is taken as daily, its
// longest usual period, so that its alarm does not fire between runs.
func sweepPeriod(schedule string) time.Duration {
	m := rateRE.FindStringSubmatch(strings.TrimSuffix(strings.TrimPrefix(schedule, "rate("), ")"))
	if m == nil {
		if strings.HasPrefix(schedule, "cron(") {
			return 24 * time.Hour
		}
		return time.Hour // the default schedule
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
	return time.Duration(n) * unit
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
	out(OutAPIURL, r.apiURL, "Reports API (AWS_IAM): GET {url}v1/report, GET {url}v1/verify, GET {url}v1/proof?region=R&seq=N, POST {url}v1/certificate?request=ID")
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
