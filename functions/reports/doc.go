// Package reports is the reports function, behind an HTTP API with AWS_IAM
// auth: GET /v1/report (the compliance report as JSON or CSV, filtered by
// from, to, kind, region, destination, mechanism and subject) and GET
// /v1/verify (the ledger's verification). Client errors get a 4xx with a
// message; internal errors a 500 without internal detail.
package reports
