// Package trigger tells which kind of AWS event a Lambda payload is, by its
// shape, so one function can serve several triggers and `residency run` can
// replay any sample file.
package trigger
