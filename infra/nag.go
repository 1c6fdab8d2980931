package main

import (
	"fmt"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Suppression reasons: each cdk-nag AwsSolutions finding this stack accepts,
// and why. Suppressions are attached to the one resource concerned and, for
// IAM5, to the one wildcard resource (appliesTo), never stack-wide.
const (
	reasonDLQ = "This queue is itself a dead-letter queue (%s). A dead-letter queue of a dead-letter queue " +
		"would only move the messages; instead an alarm fires on its first message (ApproximateNumberOfMessagesVisible >= 1) " +
		"and retention is 14 days for a human to redrive or inspect."
	reasonDigestObjects = "Object-level ARN of this stack's own digest bucket (it holds digests only): the ledger names each " +
		"digest object by chain and hour, so the key is not known in advance. Object Lock in compliance mode keeps every " +
		"written digest immutable, and no delete or retention-shortening action is granted."
	reasonCertificateObjects = "Object-level ARN of the erasure certificates in this stack's own digest bucket (certificates/): " +
		"the reports function names each by its request id, not known in advance. It may only put there (If-None-Match, written once); " +
		"Object Lock in compliance mode keeps each immutable, and no delete or retention action is granted."
	reasonWatchedObjects = "The objects under a watched source's bucket and prefix, exactly as the policy file declares the " +
		"source (any object there may hold a subject's data). Only the stack of the bucket's region is granted it."
	reasonHomeObjects = "The router writes a misplaced object, whose key it learns from the violation, into its home region's bucket " +
		"of the same source, under the prefix the policy file declares, or into the quarantine bucket of a home region it may reach " +
		"(residency-quarantine-ACCOUNT-REGION); it may write and read back, never delete, there. An EU stack names no bucket outside the EU."
)

// suppressions records, on the resources they concern, the cdk-nag
// AwsSolutions findings this stack accepts, each with its reason.
func (r *residency) suppressions() {
	suppress := func(c any, id, reason string, appliesTo ...any) {
		s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
		if len(appliesTo) > 0 {
			s.AppliesTo = &appliesTo
		}
		cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
	}
	suppress(r.streamDLQ, "AwsSolutions-SQS3", fmt.Sprintf(reasonDLQ, "the on-failure destination of the stream event source mappings"))
	suppress(r.eventsDLQ, "AwsSolutions-SQS3", fmt.Sprintf(reasonDLQ, "of the EventBridge rule targets and of the asynchronous invocations of the tagger, router and retention functions"))
	suppress(r.scheduleDLQ, "AwsSolutions-SQS3", fmt.Sprintf(reasonDLQ, "of the retention schedule"))

	// <DigestBucketXXXXXXXX.Arn>/*: the bucket's logical id, as nag shows it.
	digestObjects := &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<DigestBucket[0-9A-F]{8}\.Arn>\/\*$/g`)}
	suppress(r.fns["ledger"].Role(), "AwsSolutions-IAM5", reasonDigestObjects, digestObjects)
	suppress(r.fns["reports"].Role(), "AwsSolutions-IAM5", reasonDigestObjects, digestObjects)
	certificateObjects := &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<DigestBucket[0-9A-F]{8}\.Arn>\/certificates\/\*$/g`)}
	suppress(r.fns["reports"].Role(), "AwsSolutions-IAM5", reasonCertificateObjects, certificateObjects)

	if objects := r.objectARNs(r.localBuckets()); len(objects) > 0 {
		var appliesTo []any
		for _, o := range objects {
			appliesTo = append(appliesTo, "Resource::"+*o)
		}
		suppress(r.fns["tagger"].Role(), "AwsSolutions-IAM5", reasonWatchedObjects, appliesTo...)
		suppress(r.fns["retention"].Role(), "AwsSolutions-IAM5", reasonWatchedObjects, appliesTo...)
		suppress(r.fns["router"].Role(), "AwsSolutions-IAM5", reasonWatchedObjects, appliesTo...)
	}
	var home []any
	for _, o := range r.objectARNs(r.homeBuckets()) {
		home = append(home, "Resource::"+*o)
	}
	if r.quarantinesObjects() {
		for _, o := range r.quarantineObjectARNs() {
			home = append(home, "Resource::"+*o)
		}
	}
	if len(home) > 0 {
		suppress(r.fns["router"].Role(), "AwsSolutions-IAM5", reasonHomeObjects, home...)
	}
	r.backfillSuppressions(suppress)
}
