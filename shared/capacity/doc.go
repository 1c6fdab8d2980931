// Package capacity is Residency's capacity model: the AWS quotas on the path
// of a record through one region (DynamoDB table, its stream, the tagger,
// EventBridge, the router, the ledger queue and the ledger function), each
// with its value and the AWS documentation page it comes from; the records
// per second each stage holds, from those quotas and from per-record costs
// measured by the repository's benchmarks or stated as assumptions; the
// first bottleneck at a load; how long a burst of misplaced records takes to
// drain and how long a misplaced record stays in the wrong region; and the
// cost per million records.
//
// docs/capacity.md is generated from this package (Markdown); a test keeps
// it in step: go test ./shared/capacity -run TestCapacityDoc -update-docs.
//
// It is a model, not a measurement of a deployed stack: every figure it
// uses is either a documented quota (Quota.Source), a number measured here
// (Assumption.Measured names the benchmark), or an assumption said as such.
package capacity
