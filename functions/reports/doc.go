// Package reports is the reports function, behind an HTTP API with AWS_IAM
// auth:
//
//   - GET /v1/report: the compliance report as JSON, CSV, HTML or a text
//     table, filtered by from, to, kind, region, destination, mechanism and
//     subject (hashed here, never stored). Responses are pages (a Lambda
//     response holds at most 6 MB): limit entries (default 1000, at most
//     10000, and fewer when the page would pass 4 MiB), then next_cursor (JSON
//     body; CSV and the others in the X-Next-Cursor and Link headers) to pass
//     as cursor with the same filters. The first page carries the ledger's
//     verification and the summary of the whole range; the pages after it
//     only entries. The HTML page always carries both.
//   - GET /v1/verify: the ledger's verification.
//   - GET /v1/proof: an inclusion or consistency proof (proof.go).
//   - POST /v1/certificate?request=ID: the erasure certificate of a complete
//     request, stored once in the certificate store (on AWS the digest
//     bucket, under Object Lock) and returned (certificate.go).
//
// Client errors get a 4xx with a message; internal errors a 500 without
// internal detail.
package reports
