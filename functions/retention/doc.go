// Package retention is the retention function. On its schedule it sweeps
// the catalog's due index (never a table scan) for records past their
// retain-until, skips those under legal hold, emits `Retention Expired`,
// deletes each record (only if it has not changed since it was found due),
// writes a deletion receipt to the ledger and emits `Record Deleted`. It also
// keeps legal holds and contract ends, and carries out erasure requests
// (GDPR Art. 17) through the catalog's subject index.
//
// A sweep stops cleanly before the Lambda deadline; the next one continues,
// since what was deleted has left the due index. Every step is idempotent.
package retention
