package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/awsenv"
)

// Resource names: the awsenv defaults, the same in every region (each stack
// is alone in its region), so that a router can name a home region's tables.
const (
	ledgerDLQName       = "residency-ledger-dlq.fifo"
	streamDLQName       = "residency-stream-failures"
	eventsDLQName       = "residency-events-dlq"
	scheduleDLQName     = "residency-schedule-dlq"
	violationsQueueName = "residency-violations"
	violationsDLQName   = "residency-violations-dlq"
	referenceAlias      = "alias/residency-references"
	signingAlias        = "alias/residency-digests"
)

// keyAdminActions administer a key without using it. No wildcards: a key
// policy names what it allows. kms:CreateGrant is left out on purpose: a
// grant would hand the key's use to a principal outside IAM's view.
var keyAdminActions = []string{
	"kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:DisableKey",
	"kms:EnableKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListKeyPolicies",
	"kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource",
	"kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
}

// keyPolicy lets the account administer the key and delegates the named uses
// to IAM: a principal can use the key only if its own IAM policy says so,
// and only for those actions. The account is named by its id, which IAM
// reads as the account's root in every partition (an ARN would carry the
// partition, and cfn-lint's principal patterns predate aws-eusc).
func (r *residency) keyPolicy(uses ...string) awsiam.PolicyDocument {
	root := awsiam.NewArnPrincipal(r.stack.Account())
	return awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("KeyAdministration"), Principals: &[]awsiam.IPrincipal{root},
			Actions: jsii.Strings(keyAdminActions...), Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("UseThroughIAMPoliciesOnly"), Principals: &[]awsiam.IPrincipal{root},
			Actions: jsii.Strings(uses...), Resources: jsii.Strings("*"),
		}),
	}})
}

// keys makes the region's two KMS keys. Neither is multi-Region: key
// material never leaves the region. Neither supports automatic rotation
// (KMS rotates symmetric encryption keys only); see the nag suppressions.
func (r *residency) keys() {
	r.refKey = awskms.NewKey(r.stack, jsii.String("ReferenceKey"), &awskms.KeyProps{
		Description:   jsii.String("Residency: HMAC key of subject and record references (" + r.region + ")"),
		Alias:         jsii.String(referenceAlias),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		MultiRegion:   jsii.Bool(false),
		Policy:        r.keyPolicy("kms:GenerateMac", "kms:VerifyMac"),
		PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
		// Losing it would orphan every reference in the catalog and ledger.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	r.signKey = awskms.NewKey(r.stack, jsii.String("DigestSigningKey"), &awskms.KeyProps{
		Description:   jsii.String("Residency: signs the ledger digests (" + r.region + ")"),
		Alias:         jsii.String(signingAlias),
		KeySpec:       awskms.KeySpec_ECC_NIST_P256,
		KeyUsage:      awskms.KeyUsage_SIGN_VERIFY,
		MultiRegion:   jsii.Bool(false),
		Policy:        r.keyPolicy("kms:Sign", "kms:Verify", "kms:GetPublicKey"),
		PendingWindow: awscdk.Duration_Days(jsii.Number(30)),
		// Digests signed with it must stay verifiable.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
}

func str(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}

// newTable makes one of Residency's tables: a plain regional table (never a
// global table: replicas would copy EU data out of the EU), on-demand, with
// point-in-time recovery, deletion protection, retained on stack deletion,
// encrypted with the AWS managed key (see tableEncryption).
func (r *residency) newTable(id, name string, pk, sk *awsdynamodb.Attribute) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		TableName:    jsii.String(name),
		PartitionKey: pk,
		SortKey:      sk,
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:   tableEncryption,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
			RecoveryPeriodInDays:       jsii.Number(35),
		},
		DeletionProtection: jsii.Bool(true),
		RemovalPolicy:      awscdk.RemovalPolicy_RETAIN,
	}
	return awsdynamodb.NewTable(r.stack, jsii.String(id), props)
}

// tableEncryption: the AWS managed key (aws/dynamodb). It is a KMS key of
// this account and region (the data never leaves the region; every use is in
// CloudTrail), and DynamoDB authorizes its use through the caller's table
// permissions, so no role needs a KMS grant: a customer managed key would
// add kms:Decrypt/Encrypt/GenerateDataKey to five roles and its own key
// policy, for no gain in residency. Crypto-shredding is not the erasure
// mechanism here (the retention function deletes items, with receipts).
var tableEncryption = awsdynamodb.TableEncryption_AWS_MANAGED

