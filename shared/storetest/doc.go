// Package storetest is the store contract suite: one set of tests that every
// store adapter (the embedded SQLite store, DynamoDB) must pass, so the
// functions behave the same on a laptop and on AWS; and RewritePast, the
// rewrite of a store's ledger that its verification must catch.
package storetest
