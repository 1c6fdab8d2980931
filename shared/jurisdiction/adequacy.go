package jurisdiction

import (
	"cmp"
	"slices"
	"time"
)

// Framework is a certification framework an adequacy finding is limited to:
// it covers only importers certified under it.
type Framework string

// The data privacy frameworks with the United States.
const (
	// FrameworkDPF is the EU-U.S. Data Privacy Framework (Commission
	// Implementing Decision (EU) 2023/1795).
	FrameworkDPF Framework = "EU-U.S. Data Privacy Framework"
	// FrameworkUKExtension is the UK Extension to the EU-U.S. DPF (The Data
	// Protection (Adequacy) (United States of America) Regulations 2023).
	FrameworkUKExtension Framework = "UK Extension to the EU-U.S. Data Privacy Framework"
	// FrameworkSwissUS is the Swiss-U.S. Data Privacy Framework (DPO Annex 1
	// as amended by the Federal Council on 14 August 2024).
	FrameworkSwissUS Framework = "Swiss-U.S. Data Privacy Framework"
)

// Adequacy scopes: partial decisions cover only the importers a policy
// declares in their scope (policy importers[].adequacy_scope).
const (
	// ScopePIPEDA: Canada, organisations subject to the Personal
	// Information Protection and Electronic Documents Act (not those under
	// provincial laws only, nor federal public bodies).
	ScopePIPEDA = "PIPEDA"
	// ScopeAPPI: Japan, personal information handling business operators
	// under the Act on the Protection of Personal Information, bound by the
	// Supplementary Rules for data from the EU (and the UK).
	ScopeAPPI = "APPI"
	// ScopeAutomated: Israel, automated international transfers, or
	// non-automated ones subject to further automated processing in Israel.
	ScopeAutomated = "automated"
	// ScopePIPA: Republic of Korea, controllers under the Personal
	// Information Protection Act, except religious organisations (missionary
	// activities), political parties (nominating candidates), and personal
	// credit information processed under the Credit Information Act by
	// controllers the Financial Services Commission oversees.
	ScopePIPA = "PIPA"
)

// Scopes lists the adequacy scopes a policy may declare, by country.
var Scopes = map[string]string{"CA": ScopePIPEDA, "JP": ScopeAPPI, "IL": ScopeAutomated, "KR": ScopePIPA}

// Adequacy is an adequacy finding of a regime for a third country: an EU
// adequacy decision under GDPR Art. 45 (or Directive 95/46/EC Art. 25(6),
// kept in force by GDPR Art. 45(9)), the UK's adequacy regulations (DPA 2018
// s.17A and Schedule 21), or a listing in Annex 1 of the Swiss Data Protection
// Ordinance (FADP Art. 16(1)).
type Adequacy struct {
	// Regime is the law the finding is made under.
	Regime Regime
	// Country is the ISO 3166-1 alpha-2 code.
	Country string
	// Name is the country's or territory's English short name; "" for the
	// EEA states of the UK and Swiss lists.
	Name string
	// Decision cites the instrument, e.g. "Commission Implementing Decision
	// (EU) 2019/419 of 23 January 2019".
	Decision string
	// From is the first day (UTC) the finding applies.
	From time.Time
	// Until is the day (UTC) it expires: it applies up to the start of that
	// day. Zero when it has no end date.
	Until time.Time
	// Scope, when set, limits the finding to importers a policy declares in
	// that scope ([ScopePIPEDA], ...); "" for a general finding.
	Scope string
	// ScopeText says what the finding covers, for reasons; "" if general.
	ScopeText string
	// Framework, when set, limits the finding to importers certified under
	// it (the United States).
	Framework Framework
}

// InForce reports whether the finding applies at t.
func (a Adequacy) InForce(t time.Time) bool {
	return !t.Before(a.From) && (a.Until.IsZero() || t.Before(a.Until))
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("jurisdiction: bad date " + s)
	}
	return t
}

// amended2016 is the amendment of the adequacy decisions adopted under
// Directive 95/46/EC, after Schrems I (Case C-362/14): it replaced their
// provisions limiting the powers of supervisory authorities.
const amended2016 = ", as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016"

