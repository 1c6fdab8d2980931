package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/awsenv"
)

const ledgerTimeoutSeconds = 60

// routerTimeoutSeconds is the router's timeout; the violations queue's
// visibility timeout is six times it.
const routerTimeoutSeconds = 60

// fnSpec is how one function runs.
type fnSpec struct {
	description string
	memoryMB    float64
	timeout     awscdk.Duration
	// async: invoked asynchronously (EventBridge, S3, Scheduler); failed
	// invocations go to the events dead-letter queue.
	async bool
}

var fnSpecs = map[string]fnSpec{
	"tagger": {"Residency tagger: tags watched records with their residency, reports violations",
		256, awscdk.Duration_Seconds(jsii.Number(60)), true},
	"router": {"Residency router: routes ingested records home, relocates misplaced ones, decides transfers",
		256, awscdk.Duration_Seconds(jsii.Number(routerTimeoutSeconds)), true},
	"ledger": {"Residency ledger: the only writer of the hash-chained transfer ledger",
		256, awscdk.Duration_Seconds(jsii.Number(ledgerTimeoutSeconds)), false},
	"retention": {"Residency retention: deletes what outlived its retention, holds, erasure",
		512, awscdk.Duration_Minutes(jsii.Number(5)), true},
	// The HTTP API waits at most 30 s for an integration.
	"reports": {"Residency reports: compliance reports and ledger verification over HTTP (AWS_IAM)",
		512, awscdk.Duration_Seconds(jsii.Number(29)), false},
}

// FunctionName returns the Lambda function name of a Residency function
// (the same in every region).
func FunctionName(fn string) string { return "residency-" + fn }

// LogRetention is the retention of the functions' and the API's logs: an
// audit trail of a compliance system (the logs carry only references).
const LogRetention = awslogs.RetentionDays_ONE_YEAR

// functions makes the five functions: arm64 provided.al2023 Go binaries
// (handler bootstrap) with the policy beside them, each with its own role
// (no managed policy: permissions adds exactly what each uses), its own log
// group and only the environment it reads.
func (r *residency) functions() {
	env := r.environment()
	for _, fn := range Functions {
		spec := fnSpecs[fn]
		logs := awslogs.NewLogGroup(r.stack, jsii.String(id(fn)+"Logs"), &awslogs.LogGroupProps{
			LogGroupName:  jsii.String("/aws/lambda/" + FunctionName(fn)),
			Retention:     LogRetention,
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
		role := awsiam.NewRole(r.stack, jsii.String(id(fn)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Residency " + fn + " function (" + r.region + "): least privilege"),
		})
		role.AddToPrincipalPolicy(allow("WriteOwnLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs.LogGroupArn()))
		props := &awslambda.FunctionProps{
			FunctionName: jsii.String(FunctionName(fn)),
			Description:  jsii.String(spec.description),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(r.props.Assets[fn]), nil),
			MemorySize:   jsii.Number(spec.memoryMB),
			Timeout:      spec.timeout,
			Role:         role,
			LogGroup:     logs,
			Environment:  env[fn],
		}
		if spec.async {
			props.RetryAttempts = jsii.Number(2)
			props.MaxEventAge = awscdk.Duration_Hours(jsii.Number(6))
			props.OnFailure = awslambdadestinations.NewSqsDestination(r.eventsDLQ)
		}
		f := awslambda.NewFunction(r.stack, jsii.String(id(fn)+"Function"), props)
		// The function must wait for its role's policy (Lambda checks an
		// event source mapping's permissions when it is created); the wait
		// for the role itself is implied by the Role attribute, so leave it
		// out of DependsOn (cfn-lint W3005).
		policy := role.Node().FindChild(jsii.String("DefaultPolicy")).Node().DefaultChild().(awsiam.CfnPolicy)
		f.Node().DefaultChild().(awslambda.CfnFunction).AddOverride(jsii.String("DependsOn"), &[]*string{r.stack.GetLogicalId(policy)})
		r.fns[fn] = f
	}
}

// environment returns each function's environment: the names of what it
// uses (shared/awsenv), nothing more.
func (r *residency) environment() map[string]*map[string]*string {
	policyPath := "/var/task/" + PolicyAssetName
	reach := strings.Join(r.reach(), ",")
	m := func(kv ...*string) *map[string]*string {
		out := map[string]*string{awsenv.Policy: jsii.String(policyPath)}
		for i := 0; i < len(kv); i += 2 {
			out[*kv[i]] = kv[i+1]
		}
		return &out
	}
	s := jsii.String
	router := m(s(awsenv.EventBus), r.bus.EventBusName(), s(awsenv.LedgerQueueURL), r.ledgerQueue.QueueUrl(),
		s(awsenv.HMACKeyID), r.refKey.KeyArn(), s(awsenv.Regions), s(reach))
	if r.quarantine != nil {
		(*router)[awsenv.QuarantineTable] = r.quarantine.TableName()
	}
	if r.quarantinesObjects() {
		(*router)[awsenv.QuarantineBucketPrefix] = s(QuarantineBucketPrefix(*r.stack.Account()))
	}
	return map[string]*map[string]*string{
		"tagger": m(s(awsenv.CatalogTable), r.catalog.TableName(), s(awsenv.EventBus), r.bus.EventBusName(),
			s(awsenv.LedgerQueueURL), r.ledgerQueue.QueueUrl(), s(awsenv.HMACKeyID), r.refKey.KeyArn()),
		"router": router,
		"ledger": m(s(awsenv.LedgerTable), r.ledger.TableName(), s(awsenv.SigningKeyID), r.signKey.KeyArn(),
			s(awsenv.DigestBucket), r.digests.BucketName()),
		"retention": m(s(awsenv.CatalogTable), r.catalog.TableName(), s(awsenv.EventBus), r.bus.EventBusName(),
			s(awsenv.LedgerQueueURL), r.ledgerQueue.QueueUrl(), s(awsenv.HMACKeyID), r.refKey.KeyArn()),
		"reports": m(s(awsenv.LedgerTable), r.ledger.TableName(), s(awsenv.CatalogTable), r.catalog.TableName(), s(awsenv.HMACKeyID), r.refKey.KeyArn(),
			s(awsenv.SigningKeyID), r.signKey.KeyArn(), s(awsenv.DigestBucket), r.digests.BucketName()),
	}
}

// id turns a function name into a construct id prefix: "tagger" -> "Tagger".
func id(fn string) string { return strings.ToUpper(fn[:1]) + fn[1:] }
