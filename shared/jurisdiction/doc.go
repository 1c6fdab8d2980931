// Package jurisdiction holds the legal and geographic facts Residency decides
// with, as code: which ISO 3166-1 alpha-2 codes are assigned, which countries
// are in the European Union and the European Economic Area, which third
// countries have an EU adequacy decision (and under which reference), the
// Standard Contractual Clauses modules, the GDPR Art. 49 derogations, and the
// country of every commercial AWS region.
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
