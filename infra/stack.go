package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/policy"
)

// ResidencyStackProps configures one region's Residency stack. Env.Region
// is required: the stack is the deployment of that region.
type ResidencyStackProps struct {
	awscdk.StackProps
	// Policy is the validated policy; PolicyFile names it in messages.
	Policy     *policy.Policy
	PolicyFile string
	// Assets maps each function to its staged code directory: bootstrap and
	// the policy as residency.yaml (see StageAssets).
	Assets map[string]string
	// Streams maps each watched table of the policy to its stream ARN in
	// this stack's region.
	Streams map[string]string
	// BucketRegions maps each watched bucket of a single bucket: source to
	// its region (the policy says where a buckets: source's are); the stack
	// grants access to watched objects only in their own region's stack,
	// and to write relocated objects only in the stacks whose routers may
	// reach that region.
	BucketRegions map[string]string
	// SweepSchedule is the retention sweep's Scheduler expression (default
	// rate(1 hour)).
	SweepSchedule string
	// DigestRetentionYears is the digests' Object Lock compliance-mode
	// retention (default 7).
	DigestRetentionYears int
	// ExposureSLO is the exposure p99 the stack alarms over (default 60 s).
	ExposureSLO time.Duration
}

// StackName returns the name of the stack of a region.
func StackName(region string) string { return "Residency-" + region }

// residency is one stack under construction.
type residency struct {
	stack  awscdk.Stack
	props  *ResidencyStackProps
	region string
	// eu is true for a stack in the EU/EEA: it gets no permission on any
	// resource outside the EU.
	eu bool

	catalog, ledger, quarantine    awsdynamodb.Table
	refKey, signKey                awskms.Key
	bus                            awsevents.EventBus
	ledgerQueue, ledgerDLQ         awssqs.Queue
	streamDLQ, eventsDLQ           awssqs.Queue
	violationsQueue, violationsDLQ awssqs.Queue
	scheduleDLQ                    awssqs.Queue
	digests, accessLogs            awss3.Bucket
	quarantineBucket               awss3.Bucket
	fns                            map[string]awslambda.Function
	apiURL                         *string
	// The backfill (backfill.go): its bucket and state machine, nil when
	// the policy watches no table.
	backfillBucket  awss3.Bucket
	backfillMachine awsstepfunctions.StateMachine
	backfillRole    awsiam.Role
}