// tables makes the catalog, the ledger and, when a rule quarantines, the
// quarantine table, with the key schemas of shared/awsenv.
func (r *residency) tables() {
	r.catalog = r.newTable("CatalogTable", awsenv.DefaultCatalogTable, str(awsenv.CatalogPK), str(awsenv.CatalogSK))
	for _, gsi := range []struct{ name, pk, sk string }{
		{awsenv.DueIndex, awsenv.DueIndexPK, awsenv.DueIndexSK},
		{awsenv.SubjectIndex, awsenv.SubjectIndexPK, awsenv.CatalogPK},
		{awsenv.ContractIndex, awsenv.ContractIndexPK, awsenv.CatalogPK},
	} {
		r.catalog.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName: jsii.String(gsi.name), PartitionKey: str(gsi.pk), SortKey: str(gsi.sk),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}

	r.ledger = r.newTable("LedgerTable", awsenv.DefaultLedgerTable, str(awsenv.LedgerPK),
		&awsdynamodb.Attribute{Name: jsii.String(awsenv.LedgerSK), Type: awsdynamodb.AttributeType_NUMBER})
	r.ledger.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName: jsii.String(awsenv.TimeIndex), PartitionKey: str(awsenv.TimeIndexPK), SortKey: str(awsenv.TimeIndexSK),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	key, _ := quarantineKey(r.props.Policy) // checked in props.check
	if key != nil {
		var sk *awsdynamodb.Attribute
		if len(key) == 2 {
			sk = str(key[1])
		}
		r.quarantine = r.newTable("QuarantineTable", awsenv.DefaultQuarantineTable, str(key[0]), sk)
	}
}

// newQueue makes an SQS queue with SQS-managed server-side encryption
// (SSE-SQS) and TLS enforced. SSE-SQS encrypts at rest in the region with
// keys SQS manages; unlike a customer managed key it needs no KMS grant to
// the senders (five roles, EventBridge, Scheduler, Lambda's event source
// mappings), so no role holds a KMS permission it does not strictly need.
func (r *residency) newQueue(id string, props *awssqs.QueueProps) awssqs.Queue {
	props.Encryption = awssqs.QueueEncryption_SQS_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	if props.RetentionPeriod == nil {
		props.RetentionPeriod = awscdk.Duration_Days(jsii.Number(14))
	}
	return awssqs.NewQueue(r.stack, jsii.String(id), props)
}

// queues makes the ledger FIFO queue and the dead-letter queues.
func (r *residency) queues() {
	r.ledgerDLQ = r.newQueue("LedgerDeadLetterQueue", &awssqs.QueueProps{
		QueueName: jsii.String(ledgerDLQName), Fifo: jsii.Bool(true), ContentBasedDeduplication: jsii.Bool(false),
	})
	r.ledgerQueue = r.newQueue("LedgerQueue", &awssqs.QueueProps{
		QueueName: jsii.String(awsenv.DefaultLedgerQueue),
		Fifo:      jsii.Bool(true),
		// The functions set MessageDeduplicationId (the entry id).
		ContentBasedDeduplication: jsii.Bool(false),
		// Six times the ledger function's timeout, as Lambda advises.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * ledgerTimeoutSeconds)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: r.ledgerDLQ, MaxReceiveCount: jsii.Number(5)},
	})
	// Stream batches that exhausted their retries (metadata only: shard,
	// sequence numbers; not the records).
	r.streamDLQ = r.newQueue("StreamFailureQueue", &awssqs.QueueProps{QueueName: jsii.String(streamDLQName)})
	// EventBridge deliveries that failed, and asynchronous invocations of
	// the tagger, router and retention functions that failed every retry.
	r.eventsDLQ = r.newQueue("EventsDeadLetterQueue", &awssqs.QueueProps{QueueName: jsii.String(eventsDLQName)})
	// The violations, for the router in batches; a message received
	// violationsMaxReceives times without success is kept in its DLQ.
	r.violationsDLQ = r.newQueue("ViolationsDeadLetterQueue", &awssqs.QueueProps{QueueName: jsii.String(violationsDLQName)})
	r.violationsQueue = r.newQueue("ViolationsQueue", &awssqs.QueueProps{
		QueueName: jsii.String(violationsQueueName),
		// Six times the router's timeout, as Lambda advises.
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(6 * routerTimeoutSeconds)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: r.violationsDLQ, MaxReceiveCount: jsii.Number(violationsMaxReceives)},
	})
	// Retention sweeps the Scheduler could not deliver.
	r.scheduleDLQ = r.newQueue("ScheduleDeadLetterQueue", &awssqs.QueueProps{QueueName: jsii.String(scheduleDLQName)})
}

