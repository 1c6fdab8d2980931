// Package catalog defines Residency's catalog: one entry per tagged record,
// kept in the record's region, keyed by source and record key, and indexed
// by retain-until (for the retention sweep), by pseudonymous subject
// reference (for erasure) and by contract (for contract-end retention).
package catalog
