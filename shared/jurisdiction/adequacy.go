package jurisdiction

import "sort"

// Adequacy is an EU adequacy decision under GDPR Art. 45 (or Directive
// 95/46/EC Art. 25(6), kept in force by GDPR Art. 45(9)) for a third country.
type Adequacy struct {
	// Country is the ISO 3166-1 alpha-2 code.
	Country string
	// Name is the country's or territory's English short name.
	Name string
	// Decision is the decision's reference, e.g.
	// "Commission Implementing Decision (EU) 2019/419".
	Decision string
	// Scope limits the decision to part of the country's recipients, e.g.
	// "commercial organisations (PIPEDA)" for Canada; "" if it is general.
	Scope string
	// DPFOnly is true when the decision covers only importers certified
	// under a framework (the United States: the EU-US Data Privacy
	// Framework), so a transfer needs the importer's active certification.
	DPFOnly bool
}

// adequacies are the EU adequacy decisions in force for countries and
// territories (the decision for the European Patent Organisation, an
// international organisation, is left out).
//
// Source: European Commission, "Adequacy decisions",
// https://commission.europa.eu/law/law-topic/data-protection/international-dimension-data-protection/adequacy-decisions_en,
// and each decision in the Official Journal (EUR-Lex). The United Kingdom's
// Decision (EU) 2021/1772 was renewed on 19 December 2025 until
// 27 December 2031; the number of the renewing decision could not be confirmed
// from the sources at hand, so it is named only as renewed. Brazil: Commission
// Implementing Decision (EU) 2026/179 of 26 January 2026 (OJ of 28.1.2026).
var adequacies = []Adequacy{
	{Country: "AD", Name: "Andorra", Decision: "Commission Decision 2010/625/EU"},
	{Country: "AR", Name: "Argentina", Decision: "Commission Decision 2003/490/EC"},
	{Country: "BR", Name: "Brazil", Decision: "Commission Implementing Decision (EU) 2026/179"},
	{Country: "CA", Name: "Canada", Decision: "Commission Decision 2002/2/EC", Scope: "commercial organisations (PIPEDA)"},
	{Country: "CH", Name: "Switzerland", Decision: "Commission Decision 2000/518/EC"},
	{Country: "FO", Name: "Faroe Islands", Decision: "Commission Decision 2010/146/EU"},
	{Country: "GB", Name: "United Kingdom", Decision: "Commission Implementing Decision (EU) 2021/1772, renewed December 2025"},
	{Country: "GG", Name: "Guernsey", Decision: "Commission Decision 2003/821/EC"},
	{Country: "IL", Name: "Israel", Decision: "Commission Decision 2011/61/EU"},
	{Country: "IM", Name: "Isle of Man", Decision: "Commission Decision 2004/411/EC"},
	{Country: "JE", Name: "Jersey", Decision: "Commission Decision 2008/393/EC"},
	{Country: "JP", Name: "Japan", Decision: "Commission Implementing Decision (EU) 2019/419", Scope: "private-sector business operators (APPI, with the Supplementary Rules)"},
	{Country: "KR", Name: "Republic of Korea", Decision: "Commission Implementing Decision (EU) 2022/254"},
	{Country: "NZ", Name: "New Zealand", Decision: "Commission Implementing Decision 2013/65/EU"},
	{Country: "US", Name: "United States", Decision: "Commission Implementing Decision (EU) 2023/1795", Scope: "organisations certified under the EU-US Data Privacy Framework", DPFOnly: true},
	{Country: "UY", Name: "Uruguay", Decision: "Commission Implementing Decision 2012/484/EU"},
}

var adequacyByCountry = func() map[string]Adequacy {
	m := make(map[string]Adequacy, len(adequacies))
	for _, a := range adequacies {
		m[a.Country] = a
	}
	return m
}()

// AdequacyFor returns the EU adequacy decision for a third country. The
// boolean is false when there is none (and for EEA countries, which need
// none). For the United States the result has DPFOnly set: it covers only
// importers with an active EU-US Data Privacy Framework certification.
func AdequacyFor(cc string) (Adequacy, bool) {
	a, ok := adequacyByCountry[cc]
	return a, ok
}

// Adequacies returns every adequacy decision, sorted by country code.
func Adequacies() []Adequacy {
	out := append([]Adequacy(nil), adequacies...)
	sort.Slice(out, func(i, j int) bool { return out[i].Country < out[j].Country })
	return out
}
