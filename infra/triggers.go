package main

import (
	"bytes"
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/events"
)

// Stream and queue settings.
const (
	streamBatchSize    = 100
	streamRetries      = 5
	streamMaxRecordAge = 24 // hours
	ledgerBatchSize    = 10
)

// triggers wires the functions to their events: the watched tables' streams
// to the tagger, the ledger queue to the ledger, the bus rules, the S3
// invoke permission and the retention schedule.
func (r *residency) triggers() {
	tagger := r.fns["tagger"]
	for _, t := range WatchedTables(r.props.Policy) {
		// The platform's table, imported by name: only its stream ARN is
		// used. Every record is delivered (INSERT/MODIFY tag, REMOVE drops
		// the catalog entry); a record that fails is reported alone
		// (ReportBatchItemFailures), a failing batch is bisected, retried
		// and finally recorded in the stream failure queue.
		awslambda.NewEventSourceMapping(r.stack, jsii.String("Stream-"+t), &awslambda.EventSourceMappingProps{
			Target:                  tagger,
			EventSourceArn:          jsii.String(r.props.Streams[t]),
			StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
			BatchSize:               jsii.Number(streamBatchSize),
			BisectBatchOnError:      jsii.Bool(true),
			RetryAttempts:           jsii.Number(streamRetries),
			MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(streamMaxRecordAge)),
			ReportBatchItemFailures: jsii.Bool(true),
			ParallelizationFactor:   jsii.Number(1),
			OnFailure:               awslambdaeventsources.NewSqsDlq(r.streamDLQ),
		})
	}

	// One FIFO batch at a time per message group (a region chain).
	r.fns["ledger"].AddEventSource(awslambdaeventsources.NewSqsEventSource(r.ledgerQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(ledgerBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	// The violations queue: batches of up to violationsBatchSize,
	// gathered for at most violationsBatchWindow seconds; a message that
	// fails is reported alone (ReportBatchItemFailures) and received again
	// until the redrive policy moves it to the violations DLQ.
	r.fns["router"].AddEventSource(awslambdaeventsources.NewSqsEventSource(r.violationsQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(violationsBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(violationsBatchWindow)),
		ReportBatchItemFailures: jsii.Bool(true),
	}))

	// The bus rules: one per route of events.Routes, as the local stack
	// routes its bus; a Queued route's rule targets the function's queue.
	for _, route := range events.Routes {
		pattern := &awsevents.EventPattern{DetailType: jsii.Strings(route.DetailTypes...)}
		if route.Residency {
			pattern.Source = jsii.Strings(events.Source)
		} else {
			pattern.Source = awsevents.Match_AnythingBut(jsii.String(events.Source))
		}
		var target awsevents.IRuleTarget = awseventstargets.NewLambdaFunction(r.fns[route.Function], &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: r.eventsDLQ,
			RetryAttempts:   jsii.Number(8),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
		})
		if route.Queued {
			target = awseventstargets.NewSqsQueue(r.queueOf(route.Function), &awseventstargets.SqsQueueProps{
				DeadLetterQueue: r.eventsDLQ,
				RetryAttempts:   jsii.Number(8),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			})
		}
		awsevents.NewRule(r.stack, jsii.String(route.ID+"Rule"), &awsevents.RuleProps{
			EventBus:     r.bus,
			Description:  jsii.String("Residency: " + route.ID),
			EventPattern: pattern,
			Targets:      &[]awsevents.IRuleTarget{target},
		})
	}

	// S3: the platform adds the ObjectCreated notification to its bucket
	// (its configuration, which a stack cannot merge into safely); the
	// tagger lets S3 invoke it for the watched buckets of this region, from
	// this account only.
	for _, b := range r.localBuckets() {
		tagger.AddPermission(jsii.String("S3Invoke-"+b), &awslambda.Permission{
			Principal:     awsiam.NewServicePrincipal(jsii.String("s3.amazonaws.com"), nil),
			Action:        jsii.String("lambda:InvokeFunction"),
			SourceArn:     jsii.String("arn:" + *r.stack.Partition() + ":s3:::" + b),
			SourceAccount: r.stack.Account(),
		})
	}

	r.schedule()
}

// ScheduleName returns the name of a region's retention schedule.
func ScheduleName(region string) string { return "residency-retention-" + region }

// DigestScheduleName returns the name of a region's ledger digest schedule.
func DigestScheduleName(region string) string { return "residency-digest-" + region }

// DigestSchedule is the rate of the signed ledger digests (as CloudTrail's
// digest files).
const DigestSchedule = "rate(1 hour)"

// schedule invokes the retention sweep on its rate, and the ledger
// function's digest hourly.
func (r *residency) schedule() {
	expr := r.props.SweepSchedule
	if expr == "" {
		expr = "rate(" + DefaultSweepRate + ")"
	}
	r.newSchedule("Retention", ScheduleName(r.region), "Residency: retention sweep", expr, "retention", "InvokeSweep")
	r.newSchedule("Digest", DigestScheduleName(r.region), "Residency: signed ledger digest", DigestSchedule, "ledger", "InvokeDigest")
}

