package jurisdiction

// Regime is a data-protection law that restricts transfers of personal data
// out of its area (GDPR Chapter V and its UK and Swiss counterparts). Its
// value is the name reports and decisions print.
type Regime string

// The regimes Residency decides transfers under.
const (
	// RegimeEU is the EU GDPR, Regulation (EU) 2016/679, Chapter V, which
	// applies in the EEA (EEA Joint Committee Decision No 154/2018).
	RegimeEU Regime = "EU GDPR"
	// RegimeUK is the UK GDPR (retained Regulation (EU) 2016/679 as amended
	// by the Data Protection, Privacy and Electronic Communications
	// (Amendments etc) (EU Exit) Regulations 2019) with the Data Protection
	// Act 2018, Part 2, Chapter 2, and Schedule 21.
	RegimeUK Regime = "UK GDPR"
	// RegimeCH is the Swiss Federal Act on Data Protection of 25 September
	// 2020 (FADP, SR 235.1), in force since 1 September 2023, Articles 16-17,
	// with the Data Protection Ordinance of 31 August 2022 (DPO, SR 235.11).
	RegimeCH Regime = "Swiss FADP"
)

// Regimes lists the supported regimes.
var Regimes = []Regime{RegimeEU, RegimeUK, RegimeCH}

// RegimeOf returns the regime an exporter established in country cc is
// subject to: the EU GDPR for the EEA (EU territories included, see [IsEEA]),
// the UK GDPR for GB, the Swiss FADP for CH. The boolean is false for every
// other country: Residency supports no other regime and never applies EU rules
// in its place.
func RegimeOf(cc string) (Regime, bool) {
	switch {
	case IsEEA(cc):
		return RegimeEU, true
	case cc == "GB":
		return RegimeUK, true
	case cc == "CH":
		return RegimeCH, true
	}
	return "", false
}

// Covers reports whether country cc is inside the regime's area, so that a
// disclosure to an importer there is not a restricted transfer: the EEA for
// the EU GDPR, the United Kingdom for the UK GDPR, Switzerland for the FADP.
func (r Regime) Covers(cc string) bool {
	switch r {
	case RegimeEU:
		return IsEEA(cc)
	case RegimeUK:
		return cc == "GB"
	case RegimeCH:
		return cc == "CH"
	}
	return false
}

// Area names the regime's area in a sentence: "the EEA", "the United
// Kingdom", "Switzerland".
func (r Regime) Area() string {
	switch r {
	case RegimeEU:
		return "the EEA"
	case RegimeUK:
		return "the United Kingdom"
	case RegimeCH:
		return "Switzerland"
	}
	return string(r)
}

// Law is how the regime's articles are cited: "GDPR Art. 49(1)(a)", "UK GDPR
// Art. 49(1)(a)", "FADP Art. 17(1)(a)".
func (r Regime) Law() string {
	switch r {
	case RegimeEU:
		return "GDPR"
	case RegimeUK:
		return "UK GDPR"
	case RegimeCH:
		return "FADP"
	}
	return string(r)
}

// Valid reports whether r is one of [Regimes].
func (r Regime) Valid() bool {
	return r == RegimeEU || r == RegimeUK || r == RegimeCH
}
