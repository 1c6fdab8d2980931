// Package local runs Residency's five functions on the embedded store, wired
// as one stack per region of the policy, with an in-process bus and ledger
// queue that route events as the stacks' EventBridge rules and SQS queue do,
// and a stream pump that delivers every write to a watched table to the
// tagger as DynamoDB Streams would. `residency run`, `invoke`, `sweep` and
// the tests drive it.
//
// Every delivery goes through the functions' real JSON path
// (lambda.NewHandler(...).Invoke), with aws-lambda-go's event types.
package local
