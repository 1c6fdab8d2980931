// Package awsenv is the contract between the CDK stacks (infra/) and the
// Lambda mains (functions/*/lambda): the environment variables each function
// reads, and the names and key schemas of the resources Residency owns in
// each region. Both sides import these names, so they cannot drift apart.
package awsenv

// Environment variables of the functions. AWS_REGION is set by Lambda.
const (
	// Policy is the path of the policy file inside the function's package
	// (the stack bundles the configured policy beside the bootstrap).
	Policy = "RESIDENCY_POLICY"
	// CatalogTable is the name of this region's catalog table.
	CatalogTable = "RESIDENCY_CATALOG_TABLE"
	// LedgerTable is the name of this region's ledger table.
	LedgerTable = "RESIDENCY_LEDGER_TABLE"
	// EventBus is the name of this region's residency event bus.
	EventBus = "RESIDENCY_EVENT_BUS"
	// LedgerQueueURL is the URL of this region's ledger FIFO queue.
	LedgerQueueURL = "RESIDENCY_LEDGER_QUEUE_URL"
	// HMACKeyID is the KMS HMAC key (HMAC_256) that makes subject and
	// record references.
	HMACKeyID = "RESIDENCY_HMAC_KEY_ID"
	// SigningKeyID is the KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY)
	// that signs ledger digests.
	SigningKeyID = "RESIDENCY_SIGNING_KEY_ID"
	// DigestBucket is the S3 bucket (Object Lock, compliance mode) of the
	// ledger digests.
	DigestBucket = "RESIDENCY_DIGEST_BUCKET"
	// QuarantineTable is the table, in each home region, that receives
	// quarantined records (default residency-quarantine).
	QuarantineTable = "RESIDENCY_QUARANTINE_TABLE"
	// QuarantineBucketPrefix is the prefix of the quarantine buckets: the
	// one of each home region is the prefix followed by the region (bucket
	// names are global: the stacks name them
	// residency-quarantine-ACCOUNT-REGION).
	QuarantineBucketPrefix = "RESIDENCY_QUARANTINE_BUCKET_PREFIX"
	// Regions is the comma-separated list of the deployment's regions (the
	// router writes to home tables in them; the retention function forwards
	// erasure requests to them).
	Regions = "RESIDENCY_REGIONS"
)

// Default resource names (a stack may prefix them).
const (
	DefaultCatalogTable    = "residency-catalog"
	DefaultLedgerTable     = "residency-ledger"
	DefaultEventBus        = "residency"
	DefaultLedgerQueue     = "residency-ledger.fifo"
	DefaultQuarantineTable = "residency-quarantine"
	// DefaultQuarantineBucketPrefix names the local stack's quarantine
	// buckets; the stacks add the account: residency-quarantine-ACCOUNT-.
	DefaultQuarantineBucketPrefix = "residency-quarantine-"
)

// QuarantineBucket is the quarantine bucket of region for a prefix.
func QuarantineBucket(prefix, region string) string { return prefix + region }

// Key schema of the catalog table (all attributes strings): partition key
// PK, sort key SK; global secondary indexes by expiry bucket, subject
// reference and contract. No TTL: a catalog entry that expired before its
// record was deleted would leave the record to nobody; the TTL backstop is
// on the records (the policy's ttl_attribute).
const (
	CatalogPK       = "pk"
	CatalogSK       = "sk"
	DueIndex        = "due" // partition due_pk = "DUE#<yyyy-mm-dd>#<shard>", sort due_sk = "<retain_until>#<source>#<key>"
	DueIndexPK      = "due_pk"
	DueIndexSK      = "due_sk"
	SubjectIndex    = "subject" // partition subject_ref, sort pk
	SubjectIndexPK  = "subject_ref"
	ContractIndex   = "contract" // partition contract, sort pk
	ContractIndexPK = "contract"
)

// Key schema of the ledger table: partition key PK (string), sort key SK
// (number): entries are PK "CHAIN#<region>", SK seq; the head item is
// PK "HEAD#<region>", SK 0; idempotency items PK "ID#<region>#<id>", SK 0.
// Global secondary index "time": partition time_pk = "CHAIN#<region>#<yyyy-mm>",
// sort time_sk = "<RFC 3339 time>#<seq, 20 digits>".
const (
	LedgerPK    = "pk"
	LedgerSK    = "sk"
	TimeIndex   = "time"
	TimeIndexPK = "time_pk"
	TimeIndexSK = "time_sk"
)
