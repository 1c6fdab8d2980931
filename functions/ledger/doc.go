// Package ledger is the ledger function, the only writer of the transfer
// ledger. It reads entry drafts from an SQS FIFO queue (one message group per
// region chain) and appends each group to its chain in one transaction. A
// redelivered draft (same id) is not appended twice; a malformed message
// fails alone and stays on the queue until its dead-letter queue takes it.
//
// On its hourly schedule it signs a digest of its region's chain (package
// digest): the head seq and hash and the previous digest's signature,
// signed with the region's KMS key and stored in the Object Lock bucket. It
// refuses to sign a chain that does not extend the last digest.
package ledger
