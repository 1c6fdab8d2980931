// Command residency runs Residency's functions locally on the embedded store
// and answers compliance questions: replay events (`run`), invoke one
// function (`invoke`), decide residency and transfers (`decide`), pull the
// report (`report`), verify the ledger (`verify`), sweep retention (`sweep`)
// and validate a policy (`policy validate`). See `residency help`.
package main
