// Package awse2e holds the end-to-end tests of the functions on the AWS
// adapters, against moto_server: real DynamoDB stream records, EventBridge
// rules delivering to SQS, the ledger's FIFO queue, KMS-derived references.
package awse2e
