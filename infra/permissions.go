package main

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/awsenv"
)

// allow is an Allow statement. Every statement of the stack is written out:
// named actions (never a wildcard) on named resources.
func allow(sid string, actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String(sid),
		Effect:    awsiam.Effect_ALLOW,
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

// when adds a condition to a statement.
func when(st awsiam.PolicyStatement, op, key string, value any) awsiam.PolicyStatement {
	st.AddCondition(jsii.String(op), &map[string]any{key: value})
	return st
}

// DynamoDB action sets. The design reads through keys and indexes; the two
// dynamodb:Scan grants of the stack are the reports function's, on its
// region's catalog table alone (statement CountCatalog: the register's
// hosting rows count the records held, and the catalog keeps no counters),
// and the tagger's on the watched tables of its region (statement
// BackfillWatchedTables: a backfill's pages of the records that predate
// Residency).
var (
	ddbRead      = []string{"dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"}
	ddbReadWrite = []string{"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
		"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	// The ledger is append-only: TransactWriteItems of Put, Update and
	// ConditionCheck; nothing deletes from it.
	ddbAppend = []string{"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem",
		"dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"}
	streamRead = []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"}
)

// tableAndIndexes returns a table's ARN and its indexes' ARNs.
func tableAndIndexes(t awsdynamodb.Table, indexes ...string) []*string {
	out := []*string{t.TableArn()}
	for _, ix := range indexes {
		out = append(out, awscdk.Fn_Join(jsii.String(""), &[]*string{t.TableArn(), jsii.String("/index/" + ix)}))
	}
	return out
}

// tableARN is the ARN of a table by name in a region of this account.
func (r *residency) tableARN(region, name string) *string {
	return r.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("dynamodb"), Region: jsii.String(region),
		Resource: jsii.String("table"), ResourceName: jsii.String(name),
	})
}

// objectARNs are the ARNs of the watched objects of the buckets: each
// source's bucket and prefix.
func (r *residency) objectARNs(buckets []string) []*string {
	var out []*string
	for _, s := range r.props.Policy.Sources {
		for _, b := range s.BucketNames() {
			if slices.Contains(buckets, b) {
				out = append(out, jsii.String("arn:"+*r.stack.Partition()+":s3:::"+b+"/"+s.Prefix+"*"))
			}
		}
	}
	return out
}

// bucketARNs are the ARNs of buckets, and the watched prefixes in them.
func (r *residency) bucketARNs(buckets []string) (arns []*string, prefixes []string) {
	for _, b := range buckets {
		arns = append(arns, jsii.String("arn:"+*r.stack.Partition()+":s3:::"+b))
	}
	for _, s := range r.props.Policy.Sources {
		for _, b := range s.BucketNames() {
			if p := s.Prefix + "*"; slices.Contains(buckets, b) && !slices.Contains(prefixes, p) {
				prefixes = append(prefixes, p)
			}
		}
	}
	return arns, prefixes
}

// homeBuckets returns the watched buckets of the home regions this stack's
// router may reach (not its own region): where it writes relocated objects.
func (r *residency) homeBuckets() []string {
	var out []string
	regions := BucketRegions(r.props.Policy, r.props.BucketRegions)
	for _, b := range WatchedBuckets(r.props.Policy) {
		if reg := regions[b]; reg != r.region && slices.Contains(r.reach(), reg) {
			out = append(out, b)
		}
	}
	return out
}

// quarantineObjectARNs are the objects of the quarantine buckets of every
// region this stack's router may reach, its own included.
func (r *residency) quarantineObjectARNs() []*string {
	var out []*string
	for _, region := range r.reach() {
		out = append(out, jsii.String("arn:"+*r.stack.Partition()+":s3:::"+QuarantineBucketName(*r.stack.Account(), region)+"/*"))
	}
	return out
}

