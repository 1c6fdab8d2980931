// Package awsadapter holds the AWS adapters of the functions' ports other
// than the stores: the EventBridge bus (PutEvents, batched, retrying failed
// entries), the ledger's SQS FIFO queue (SendMessageBatch, one message group
// per region chain, the entry id as deduplication id), S3 object metadata,
// and the derivation of the pseudonym key from a KMS HMAC key.
package awsadapter
