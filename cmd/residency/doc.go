// Command residency runs Residency's functions locally on the embedded store
// and answers compliance questions: replay events (`run`), invoke one
// function (`invoke`), decide residency and transfers (`decide`), pull the
// report (`report`, from the embedded store or a deployed reports API),
// verify the ledger (`verify`), sweep retention (`sweep`), serve the local
// stack to real clients (`serve`: the Lambda Invoke API and the reports API
// on loopback, and the retention schedule) and validate a policy
// (`policy validate`). See `residency help`.
package main
