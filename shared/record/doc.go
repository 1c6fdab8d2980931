// Package record holds the data shapes Residency reads and writes on the
// platform's records: plain JSON items and keys, the residency tag, and the
// timestamp forms the platform may use. It is pure: no AWS SDK, no Lambda.
package record
