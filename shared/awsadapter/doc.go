// Package awsadapter derives the pseudonym key from a KMS HMAC key and holds
// what the AWS adapters in its subpackages share: the retry policy (Backoff,
// Retries) and the recognition of S3's answers to a conditional write
// (PreconditionFailed, ConditionalRequestConflict). The adapters are eventbus
// (EventBridge), sqsqueue (the ledger's FIFO queue), s3objects (watched
// buckets) and digests (the ledger's signed digests, KMS and S3). They are
// separate packages so that each function's binary links only the SDK
// clients it uses.
package awsadapter
