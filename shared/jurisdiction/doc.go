// Package jurisdiction holds the legal and geographic facts Residency decides
// with, as code: which ISO 3166-1 alpha-2 codes are assigned, which countries
// are in the European Union and the European Economic Area, the regimes that
// restrict transfers (EU GDPR, UK GDPR, Swiss FADP) and the area each covers,
// each regime's adequacy findings with their instruments, dates and scope,
// the Standard Contractual Clauses modules and the UK and Swiss instruments,
// the derogations of each regime, and the country and partition of every
// commercial AWS region and of the AWS European Sovereign Cloud.
//
// Every table names its source in a comment next to it. The package is pure:
// it depends only on the standard library and golang.org/x/text/language, does
// no I/O, and all lookups are safe for concurrent use.
//
// Country codes are upper-case ISO 3166-1 alpha-2 codes ("FR", "GB"). The
// checking functions are strict ([ValidCountry] rejects "fr" and "UK");
// [NormalizeCountry] is the lenient form for values read from records, and
// [CountryHint] explains what is wrong with a rejected code.
package jurisdiction
