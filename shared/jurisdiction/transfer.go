package jurisdiction

import (
	"sort"
	"strconv"
)

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

// derogations are the derogations for specific situations, by the name a
// transfer request flags them with, and their article under each regime. The
// EU and UK GDPR's compelling-legitimate-interests derogation (Art. 49(1)
// second subparagraph) is left out: it needs a notice to the supervisory
// authority, not a flag.
//
// Sources: Regulation (EU) 2016/679, Article 49(1), OJ L 119, 4.5.2016, p. 1;
// EDPB Guidelines 2/2018 on derogations of Article 49; UK GDPR Article 49(1)
// (same letters); Federal Act on Data Protection of 25 September 2020 (SR
// 235.1), Article 17(1): (a) express consent, (b) contract (1) with the data
// subject, (2) in its interest, (c) necessary for (1) an overriding public
// interest, (2) legal claims, (d) life or physical integrity, (e) data the
// subject made generally accessible, (f) a register provided for by law.
var derogations = map[string]struct{ text, gdpr, fadp string }{
	"explicit_consent":     {"explicit consent", "49(1)(a)", "17(1)(a)"},
	"contract":             {"contract with the data subject", "49(1)(b)", "17(1)(b)(1)"},
	"contract_in_interest": {"contract in the interest of the data subject", "49(1)(c)", "17(1)(b)(2)"},
	"public_interest":      {"important reasons of public interest", "49(1)(d)", "17(1)(c)(1)"},
	"legal_claims":         {"legal claims", "49(1)(e)", "17(1)(c)(2)"},
	"vital_interests":      {"vital interests", "49(1)(f)", "17(1)(d)"},
	"public_register":      {"public register", "49(1)(g)", "17(1)(f)"},
}

// Derogation returns the legal reference of a derogation under regime r by
// name: "explicit_consent" -> "GDPR Art. 49(1)(a) explicit consent" (EU),
// "UK GDPR Art. 49(1)(a) explicit consent" (UK), "FADP Art. 17(1)(a)
// explicit consent" (Swiss).
func Derogation(r Regime, name string) (string, bool) {
	d, ok := derogations[name]
	if !ok || !r.Valid() {
		return "", false
	}
	art := d.gdpr
	if r == RegimeCH {
		art = d.fadp
	}
	return r.Law() + " Art. " + art + " " + d.text, true
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

// SCCDecision is the instrument of the EU Standard Contractual Clauses.
const SCCDecision = "Commission Implementing Decision (EU) 2021/914"

// SCCInstrument cites SCC module 1-4 as its instrument:
// "Commission Implementing Decision (EU) 2021/914, Module 2 (controller to
// processor)".
func SCCInstrument(module int) string {
	return SCCDecision + ", Module " + strconv.Itoa(module) + " (" + SCCModuleName(module) + ")"
}

// Instruments of the UK and Swiss regimes for standard clauses.
//
// Sources: ICO, International Data Transfer Agreement and International Data
// Transfer Addendum to the European Commission's standard contractual clauses,
// issued under DPA 2018 s.119A, laid before Parliament on 2 February 2022, in
// force 21 March 2022; FDPIC, recognition of the EU SCCs of 4 June 2021 as
// standard data protection clauses under FADP Art. 16(2)(d), 27 August 2021,
// with the adaptations the FDPIC lists (FADP as the law for transfers
// subject to it, the FDPIC as supervisory authority).
const (
	UKIDTA     = "ICO International Data Transfer Agreement (DPA 2018 s.119A, in force 21 March 2022)"
	UKAddendum = "ICO International Data Transfer Addendum to the EU SCCs (DPA 2018 s.119A, in force 21 March 2022)"
	SwissSCC   = "FADP Art. 16(2)(d): the EU SCCs as recognised by the FDPIC on 27 August 2021, with the Swiss adaptations"
)