// permissions grants each function exactly what it uses, in this region
// (and, for the router, in the home regions it may write; an EU stack's
// router only in the EU).
func (r *residency) permissions() {
	p := r.props.Policy
	watched := WatchedTables(p)
	localTables := make([]*string, 0, len(watched))
	for _, t := range watched {
		localTables = append(localTables, r.tableARN(r.region, t))
	}
	buckets := r.localBuckets()
	objects := r.objectARNs(buckets)
	catalog := tableAndIndexes(r.catalog, awsenv.DueIndex, awsenv.SubjectIndex, awsenv.ContractIndex)
	ledger := tableAndIndexes(r.ledger, awsenv.TimeIndex)
	putEvents := allow("PublishResidencyEvents", []string{"events:PutEvents"}, r.bus.EventBusArn())
	sendLedger := allow("SendLedgerEntries", []string{"sqs:SendMessage"}, r.ledgerQueue.QueueArn())
	mac := func() awsiam.PolicyStatement {
		return when(allow("MakeReferences", []string{"kms:GenerateMac"}, r.refKey.KeyArn()),
			"StringEquals", "kms:MacAlgorithm", "HMAC_SHA_256")
	}
	add := func(fn string, sts ...awsiam.PolicyStatement) {
		for _, st := range sts {
			r.fns[fn].Role().AddToPrincipalPolicy(st)
		}
	}

	// tagger: read the watched streams, tag records, keep the catalog,
	// report, send ledger entries, make references, read watched objects.
	var streams []*string
	for _, t := range watched {
		streams = append(streams, jsii.String(r.props.Streams[t]))
	}
	if len(streams) > 0 {
		add("tagger", allow("ReadWatchedStreams", streamRead, streams...),
			allow("TagWatchedRecords", []string{"dynamodb:UpdateItem"}, localTables...),
			// Backfill pages: a parallel Scan of the watched tables only.
			allow("BackfillWatchedTables", []string{"dynamodb:Scan"}, localTables...))
	}
	add("tagger", allow("Catalog", ddbReadWrite, catalog...), putEvents, sendLedger, mac())
	if len(objects) > 0 {
		// s3:GetObject also authorizes HeadObject.
		add("tagger", allow("ReadWatchedObjects", []string{"s3:GetObject"}, objects...))
	}

	// router: read, write and delete in its own region's watched tables;
	// read and write (copy, verify) in the home regions it may reach.
	if len(watched) > 0 {
		add("router", allow("RecordsHere", []string{"dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"}, localTables...))
		var homes []*string
		for _, region := range r.reach()[1:] {
			for _, t := range watched {
				homes = append(homes, r.tableARN(region, t))
			}
		}
		if r.quarantine != nil {
			homes = append(homes, r.quarantine.TableArn())
			for _, region := range r.reach()[1:] {
				homes = append(homes, r.tableARN(region, awsenv.DefaultQuarantineTable))
			}
		}
		if len(homes) > 0 {
			add("router", allow("RelocateToHomeRegions", []string{"dynamodb:GetItem", "dynamodb:PutItem"}, homes...))
		}
	}
	// router, S3: read a misplaced object of its region's watched buckets
	// (and its tags), list and delete its versions once its copy is
	// verified; write (and read back the checksum of) the copy in a home
	// region's bucket of the source or in a quarantine bucket. s3:ListBucket
	// makes S3 answer 404, not 403, for an object already moved (a
	// redelivery), under the watched prefixes only.
	if len(objects) > 0 {
		bucketARNs, prefixes := r.bucketARNs(buckets)
		add("router",
			allow("ReadMisplacedObjects", []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject", "s3:GetObjectTagging"}, objects...),
			when(allow("ListMisplacedObjects", []string{"s3:ListBucket", "s3:ListBucketVersions"}, bucketARNs...), "StringLike", "s3:prefix", prefixes))
	}
	writeObjects := r.objectARNs(r.homeBuckets())
	if r.quarantinesObjects() {
		writeObjects = append(writeObjects, r.quarantineObjectARNs()...)
	}
	if len(writeObjects) > 0 {
		add("router", allow("RelocateObjectsToHomeRegions", []string{"s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"}, writeObjects...))
	}
	add("router", putEvents, sendLedger, mac())

	// ledger: append to the ledger, sign digests, store them (locked),
	// find the last one (its signature chains the next).
	digestObjects := r.digests.ArnForObjects(jsii.String("*"))
	add("ledger",
		allow("AppendLedger", ddbAppend, ledger...),
		when(allow("SignDigests", []string{"kms:Sign"}, r.signKey.KeyArn()), "StringEquals", "kms:SigningAlgorithm", "ECDSA_SHA_256"),
		allow("StoreDigests", []string{"s3:GetObject", "s3:PutObject"}, digestObjects),
		allow("ListDigests", []string{"s3:ListBucket"}, r.digests.BucketArn()),
	)

	// retention: sweep and keep the catalog, delete and retag watched
	// records and objects, report, receipts, references.
	add("retention", allow("Catalog", ddbReadWrite, catalog...), putEvents, sendLedger, mac())
	if len(watched) > 0 {
		add("retention", allow("DeleteWatchedRecords", []string{"dynamodb:DeleteItem", "dynamodb:UpdateItem"}, localTables...))
	}
	if len(objects) > 0 {
		// Every version and delete marker of an object goes (DeleteObjects
		// with VersionId), found by listing the object's versions.
		add("retention", allow("DeleteWatchedObjects", []string{"s3:DeleteObject", "s3:DeleteObjectVersion"}, objects...))
		// A version S3 Object Lock keeps: its retain-until date and legal
		// hold, read with HeadObject of the version, go on its receipt.
		add("retention", allow("ReadObjectLocks", []string{"s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersion"}, objects...))
		bucketARNs, prefixes := r.bucketARNs(buckets)
		add("retention", when(allow("ListWatchedObjectVersions", []string{"s3:ListBucketVersions"}, bucketARNs...),
			"StringLike", "s3:prefix", prefixes))
	}

	// reports: read the ledger, the holds in force, a subject's records
	// and the catalog's counts, references for the subject filter, read digests and the
	// signing key's public key (the checks run locally); write erasure
	// certificates, once, under certificates/ of the digest bucket (Object
	// Lock; no delete, no retention action).
	add("reports",
		allow("ReadLedger", ddbRead, ledger...),
		allow("ReadCatalog", []string{"dynamodb:Query"}, tableAndIndexes(r.catalog, awsenv.SubjectIndex)...), // holds, a subject's records
		allow("CountCatalog", []string{"dynamodb:Scan"}, r.catalog.TableArn()),
		mac(),
		allow("DigestPublicKey", []string{"kms:GetPublicKey"}, r.signKey.KeyArn()),
		allow("ReadDigests", []string{"s3:GetObject"}, digestObjects),
		allow("ListDigests", []string{"s3:ListBucket"}, r.digests.BucketArn()),
		allow("StoreCertificates", []string{"s3:PutObject"}, r.digests.ArnForObjects(jsii.String(certificateObjects))),
	)
}

// certificateObjects are the erasure certificates' keys in the digest
// bucket (digests.CertificatePrefix).
const certificateObjects = "certificates/*"
