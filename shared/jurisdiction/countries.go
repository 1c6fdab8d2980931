package jurisdiction

import (
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// notAssigned lists the codes that golang.org/x/text/language accepts as
// countries (from CLDR) but that are not assigned ISO 3166-1 alpha-2 codes:
// exceptionally reserved codes (AC, CP, DG, EA, EU, EZ, IC, TA, UN, UK),
// transitionally reserved codes of countries that no longer exist (AN, CS, SU,
// YU, NT, ...), and user-assigned codes (XK, used for Kosovo).
// Codes that x/text canonicalizes to another code (UK -> GB, BU -> MM, ...) are
// rejected separately, by comparing with the canonical form.
//
// Source: ISO 3166 Maintenance Agency, "Reserved code elements",
// https://www.iso.org/iso-3166-country-codes.html (ISO 3166-1:2020, clause 7).
var notAssigned = map[string]bool{
	"AC": true, "AN": true, "CP": true, "CQ": true, "CS": true, "DG": true,
	"EA": true, "EU": true, "EZ": true, "FQ": true, "IC": true, "NT": true,
	"PC": true, "SU": true, "TA": true, "UN": true, "XK": true, "YU": true,
}

// countryHints are hints for codes people commonly write instead of an
// assigned one. Codes that x/text canonicalizes (UK -> GB, TP -> TL, ...) get
// their hint from the canonical form and need no entry here.
var countryHints = map[string]string{
	"EL":  "did you mean GR? (EL is the EU's abbreviation for Greece)",
	"EU":  "EU is a group of countries, not a country code",
	"EEA": "EEA is a group of countries, not a country code",
	"AN":  "AN (Netherlands Antilles) is no longer assigned: use BQ, CW or SX",
	"CS":  "CS (Serbia and Montenegro) is no longer assigned: use RS or ME",
	"YU":  "YU (Yugoslavia) is no longer assigned: use RS, ME, BA, HR, MK or SI",
	"SU":  "SU (Soviet Union) is no longer assigned: use the code of the successor state",
	"XK":  "XK (Kosovo) is a user-assigned code, not an ISO 3166-1 code",
}

const letters = 26

// country tables, indexed by index(cc); built once from x/text at init.
var (
	countryValid [letters * letters]bool
	countryCode  [letters * letters]string
	countryList  []string
)

func init() {
	for a := byte('A'); a <= 'Z'; a++ {
		for b := byte('A'); b <= 'Z'; b++ {
			cc := string([]byte{a, b})
			if !assigned(cc) {
				continue
			}
			i := int(a-'A')*letters + int(b-'A')
			countryValid[i] = true
			countryCode[i] = cc
			countryList = append(countryList, cc)
		}
	}
}

// assigned reports whether cc (two upper-case letters) is an assigned ISO
// 3166-1 alpha-2 code, using x/text's CLDR region data.
func assigned(cc string) bool {
	if notAssigned[cc] {
		return false
	}
	r, err := language.ParseRegion(cc)
	if err != nil || r.String() != cc || !r.IsCountry() {
		return false
	}
	return r.Canonicalize() == r
}

// index returns the table index of a two-letter code, folding ASCII case, or
// -1 if s is not two ASCII letters.
func index(s string) int {
	if len(s) != 2 {
		return -1
	}
	a, b := upper(s[0]), upper(s[1])
	if a < 'A' || a > 'Z' || b < 'A' || b > 'Z' {
		return -1
	}
	return int(a-'A')*letters + int(b-'A')
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// ValidCountry reports whether cc is an assigned ISO 3166-1 alpha-2 code,
// written in canonical (upper) case: "FR" and "GB" are valid; "fr", "UK",
// "EU", "ZZ" and "QO" are not.
func ValidCountry(cc string) bool {
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return false
	}
	return countryValid[index(cc)]
}

// NormalizeCountry is the lenient form of [ValidCountry] for values read from
// records: it trims surrounding white space and folds ASCII case, and returns
// the canonical code ("fr " -> "FR"). It does not map replaced codes
// ("UK" stays invalid). It does not allocate.
func NormalizeCountry(cc string) (string, bool) {
	i := index(strings.TrimSpace(cc))
	if i < 0 || !countryValid[i] {
		return "", false
	}
	return countryCode[i], true
}

// Countries returns every assigned ISO 3166-1 alpha-2 code, sorted.
func Countries() []string {
	return append([]string(nil), countryList...)
}

// CountryHint returns a short help text for a code [ValidCountry] rejects:
// "UK" -> "did you mean GB?", "fr" -> "use upper case FR", "FRA" -> "use the
// alpha-2 code FR". It returns "" for valid codes and when it has nothing
// useful to say.
func CountryHint(cc string) string {
	if cc == "" || ValidCountry(cc) {
		return ""
	}
	t := strings.TrimSpace(cc)
	up := strings.ToUpper(t)
	if c, ok := NormalizeCountry(t); ok {
		if t != cc {
			return "use " + c + " without spaces"
		}
		return "use upper case " + c
	}
	if h, ok := countryHints[up]; ok {
		return h
	}
	r, err := language.ParseRegion(up)
	if err != nil {
		return ""
	}
	c := r.Canonicalize().String()
	if !ValidCountry(c) || c == up {
		return ""
	}
	if len(up) == 2 {
		return "did you mean " + c + "?"
	}
	if len(up) == 3 && isLetters(up) {
		return "use the alpha-2 code " + c
	}
	return ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