// NewResidencyStack builds the Residency stack of one region: its own
// tables, keys, bus, queues, digest bucket and functions, the triggers from
// the platform's watched tables and events, the schedule, the reports API,
// alarms and outputs. Problems with props fail synthesis with a message
// (an error annotation), never a half-built stack that deploys.
func NewResidencyStack(scope constructs.Construct, id string, props *ResidencyStackProps) awscdk.Stack {
	var sprops awscdk.StackProps
	if props != nil {
		sprops = props.StackProps
	}
	if sprops.Description == nil {
		sprops.Description = jsii.String("Residency: data residency enforcement, transfer ledger and retention for one region")
	}
	stack := awscdk.NewStack(scope, &id, &sprops)
	r := &residency{stack: stack, props: props, fns: map[string]awslambda.Function{}}
	if errs := props.check(); len(errs) > 0 {
		for _, err := range errs {
			awscdk.Annotations_Of(stack).AddError(jsii.String(err.Error()))
		}
		return stack
	}
	r.region = *props.Env.Region
	r.eu = EURegion(r.region)
	// CloudFormation's dashboards take no tags (cfn-lint E3002).
	awscdk.Tags_Of(stack).Add(jsii.String("residency:region"), jsii.String(r.region),
		&awscdk.TagProps{ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard")})

	r.keys()
	r.tables()
	r.queues()
	r.digestBucket()
	r.quarantineObjects()
	r.eventBus()
	r.functions()
	r.permissions()
	r.backfill()
	r.triggers()
	r.reportsAPI()
	r.alarms()
	r.dashboard()
	r.outputs()
	r.suppressions()
	return stack
}

// check reports what makes props unusable.
func (p *ResidencyStackProps) check() []error {
	if p == nil {
		return []error{fmt.Errorf("residency: no ResidencyStackProps")}
	}
	var errs []error
	if p.Env == nil || p.Env.Region == nil || *p.Env.Region == "" || strings.HasPrefix(*p.Env.Region, "${Token") {
		errs = append(errs, fmt.Errorf("residency: the stack needs an explicit env region"))
	}
	if p.Policy == nil {
		return append(errs, fmt.Errorf("residency: no policy"))
	}
	if len(errs) > 0 {
		return errs
	}
	region := *p.Env.Region
	if !p.Policy.HasRegion(region) {
		errs = append(errs, fmt.Errorf("residency: region %s is not one of the regions of policy %s (%s)", region, p.PolicyFile, strings.Join(p.Policy.Regions, ", ")))
	}
	for _, fn := range Functions {
		if p.Assets[fn] == "" {
			errs = append(errs, fmt.Errorf("residency: no code asset for function %s (see StageAssets)", fn))
		}
	}
	for _, t := range WatchedTables(p.Policy) {
		arn, ok := p.Streams[t]
		if !ok {
			errs = append(errs, missingStreamError(region, t))
			continue
		}
		if a, ok := ParseStreamARN(arn); !ok || a.Region != region || a.Table != t {
			errs = append(errs, fmt.Errorf("%s: %s: %s: %q is not a stream ARN of table %s in %s", CtxStreams, region, t, arn, t, region))
		}
	}
	regions := BucketRegions(p.Policy, p.BucketRegions)
	for _, b := range WatchedBuckets(p.Policy) {
		if regions[b] == "" {
			errs = append(errs, fmt.Errorf("%s: no region for watched bucket %q", CtxBuckets, b))
		}
	}
	if _, err := quarantineKey(p.Policy); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// reach returns the regions whose tables this stack's router may write: its
// own and the home regions of the policy's rules, and for an EU stack only
// those in the EU.
func (r *residency) reach() []string {
	out := []string{r.region}
	for _, rule := range r.props.Policy.Rules {
		h := rule.Home
		if h == r.region || (r.eu && !EURegion(h)) {
			continue
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// localBuckets returns the watched buckets in this stack's region.
func (r *residency) localBuckets() []string {
	var out []string
	regions := BucketRegions(r.props.Policy, r.props.BucketRegions)
	for _, b := range WatchedBuckets(r.props.Policy) {
		if regions[b] == r.region {
			out = append(out, b)
		}
	}
	return out
}

// quarantinesObjects reports whether the router may quarantine S3 objects:
// whenever the policy watches a bucket (a rule that quarantines, or a home
// region without a bucket of the source, sends objects to quarantine).
func (r *residency) quarantinesObjects() bool {
	return len(WatchedBuckets(r.props.Policy)) > 0
}

// QuarantineBucketName is the name of a region's quarantine bucket in an
// account: the routers of the other stacks name it (bucket names are
// global, so the account is in it).
func QuarantineBucketName(account, region string) string {
	return awsenv.QuarantineBucket(QuarantineBucketPrefix(account), region)
}

// QuarantineBucketPrefix is the prefix of the quarantine buckets of an
// account: RESIDENCY_QUARANTINE_BUCKET_PREFIX.
func QuarantineBucketPrefix(account string) string {
	return awsenv.DefaultQuarantineBucketPrefix + account + "-"
}

// quarantineKey returns the key attributes of the quarantine table: those of
// the watched tables, which must agree when any rule quarantines. It returns
// nil when no rule quarantines (no quarantine table is made).
func quarantineKey(p *policy.Policy) ([]string, error) {
	quarantines := false
	for _, rule := range p.Rules {
		if rule.OnViolation == policy.ActionQuarantine {
			quarantines = true
		}
	}
	if !quarantines {
		return nil, nil
	}
	var key []string
	var first string
	for _, s := range p.Sources {
		if s.Table == "" {
			continue
		}
		if key == nil {
			key, first = s.Key, s.Table
			continue
		}
		if strings.Join(key, ",") != strings.Join(s.Key, ",") {
			return nil, fmt.Errorf("policy %s: a rule quarantines, but watched tables %s (key %v) and %s (key %v) have different keys: one quarantine table cannot hold both",
				p.File, first, key, s.Table, s.Key)
		}
	}
	if len(key) == 0 || len(key) > 2 {
		return nil, nil // no table source: nothing to quarantine
	}
	return key, nil
}
