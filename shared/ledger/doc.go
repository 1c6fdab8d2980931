// Package ledger defines the entries of Residency's transfer ledger and its
// hash chain: each region keeps one append-only chain of entries, numbered
// from 1 without gaps, each entry's Hash the SHA-256 of its canonical
// encoding including the previous entry's hash. Editing, deleting or
// reordering an entry breaks every hash after it; Verify names the first
// broken seq.
//
// The canonical encoding (version 1) is, for each field in this order:
// seq, id, time, kind, region, source, record, subject_ref, category,
// from_region, from_country, to_region, to_country, importer, mechanism,
// reference, decision, policy_version, actor, prev_hash, the field's value
// as UTF-8 bytes (seq in decimal, time as RFC 3339 with nanoseconds in UTC)
// preceded by its length as a 4-byte big-endian integer. The whole is
// preceded by the 20 bytes "residency-ledger-v1\n". An auditor can
// recompute it in a few lines of any language.
//
// Version 2 is the encoding of an entry that has exposed_ms (a relocation
// or quarantine whose write time was known): the 20 bytes
// "residency-ledger-v2\n", then the fields of version 1 with exposed_ms (in
// decimal) between actor and prev_hash. An entry without exposed_ms, every
// entry written before it existed among them, is encoded in version 1, byte
// for byte as before, so its hash is unchanged; the header says which
// version a hash covers.
//
// Entries carry no personal data: subjects and record keys appear only as
// keyed HMAC references (see package pseudonym). Entry ids too are derived
// from keyed references only ([ID] of the record's rec_ reference, regions,
// names and the platform's request ids), never from a raw key or subject
// id: without the HMAC key, nobody can compute the id a guessed key would
// have and look for it in a report. Ids of entries written before this rule
// (they hashed the raw key) stay as they are; their hashes still verify.
//
// Each chain is also an RFC 6962 Merkle tree (see tree.go): leaf seq-1 is
// the entry's hash, its 32 bytes; the stores keep tlog's stored hashes
// beside the entries, and [Tree] answers roots, inclusion and consistency
// proofs from them.
package ledger
