// Package policy loads, validates and applies Residency's policy file: the
// YAML document of DESIGN Appendix A that names the deployment's regions, the
// residency rules (which subjects' data lives where), the data categories and
// their retention, the watched sources, and the transfer mechanisms (SCC
// agreements, DPF certifications, BCRs).
//
// [Load] and [Parse] validate the whole file and report every problem at once
// as a [*ValidationError], one [FieldError] per problem, each naming the file,
// line and field:
//
//	residency.yaml:10: residency[1].home: unknown region "eu-centrl-1" (did you mean eu-central-1?)
//
// Unknown keys are errors, so a typo never silently disables a rule.
//
// A parsed [Policy] is read-only and safe for concurrent use. Its decisions
// are pure functions of the policy and their inputs, with the clock injected:
// [Policy.Residency] says where a subject's record must live (allocation-free,
// from lookups precompiled by Parse), [Policy.Transfer] whether a transfer to
// a third country rests on a legal mechanism (GDPR Art. 44-49), and
// [Policy.RetainUntil] until when a record may be kept. Input errors are
// kinded: [ErrUnknownCategory], [ErrUnknownCountry], [ErrUnknownSubject],
// [ErrBadRequest].
//
// The package imports neither the AWS SDK nor aws-lambda-go; the legal facts
// it relies on live in package jurisdiction.
package policy