// dlqs returns the dead-letter queues with a short name for alarms.
func (r *residency) dlqs() []struct {
	name  string
	queue awssqs.Queue
} {
	return []struct {
		name  string
		queue awssqs.Queue
	}{
		{"ledger-dlq", r.ledgerDLQ}, {"stream-failures", r.streamDLQ},
		{"events-dlq", r.eventsDLQ}, {"schedule-dlq", r.scheduleDLQ},
		{"violations-dlq", r.violationsDLQ},
	}
}

// digestBucket makes the bucket of the signed ledger digests: Object Lock in
// compliance mode (nobody, root included, can delete or shorten the
// retention of a digest), versioned, private, TLS only, SSE-S3, with server
// access logs to a log bucket.
//
// SSE-S3 rather than KMS: a digest holds a head sequence number, a hash and
// a signature, no personal data; its integrity rests on the KMS signature
// and Object Lock, not on encryption, and SSE-S3 needs no KMS grant.
func (r *residency) digestBucket() {
	years := r.props.DigestRetentionYears
	if years == 0 {
		years = DefaultDigestRetentionYears
	}
	// Server access logs: SSE-S3 is the only encryption S3 log delivery
	// supports; kept as long as the digests they audit.
	r.accessLogs = awss3.NewBucket(r.stack, jsii.String("AccessLogBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		MinimumTLSVersion: jsii.Number(1.2),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                          jsii.String("expire-access-logs"),
			Expiration:                  awscdk.Duration_Days(jsii.Number(float64(years*366 + 1))),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	r.digests = r.privateBucket("DigestBucket", "digests/", &awss3.BucketProps{
		Versioned:         jsii.Bool(true),
		ObjectLockEnabled: jsii.Bool(true),
	})
	// Compliance mode, in years (the L2 would render days and lose the
	// calendar): every digest is locked that long from its write.
	cfn := r.digests.Node().DefaultChild().(awss3.CfnBucket)
	cfn.SetObjectLockConfiguration(&awss3.CfnBucket_ObjectLockConfigurationProperty{
		ObjectLockEnabled: jsii.String("Enabled"),
		Rule: &awss3.CfnBucket_ObjectLockRuleProperty{
			DefaultRetention: &awss3.CfnBucket_DefaultRetentionProperty{
				Mode:  jsii.String("COMPLIANCE"),
				Years: jsii.Number(float64(years)),
			},
		},
	})
}

// eventBus makes the region's residency bus. The platform publishes its
// events here (any source but "residency"); Residency publishes with source
// "residency".
func (r *residency) eventBus() {
	r.bus = awsevents.NewEventBus(r.stack, jsii.String("EventBus"), &awsevents.EventBusProps{
		EventBusName: jsii.String(awsenv.DefaultEventBus),
		Description:  jsii.String("Residency: platform events in, residency events out"),
	})
}

// quarantineObjects makes the region's quarantine bucket, beside the
// quarantine table, when the policy watches a bucket: the misplaced objects
// the routers quarantine in this home region land here, under
// <bucket>/<key>. Its name, residency-quarantine-ACCOUNT-REGION, is known to
// every stack's router (bucket names are global). Private, TLS only,
// SSE-S3 (encrypted at rest in the region; the routers need no KMS grant),
// access-logged, retained with the stack. Not versioned: the routers never
// overwrite an object in it (If-None-Match), and whoever reviews a
// quarantined object deletes it with one DeleteObject.
func (r *residency) quarantineObjects() {
	if !r.quarantinesObjects() {
		return
	}
	r.quarantineBucket = r.privateBucket("QuarantineBucket", "quarantine/", &awss3.BucketProps{
		BucketName: jsii.String(QuarantineBucketName(*r.stack.Account(), r.region)),
	})
}

// privateBucket makes a bucket of the stack that holds Residency's own
// data: props with public access blocked, SSE-S3, TLS 1.2 only, owner
// enforced, access-logged under logPrefix, retained with the stack.
func (r *residency) privateBucket(id, logPrefix string, props *awss3.BucketProps) awss3.Bucket {
	props.BlockPublicAccess = awss3.BlockPublicAccess_BLOCK_ALL()
	props.Encryption = awss3.BucketEncryption_S3_MANAGED
	props.EnforceSSL = jsii.Bool(true)
	props.MinimumTLSVersion = jsii.Number(1.2)
	props.ObjectOwnership = awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED
	props.ServerAccessLogsBucket = r.accessLogs
	props.ServerAccessLogsPrefix = jsii.String(logPrefix)
	props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	return awss3.NewBucket(r.stack, jsii.String(id), props)
}