// euAdequacy are the EU adequacy decisions for countries and territories
// (the decision for the European Patent Organisation, Decision (EU)
// 2025/1382, an international organisation, is left out). A decision applies
// from its adoption (it takes effect on notification to the Member States, the
// same day or days later), except where noted.
//
// Sources: European Commission, "Adequacy decisions",
// https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en;
// each decision in the Official Journal (EUR-Lex), e.g.
// https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32002D0002 (Canada,
// PIPEDA recipients only), CELEX:32012D0484 (Uruguay), eli/dec_impl/2022/254/oj
// (Korea, with its three exclusions), eli/dec_impl/2016/2295/oj (the 2016
// amendment of the eleven older decisions).
//
// United Kingdom: Decision (EU) 2021/1772 was to expire on 27 June 2025 (its
// Art. 4); Implementing Decision (EU) 2025/1226 of 24 June 2025 extended it to
// 27 December 2025; Implementing Decision (EU) 2025/2574 of 19 December 2025
// (OJ L, 23.12.2025) renewed it until 27 December 2031 (Commission press
// release of 19 December 2025). The two numbers are those of the ELI links
// eur-lex.europa.eu/eli/dec_impl/2025/1226/oj and .../2025/2574/oj; their
// law-enforcement twins, 2025/1225 and 2025/2571, were checked in the OJ.
//
// Brazil: Commission Implementing Decision (EU) 2026/179 of 26 January 2026,
// C(2026) 373, published in the OJ on 28 January 2026. Its entry-into-force
// article could not be read from the sources at hand, so Residency counts it
// from the publication, the later candidate date, so as never to allow a
// transfer before the decision applied.
//
// United States: Decision (EU) 2023/1795 of 10 July 2023, C(2023) 4745, for
// organisations on the Data Privacy Framework List only (its Art. 1).
var euAdequacy = []Adequacy{
	{Country: "CH", Name: "Switzerland", Decision: "Commission Decision 2000/518/EC of 26 July 2000" + amended2016, From: day("2000-07-26")},
	{Country: "CA", Name: "Canada", Decision: "Commission Decision 2002/2/EC of 20 December 2001" + amended2016, From: day("2001-12-20"),
		Scope: ScopePIPEDA, ScopeText: "organisations subject to PIPEDA (not those under provincial laws only)"},
	{Country: "AR", Name: "Argentina", Decision: "Commission Decision 2003/490/EC of 30 June 2003" + amended2016, From: day("2003-06-30")},
	{Country: "GG", Name: "Guernsey", Decision: "Commission Decision 2003/821/EC of 21 November 2003" + amended2016, From: day("2003-11-21")},
	{Country: "IM", Name: "Isle of Man", Decision: "Commission Decision 2004/411/EC of 28 April 2004" + amended2016, From: day("2004-04-28")},
	{Country: "JE", Name: "Jersey", Decision: "Commission Decision 2008/393/EC of 8 May 2008" + amended2016, From: day("2008-05-08")},
	{Country: "FO", Name: "Faroe Islands", Decision: "Commission Decision 2010/146/EU of 5 March 2010" + amended2016, From: day("2010-03-05")},
	{Country: "AD", Name: "Andorra", Decision: "Commission Decision 2010/625/EU of 19 October 2010" + amended2016, From: day("2010-10-19")},
	{Country: "IL", Name: "Israel", Decision: "Commission Decision 2011/61/EU of 31 January 2011" + amended2016, From: day("2011-01-31"),
		Scope: ScopeAutomated, ScopeText: "automated international transfers, and non-automated ones subject to further automated processing in Israel"},
	{Country: "UY", Name: "Uruguay", Decision: "Commission Implementing Decision 2012/484/EU of 21 August 2012" + amended2016, From: day("2012-08-21")},
	{Country: "NZ", Name: "New Zealand", Decision: "Commission Implementing Decision 2013/65/EU of 19 December 2012" + amended2016, From: day("2012-12-19")},
	{Country: "JP", Name: "Japan", Decision: "Commission Implementing Decision (EU) 2019/419 of 23 January 2019", From: day("2019-01-23"),
		Scope: ScopeAPPI, ScopeText: "personal information handling business operators under the APPI, with the Supplementary Rules"},
	{Country: "KR", Name: "Republic of Korea", Decision: "Commission Implementing Decision (EU) 2022/254 of 17 December 2021", From: day("2021-12-17"),
		Scope: ScopePIPA, ScopeText: "controllers under the PIPA, except religious organisations' missionary activities, political parties' nominations, and credit information under the Credit Information Act processed by controllers the Financial Services Commission oversees"},
	{Country: "GB", Name: "United Kingdom", Decision: "Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as extended by Commission Implementing Decision (EU) 2025/1226", From: day("2021-06-28"), Until: day("2025-12-27")},
	{Country: "GB", Name: "United Kingdom", Decision: "Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as renewed by Commission Implementing Decision (EU) 2025/2574 of 19 December 2025", From: day("2025-12-19"), Until: day("2031-12-27")},
	{Country: "US", Name: "United States", Decision: "Commission Implementing Decision (EU) 2023/1795 of 10 July 2023", From: day("2023-07-10"), Framework: FrameworkDPF},
	{Country: "BR", Name: "Brazil", Decision: "Commission Implementing Decision (EU) 2026/179 of 26 January 2026", From: day("2026-01-28")},
}

