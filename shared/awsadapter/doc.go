// Package awsadapter derives the pseudonym key from a KMS HMAC key and holds
// the retry policy of the AWS adapters in its subpackages: eventbus
// (EventBridge), sqsqueue (the ledger's FIFO queue), s3objects (watched
// buckets). They are separate packages so that each function's binary links
// only the SDK clients it uses.
package awsadapter
