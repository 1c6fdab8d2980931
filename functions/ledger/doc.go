// Package ledger is the ledger function, the only writer of the transfer
// ledger. It reads entry drafts from an SQS FIFO queue (one message group per
// region chain) and appends each group to its chain in one transaction. A
// redelivered draft (same id) is not appended twice; a malformed message
// fails alone and stays on the queue until its dead-letter queue takes it.
package ledger