// ukAdequacy are the countries the UK GDPR treats as adequate besides the
// EEA and Gibraltar (see [adequacyRows]): the EU adequacy decisions in force
// at the end of the transition period, preserved by DPA 2018 Schedule 21, and
// the regulations the Secretary of State made since under DPA 2018 s.17A.
// Since 5 February 2026 the Data (Use and Access) Act 2025, s.85 (SI 2026/82),
// calls them transfers "approved by regulations" (UK GDPR Art. 45A); the list
// stands.
//
// Sources: Data Protection Act 2018, Schedule 21 (as inserted by SI
// 2019/419); ICO, "International transfers",
// https://ico.org.uk/for-organisations/uk-gdpr-guidance-and-resources/international-transfers/;
// The Data Protection (Adequacy) (Republic of Korea) Regulations 2022 (SI
// 2022/1213), in force 19 December 2022,
// https://legislation.gov.uk/uksi/2022/1213; The Data Protection (Adequacy)
// (United States of America) Regulations 2023 (SI 2023/1028), in force 12
// October 2023, for UK Extension participants only,
// https://legislation.gov.uk/uksi/2023/1028.
var ukAdequacy = func() []Adequacy {
	const preserved = "DPA 2018 Schedule 21 (preserved EU adequacy decision: "
	var out []Adequacy
	for _, a := range euAdequacy {
		switch a.Country {
		case "GB", "US", "KR", "BR":
			continue // not preserved: the UK itself, and later decisions
		}
		a.Decision = preserved + a.Decision + ")"
		a.From, a.Until = ukExit, time.Time{}
		out = append(out, a)
	}
	return append(out,
		Adequacy{Country: "KR", Name: "Republic of Korea", Decision: "The Data Protection (Adequacy) (Republic of Korea) Regulations 2022 (SI 2022/1213)",
			From: day("2022-12-19"), Scope: ScopePIPA, ScopeText: "controllers under the PIPA, except the processing the Regulations exclude (credit information under the Credit Information Act by controllers the Financial Services Commission oversees, religious and political activities)"},
		Adequacy{Country: "US", Name: "United States", Decision: "The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028)",
			From: day("2023-10-12"), Framework: FrameworkUKExtension},
	)
}()

// ukExit is when the UK GDPR took effect: the end of the transition period
// (IP completion day, 31 December 2020 at 23:00 GMT).
var ukExit = day("2021-01-01")

