// Package digest signs and checks the ledger's digests, after CloudTrail's
// log file integrity validation: per region, a digest names the chain's
// head (seq and hash) and the signature of the region's previous digest,
// and is signed (ed25519 locally; an ECC_NIST_P256 KMS key, ECDSA_SHA_256,
// on AWS). Digests are written beside the embedded store locally and to an
// S3 bucket with Object Lock in compliance mode on AWS.
//
// A verification that checks the digests catches what the hash chain alone
// cannot: the newest entries dropped (a truncated tail), or the whole chain
// rewritten after a point. The writer refuses to sign a chain that does not
// extend its last digest.
//
// The signature covers the digest's signing input: the line
// "residency-digest-v1\n", then version, region, from_seq, to_seq,
// head_hash, prev_digest_signature, time (RFC 3339, UTC, nanoseconds
// without trailing zeros), signing_algorithm and key_id, each as a 4-byte
// big-endian length and its UTF-8 bytes. A version 2 digest starts with
// "residency-digest-v2\n" instead and adds tree_size, root_hash (base64)
// and checkpoint last: the chain's Merkle tree head, and the same head as a
// C2SP tlog-checkpoint signed note (see checkpoint.go), so proofs of single
// entries (Prover, CheckProof) check against a signed root. ECDSA signatures are ASN.1 DER
// over the SHA-256 of that input; all signatures are base64 in the JSON.
package digest
