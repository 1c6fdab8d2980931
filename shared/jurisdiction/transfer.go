package jurisdiction

import "sort"

// Party roles in a transfer, as GDPR Art. 4(7) and 4(8) define them.
const (
	Controller = "controller"
	Processor  = "processor"
)

// sccModules are the four modules of the Standard Contractual Clauses for
// transfers to third countries, by the roles of exporter and importer.
//
// Source: Commission Implementing Decision (EU) 2021/914 of 4 June 2021,
// OJ L 199, 7.6.2021, p. 31, Annex, Section I, Clause 1 and the module headings.
var sccModules = [...]struct{ exporter, importer, name string }{
	1: {Controller, Controller, "controller to controller"},
	2: {Controller, Processor, "controller to processor"},
	3: {Processor, Processor, "processor to processor"},
	4: {Processor, Controller, "processor to controller"},
}

// SCCModuleName returns the name of SCC module 1-4 ("controller to
// processor" for 2), or "" for any other number.
func SCCModuleName(module int) string {
	if module < 1 || module > 4 {
		return ""
	}
	return sccModules[module].name
}

// SCCModule returns the SCC module that fits an exporter and an importer role
// ([Controller] or [Processor]), or 0 if a role is neither.
func SCCModule(exporterRole, importerRole string) int {
	for m := 1; m <= 4; m++ {
		if sccModules[m].exporter == exporterRole && sccModules[m].importer == importerRole {
			return m
		}
	}
	return 0
}

// derogations are the derogations for specific situations of GDPR Art. 49(1)
// first subparagraph, by the name a transfer request flags them with. The
// compelling-legitimate-interests derogation of the second subparagraph is
// left out: it needs a notice to the supervisory authority, not a flag.
//
// Source: Regulation (EU) 2016/679, Article 49(1), OJ L 119, 4.5.2016, p. 1;
// EDPB Guidelines 2/2018 on derogations of Article 49.
var derogations = map[string]string{
	"explicit_consent":     "GDPR Art. 49(1)(a) explicit consent",
	"contract":             "GDPR Art. 49(1)(b) contract with the data subject",
	"contract_in_interest": "GDPR Art. 49(1)(c) contract in the interest of the data subject",
	"public_interest":      "GDPR Art. 49(1)(d) important reasons of public interest",
	"legal_claims":         "GDPR Art. 49(1)(e) legal claims",
	"vital_interests":      "GDPR Art. 49(1)(f) vital interests",
	"public_register":      "GDPR Art. 49(1)(g) public register",
}

// Derogation returns the legal reference of a GDPR Art. 49(1) derogation by
// name ("explicit_consent" -> "GDPR Art. 49(1)(a) explicit consent").
func Derogation(name string) (string, bool) {
	ref, ok := derogations[name]
	return ref, ok
}

// Derogations returns the names [Derogation] accepts, sorted.
func Derogations() []string {
	names := make([]string, 0, len(derogations))
	for n := range derogations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