// swissAdequacy are the states Annex 1 of the Swiss Data Protection
// Ordinance lists as providing adequate protection, besides the 30 EEA states
// (see [adequacyRows]): 43 entries in all on 1 September 2023, and the United
// States since 15 September 2024. Canada's entry covers PIPEDA and the
// provincial laws that largely correspond to it, so it is general here, unlike
// the EU's decision. Japan, Korea and Brazil are not listed.
//
// Sources: Data Protection Ordinance of 31 August 2022 (DPO, SR 235.11),
// Art. 8 and Annex 1, https://www.fedlex.admin.ch/eli/cc/2022/568/en#annex_1;
// Federal Office of Justice, "Anerkennung von Staaten",
// https://www.bj.admin.ch/bj/en/home/staat/datenschutz/internationales/anerkennung-staaten.html;
// Federal Council decision of 14 August 2024 adding the United States for
// organisations certified under the Swiss-U.S. DPF, in force 15 September 2024.
var swissAdequacy = []Adequacy{
	{Country: "AD", Name: "Andorra"},
	{Country: "AR", Name: "Argentina"},
	{Country: "CA", Name: "Canada"},
	{Country: "FO", Name: "Faroe Islands"},
	{Country: "GB", Name: "United Kingdom"},
	{Country: "GG", Name: "Guernsey"},
	{Country: "GI", Name: "Gibraltar"},
	{Country: "IL", Name: "Israel"},
	{Country: "IM", Name: "Isle of Man"},
	{Country: "JE", Name: "Jersey"},
	{Country: "MC", Name: "Monaco"},
	{Country: "NZ", Name: "New Zealand"},
	{Country: "UY", Name: "Uruguay"},
	{Country: "US", Name: "United States", Decision: "Data Protection Ordinance, Annex 1, as amended on 14 August 2024 (United States: organisations certified under the Swiss-U.S. DPF)",
		From: day("2024-09-15"), Framework: FrameworkSwissUS},
}

// swissStart is when the revised FADP and the DPO took effect.
var swissStart = day("2023-09-01")

const swissAnnex1 = "Data Protection Ordinance (SR 235.11), Annex 1"

func init() {
	for i := range euAdequacy {
		euAdequacy[i].Regime = RegimeEU
	}
	for i := range ukAdequacy {
		ukAdequacy[i].Regime = RegimeUK
	}
	for i := range swissAdequacy {
		a := &swissAdequacy[i]
		a.Regime = RegimeCH
		if a.Decision == "" {
			a.Decision, a.From = swissAnnex1, swissStart
		}
	}
}

// adequacyRows returns the findings of regime r for country cc, oldest first.
func adequacyRows(r Regime, cc string) []Adequacy {
	var table []Adequacy
	switch r {
	case RegimeEU:
		table = euAdequacy
	case RegimeUK:
		if IsEEA(cc) || cc == "GI" {
			// DPA 2018 Schedule 21: the EEA states (and the EU
			// institutions) and Gibraltar.
			return []Adequacy{{Regime: RegimeUK, Country: cc,
				Decision: "DPA 2018 Schedule 21 (EEA states and Gibraltar)", From: ukExit}}
		}
		table = ukAdequacy
	case RegimeCH:
		if IsEEA(cc) {
			return []Adequacy{{Regime: RegimeCH, Country: cc, Decision: swissAnnex1 + " (EEA states)", From: swissStart}}
		}
		table = swissAdequacy
	}
	var out []Adequacy
	for _, a := range table {
		if a.Country == cc {
			out = append(out, a)
		}
	}
	return out
}

// AdequacyAt returns the adequacy finding of regime r for country cc that
// applies at t; the newest when several do. The boolean is false when none
// applies at t (see [AdequacyHistory] for why) and for countries inside the
// regime's area, which need none.
func AdequacyAt(r Regime, cc string, t time.Time) (Adequacy, bool) {
	if r.Covers(cc) {
		return Adequacy{}, false
	}
	rows := adequacyRows(r, cc)
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].InForce(t) {
			return rows[i], true
		}
	}
	return Adequacy{}, false
}

// AdequacyHistory returns every finding of regime r for country cc, oldest
// first: what a decision cites when none applies (not yet, or expired).
func AdequacyHistory(r Regime, cc string) []Adequacy {
	if r.Covers(cc) {
		return nil
	}
	return adequacyRows(r, cc)
}

// Adequacies returns the findings of regime r for countries outside the EEA
// (the EEA states of the UK and Swiss lists are left out), sorted by country
// and date.
func Adequacies(r Regime) []Adequacy {
	var table []Adequacy
	switch r {
	case RegimeEU:
		table = euAdequacy
	case RegimeUK:
		table = ukAdequacy
	case RegimeCH:
		table = swissAdequacy
	}
	out := slices.Clone(table)
	slices.SortStableFunc(out, func(a, b Adequacy) int {
		return cmp.Or(cmp.Compare(a.Country, b.Country), a.From.Compare(b.From))
	})
	return out
}