// newSchedule makes an EventBridge Scheduler schedule that invokes fn with
// a Scheduled Event: its own role (invoke fn, send to the schedules'
// dead-letter queue, nothing else), retries and the dead-letter queue.
func (r *residency) newSchedule(id, name, description, expr, fnName, sid string) {
	fn := r.fns[fnName]
	role := awsiam.NewRole(r.stack, jsii.String(id+"ScheduleRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": r.stack.Account()}},
		}),
		Description: jsii.String(description + " schedule (" + r.region + "): invokes the " + fnName + " function"),
	})
	role.AddToPrincipalPolicy(allow(sid, []string{"lambda:InvokeFunction"}, fn.FunctionArn()))
	role.AddToPrincipalPolicy(allow("DeadLetters", []string{"sqs:SendMessage"}, r.scheduleDLQ.QueueArn()))

	// The payload the functions expect: a Scheduled Event, as in
	// events/samples/scheduler-retention-sweep.json (Scheduler fills in the
	// <aws.scheduler.*> context attributes).
	input := marshal(map[string]any{
		"version": "0", "id": "<aws.scheduler.execution-id>", "detail-type": "Scheduled Event",
		"source": "aws.scheduler", "account": *r.stack.Account(), "time": "<aws.scheduler.scheduled-time>",
		"region": r.region, "resources": []string{"<aws.scheduler.schedule-arn>"}, "detail": map[string]any{},
	})
	awsscheduler.NewCfnSchedule(r.stack, jsii.String(id+"Schedule"), &awsscheduler.CfnScheduleProps{
		Name:                       jsii.String(name),
		Description:                jsii.String(description),
		ScheduleExpression:         jsii.String(expr),
		ScheduleExpressionTimezone: jsii.String("UTC"),
		State:                      jsii.String("ENABLED"),
		FlexibleTimeWindow:         &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     fn.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(input),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(3),
				MaximumEventAgeInSeconds: jsii.Number(3600),
			},
			DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: r.scheduleDLQ.QueueArn()},
		},
	})
}

// Reports API routes: what readers call (GET), and the one route that
// writes (POST /v1/certificate stores an erasure certificate, once).
var (
	reportRoutes      = []string{"/v1/report", "/v1/verify", "/v1/proof"}
	certificateRoutes = []string{"/v1/certificate"}
)

// reportsAPI serves the reports function on an HTTP API with AWS_IAM
// authorization (SigV4): GET /v1/report, GET /v1/verify, GET /v1/proof and
// POST /v1/certificate, nothing else. Access logs go to their own log
// group; the stage is throttled. A managed policy grants exactly the
// GET routes, to attach to compliance roles; another, the certificate
// route, to the role that issues erasure certificates.
func (r *residency) reportsAPI() {
	api := awsapigatewayv2.NewHttpApi(r.stack, jsii.String("ReportsApi"), &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("residency-reports"),
		Description:        jsii.String("Residency compliance reports (AWS_IAM)"),
		CreateDefaultStage: jsii.Bool(false),
	})
	accessLogs := awslogs.NewLogGroup(r.stack, jsii.String("ReportsApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := api.AddStage(jsii.String("DefaultStage"), &awsapigatewayv2.HttpStageOptions{
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(10), BurstLimit: jsii.Number(20)},
	})
	format := marshal(map[string]string{
		"requestId": "$context.requestId", "requestTime": "$context.requestTime", "caller": "$context.identity.userArn",
		"accountId": "$context.identity.accountId", "sourceIp": "$context.identity.sourceIp",
		"routeKey": "$context.routeKey", "status": "$context.status", "responseLength": "$context.responseLength",
		"integrationError": "$context.integrationErrorMessage",
	})
	cfnStage := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfnStage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format:         jsii.String(format),
	})

	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ReportsIntegration"), r.fns["reports"],
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
	authorizer := awsapigatewayv2authorizers.NewHttpIamAuthorizer()
	routes := func(method awsapigatewayv2.HttpMethod, paths []string) []*string {
		var invoke []*string
		for _, path := range paths {
			api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
				Path: jsii.String(path), Methods: &[]awsapigatewayv2.HttpMethod{method},
				Integration: integration, Authorizer: authorizer,
			})
			invoke = append(invoke, r.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("execute-api"), Resource: api.ApiId(), ResourceName: jsii.String("$default/" + string(method) + path),
				ArnFormat: awscdk.ArnFormat_SLASH_RESOURCE_NAME,
			}))
		}
		return invoke
	}
	awsiam.NewManagedPolicy(r.stack, jsii.String("ReportsReaderPolicy"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String("residency-reports-reader-" + r.region),
		Description:       jsii.String("Residency: call GET /v1/report, GET /v1/verify and GET /v1/proof of the " + r.region + " reports API"),
		Statements:        &[]awsiam.PolicyStatement{allow("CallReportsAPI", []string{"execute-api:Invoke"}, routes(awsapigatewayv2.HttpMethod_GET, reportRoutes)...)},
	})
	awsiam.NewManagedPolicy(r.stack, jsii.String("ReportsCertifierPolicy"), &awsiam.ManagedPolicyProps{
		ManagedPolicyName: jsii.String("residency-reports-certifier-" + r.region),
		Description:       jsii.String("Residency: call POST /v1/certificate of the " + r.region + " reports API (stores erasure certificates, once)"),
		Statements:        &[]awsiam.PolicyStatement{allow("IssueErasureCertificates", []string{"execute-api:Invoke"}, routes(awsapigatewayv2.HttpMethod_POST, certificateRoutes)...)},
	})
	r.apiURL = stage.Url()
}

// marshal encodes v as compact JSON, leaving <, > and & as they are (the
// Scheduler's <aws.scheduler.*> placeholders must survive).
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // maps of strings always encode
	}
	return string(bytes.TrimSpace(b.Bytes()))
}

// The violations queue's event source mapping and redrive policy.
const (
	violationsBatchSize   = 100
	violationsBatchWindow = 5 // seconds
	violationsMaxReceives = 5
)

// queueOf is the queue a Queued route of function targets.
func (r *residency) queueOf(function string) awssqs.Queue {
	if function != "router" {
		panic("infra: no queue for function " + function)
	}
	return r.violationsQueue
}
