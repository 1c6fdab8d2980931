package jurisdiction

// euMembers are the 27 member states of the European Union, by ISO 3166-1
// alpha-2 code (Greece is GR here; the EU's own protocol order writes EL).
//
// Source: European Union, "EU countries",
// https://european-union.europa.eu/principles-countries-history/eu-countries_en
// (27 members since the United Kingdom's withdrawal on 31 January 2020).
var euMembers = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

// eftaEEA are the EFTA states party to the Agreement on the European Economic
// Area; with the EU 27 they form the EEA (Switzerland is not a party).
//
// Source: Agreement on the European Economic Area, OJ L 1, 3.1.1994, p. 3;
// EFTA, "EEA Agreement", https://www.efta.int/eea. The GDPR applies in the
// EEA through EEA Joint Committee Decision No 154/2018 of 6 July 2018.
var eftaEEA = []string{"IS", "LI", "NO"}

// euTerritories are parts of EU member states that have their own ISO 3166-1
// code but where EU law, and so the GDPR, applies: the outermost regions
// (TFEU Art. 349 and 355(1)) and the Åland Islands (TFEU Art. 355(4)).
// Azores, Madeira and the Canary Islands share their state's code (PT, ES).
// Overseas countries and territories (TFEU Art. 355(2), Annex II: e.g. AW, BL,
// CW, GL, NC, PF, PM, SX, TF, WF), the Faroe Islands (Art. 355(5)(a)) and
// Svalbard and Jan Mayen (EEA Agreement, Protocol 40) are outside.
//
// Source: Treaty on the Functioning of the European Union, Articles 349 and
// 355 (consolidated version, OJ C 202, 7.6.2016); Mayotte became an outermost
// region on 1 January 2014 (European Council Decision 2012/419/EU).
var euTerritories = map[string]string{
	"AX": "FI", // Åland Islands
	"GF": "FR", // French Guiana
	"GP": "FR", // Guadeloupe
	"MF": "FR", // Saint-Martin
	"MQ": "FR", // Martinique
	"RE": "FR", // Réunion
	"YT": "FR", // Mayotte
}

var euSet, eeaSet [letters * letters]bool

func init() {
	for _, cc := range euMembers {
		euSet[index(cc)] = true
		eeaSet[index(cc)] = true
	}
	for _, cc := range eftaEEA {
		eeaSet[index(cc)] = true
	}
	for cc := range euTerritories {
		euSet[index(cc)] = true
		eeaSet[index(cc)] = true
	}
}

// IsEU reports whether cc is one of the 27 EU member states, or a territory
// with its own ISO code that is part of one of them and where EU law applies
// (see [MemberState]: "RE" (Réunion) is in the EU; "NC" (New Caledonia) is
// not). cc must be canonical (upper case).
func IsEU(cc string) bool {
	return ValidCountry(cc) && euSet[index(cc)]
}

// IsEEA reports whether cc is in the European Economic Area: the EU (as
// [IsEU]) plus Iceland, Liechtenstein and Norway. cc must be canonical.
func IsEEA(cc string) bool {
	return ValidCountry(cc) && eeaSet[index(cc)]
}

// MemberState returns the EU member state a territory with its own ISO code
// belongs to ("RE" -> "FR", "AX" -> "FI"); for a member state it returns cc
// itself. The boolean is false for countries outside the EU.
func MemberState(cc string) (string, bool) {
	if s, ok := euTerritories[cc]; ok {
		return s, true
	}
	if IsEU(cc) {
		return cc, true
	}
	return "", false
}

// EU returns the 27 EU member states, sorted; a fresh copy each call.
func EU() []string {
	return sortedCopy(euMembers)
}

// EEA returns the 30 EEA states (EU 27 + IS, LI, NO), sorted; a fresh copy
// each call. Territories that [IsEEA] also accepts are not listed.
func EEA() []string {
	return sortedCopy(append(append([]string(nil), euMembers...), eftaEEA...))
}
