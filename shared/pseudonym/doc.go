// Package pseudonym turns personal identifiers into keyed HMAC-SHA256
// references, so subjects and personal record keys reach logs, the ledger and
// reports only as references. A reference can be recomputed from an
// identifier the caller already knows (to filter a report for one subject),
// never reversed.
package pseudonym
