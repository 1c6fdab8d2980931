package jurisdiction

import (
	"slices"
	"testing"
	"time"
)

func TestValidCountry(t *testing.T) {
	cases := map[string]struct {
		cc   string
		want bool
	}{
		"France":                       {"FR", true},
		"United Kingdom":               {"GB", true},
		"United States":                {"US", true},
		"Antarctica":                   {"AQ", true},
		"Bonaire, Sint Eustatius":      {"BQ", true},
		"South Sudan":                  {"SS", true},
		"Reunion":                      {"RE", true},
		"Aland":                        {"AX", true},
		"lower case":                   {"fr", false},
		"mixed case":                   {"Fr", false},
		"UK is exceptionally reserved": {"UK", false},
		"EU is a group":                {"EU", false},
		"unknown region ZZ":            {"ZZ", false},
		"outlying Oceania QO":          {"QO", false},
		"user-assigned XK":             {"XK", false},
		"user-assigned AA":             {"AA", false},
		"Ascension AC reserved":        {"AC", false},
		"Canary Islands IC reserved":   {"IC", false},
		"Netherlands Antilles AN":      {"AN", false},
		"Yugoslavia YU":                {"YU", false},
		"Soviet Union SU":              {"SU", false},
		"Burma BU":                     {"BU", false},
		"East Timor TP":                {"TP", false},
		"Greece as EL":                 {"EL", false},
		"alpha-3":                      {"FRA", false},
		"numeric":                      {"250", false},
		"world":                        {"001", false},
		"empty":                        {"", false},
		"one letter":                   {"F", false},
		"space":                        {"FR ", false},
		"non-ASCII":                    {"ÉU", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ValidCountry(c.cc); got != c.want {
				t.Errorf("ValidCountry(%q): expect %v, got %v", c.cc, c.want, got)
			}
		})
	}
}

func TestCountries(t *testing.T) {
	all := Countries()
	// ISO 3166-1 has 249 assigned alpha-2 codes (since SS, 2011).
	if len(all) != 249 {
		t.Fatalf("expect 249 assigned codes, got %d", len(all))
	}
	if !slices.IsSorted(all) {
		t.Errorf("expect Countries sorted, got %v", all)
	}
	for _, cc := range all {
		if !ValidCountry(cc) {
			t.Errorf("expect %s valid", cc)
		}
	}
	all[0] = "XX"
	if Countries()[0] == "XX" {
		t.Error("expect Countries to return a copy")
	}
}

func TestNormalizeCountry(t *testing.T) {
	cases := map[string]struct {
		in, want string
		ok       bool
	}{
		"canonical":     {"FR", "FR", true},
		"lower":         {"fr", "FR", true},
		"spaces":        {" de\t", "DE", true},
		"replaced code": {"uk", "", false},
		"empty":         {"", "", false},
		"three letters": {"FRA", "", false},
		"digits":        {"12", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := NormalizeCountry(c.in)
			if got != c.want || ok != c.ok {
				t.Errorf("NormalizeCountry(%q): expect (%q, %v), got (%q, %v)", c.in, c.want, c.ok, got, ok)
			}
		})
	}
}

func TestCountryHint(t *testing.T) {
	cases := map[string]struct{ cc, want string }{
		"UK":          {"UK", "did you mean GB?"},
		"uk":          {"uk", "did you mean GB?"},
		"lower case":  {"fr", "use upper case FR"},
		"spaces":      {" FR", "use FR without spaces"},
		"EL":          {"EL", "did you mean GR? (EL is the EU's abbreviation for Greece)"},
		"Burma":       {"BU", "did you mean MM?"},
		"alpha-3":     {"DEU", "use the alpha-2 code DE"},
		"group EU":    {"EU", "EU is a group of countries, not a country code"},
		"antilles":    {"AN", "AN (Netherlands Antilles) is no longer assigned: use BQ, CW or SX"},
		"valid":       {"FR", ""},
		"empty":       {"", ""},
		"nonsense":    {"Q1", ""},
		"unknown ZZ":  {"ZZ", ""},
		"name":        {"France", ""},
		"numeric M49": {"250", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := CountryHint(c.cc); got != c.want {
				t.Errorf("CountryHint(%q): expect %q, got %q", c.cc, c.want, got)
			}
		})
	}
}

func TestEUAndEEA(t *testing.T) {
	eu := EU()
	if len(eu) != 27 {
		t.Fatalf("expect 27 EU member states, got %d: %v", len(eu), eu)
	}
	eea := EEA()
	if len(eea) != 30 {
		t.Fatalf("expect 30 EEA states, got %d: %v", len(eea), eea)
	}
	if !slices.IsSorted(eu) || !slices.IsSorted(eea) {
		t.Errorf("expect sorted lists, got %v and %v", eu, eea)
	}
	for _, cc := range eea {
		if !ValidCountry(cc) {
			t.Errorf("expect EEA member %s to be a valid code", cc)
		}
	}
	eu[0] = "XX"
	if EU()[0] == "XX" {
		t.Error("expect EU to return a copy")
	}

	cases := map[string]struct {
		cc       string
		eu, eea  bool
		memberOf string
	}{
		"Germany":              {"DE", true, true, "DE"},
		"Greece":               {"GR", true, true, "GR"},
		"Croatia (2013)":       {"HR", true, true, "HR"},
		"Norway":               {"NO", false, true, ""},
		"Iceland":              {"IS", false, true, ""},
		"Liechtenstein":        {"LI", false, true, ""},
		"Switzerland":          {"CH", false, false, ""},
		"United Kingdom":       {"GB", false, false, ""},
		"Reunion (outermost)":  {"RE", true, true, "FR"},
		"Mayotte (outermost)":  {"YT", true, true, "FR"},
		"Aland":                {"AX", true, true, "FI"},
		"New Caledonia (OCT)":  {"NC", false, false, ""},
		"Greenland (OCT)":      {"GL", false, false, ""},
		"Saint Barthelemy OCT": {"BL", false, false, ""},
		"Faroe Islands":        {"FO", false, false, ""},
		"Svalbard":             {"SJ", false, false, ""},
		"lower case de":        {"de", false, false, ""},
		"EU code":              {"EU", false, false, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := IsEU(c.cc); got != c.eu {
				t.Errorf("IsEU(%q): expect %v, got %v", c.cc, c.eu, got)
			}
			if got := IsEEA(c.cc); got != c.eea {
				t.Errorf("IsEEA(%q): expect %v, got %v", c.cc, c.eea, got)
			}
			got, ok := MemberState(c.cc)
			if got != c.memberOf || ok != (c.memberOf != "") {
				t.Errorf("MemberState(%q): expect %q, got %q (%v)", c.cc, c.memberOf, got, ok)
			}
		})
	}
}

func TestRegimeOf(t *testing.T) {
	cases := map[string]struct {
		cc     string
		want   Regime
		ok     bool
		covers []string
		not    []string
	}{
		"France":         {"FR", RegimeEU, true, []string{"DE", "NO", "IS", "LI", "RE"}, []string{"GB", "CH", "US", "FO"}},
		"Réunion":        {"RE", RegimeEU, true, []string{"FR"}, []string{"NC"}},
		"Norway":         {"NO", RegimeEU, true, []string{"SE"}, []string{"CH"}},
		"United Kingdom": {"GB", RegimeUK, true, []string{"GB"}, []string{"FR", "GI", "JE", "IM"}},
		"Switzerland":    {"CH", RegimeCH, true, []string{"CH"}, []string{"LI", "DE"}},
		"United States":  {"US", "", false, nil, nil},
		"Jersey":         {"JE", "", false, nil, nil},
		"Gibraltar":      {"GI", "", false, nil, nil},
		"lower case":     {"fr", "", false, nil, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := RegimeOf(c.cc)
			if got != c.want || ok != c.ok {
				t.Fatalf("RegimeOf(%q): expect (%q, %v), got (%q, %v)", c.cc, c.want, c.ok, got, ok)
			}
			for _, cc := range c.covers {
				if !got.Covers(cc) {
					t.Errorf("expect %s to cover %s", got, cc)
				}
			}
			for _, cc := range c.not {
				if got.Covers(cc) {
					t.Errorf("expect %s not to cover %s", got, cc)
				}
			}
		})
	}
	for _, r := range Regimes {
		if !r.Valid() || r.Law() == "" || r.Area() == string(r) {
			t.Errorf("expect %q valid with its law and area named", r)
		}
	}
	if Regime("US law").Valid() || Regime("").Covers("US") {
		t.Error("expect no other regime")
	}
}

func TestAdequacyAt(t *testing.T) {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	// Each case is a date on one side of a finding's start or end.
	type want struct {
		decision, scope string
		framework       Framework
	}
	none := want{}
	cases := map[string]struct {
		r    Regime
		cc   string
		when string
		want want
	}{
		"EU Switzerland":                {RegimeEU, "CH", "2026-11-05T00:00:00Z", want{"Commission Decision 2000/518/EC of 26 July 2000, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Switzerland before":         {RegimeEU, "CH", "2000-07-25T23:59:59Z", none},
		"EU Switzerland first day":      {RegimeEU, "CH", "2000-07-26T00:00:00Z", want{"Commission Decision 2000/518/EC of 26 July 2000, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Canada before":              {RegimeEU, "CA", "2001-12-19T23:59:59Z", none},
		"EU Canada, PIPEDA":             {RegimeEU, "CA", "2001-12-20T00:00:00Z", want{"Commission Decision 2002/2/EC of 20 December 2001, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", ScopePIPEDA, ""}},
		"EU Argentina before":           {RegimeEU, "AR", "2003-06-29T23:59:59Z", none},
		"EU Argentina":                  {RegimeEU, "AR", "2003-06-30T00:00:00Z", want{"Commission Decision 2003/490/EC of 30 June 2003, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Guernsey before":            {RegimeEU, "GG", "2003-11-20T23:59:59Z", none},
		"EU Guernsey":                   {RegimeEU, "GG", "2003-11-21T00:00:00Z", want{"Commission Decision 2003/821/EC of 21 November 2003, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Isle of Man before":         {RegimeEU, "IM", "2004-04-27T23:59:59Z", none},
		"EU Isle of Man":                {RegimeEU, "IM", "2004-04-28T00:00:00Z", want{"Commission Decision 2004/411/EC of 28 April 2004, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Jersey before":              {RegimeEU, "JE", "2008-05-07T23:59:59Z", none},
		"EU Jersey":                     {RegimeEU, "JE", "2008-05-08T00:00:00Z", want{"Commission Decision 2008/393/EC of 8 May 2008, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Faroe Islands before":       {RegimeEU, "FO", "2010-03-04T23:59:59Z", none},
		"EU Faroe Islands":              {RegimeEU, "FO", "2010-03-05T00:00:00Z", want{"Commission Decision 2010/146/EU of 5 March 2010, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Andorra before":             {RegimeEU, "AD", "2010-10-18T23:59:59Z", none},
		"EU Andorra":                    {RegimeEU, "AD", "2010-10-19T00:00:00Z", want{"Commission Decision 2010/625/EU of 19 October 2010, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Israel before":              {RegimeEU, "IL", "2011-01-30T23:59:59Z", none},
		"EU Israel, automated":          {RegimeEU, "IL", "2011-01-31T00:00:00Z", want{"Commission Decision 2011/61/EU of 31 January 2011, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", ScopeAutomated, ""}},
		"EU Uruguay before":             {RegimeEU, "UY", "2012-08-20T23:59:59Z", none},
		"EU Uruguay":                    {RegimeEU, "UY", "2012-08-21T00:00:00Z", want{"Commission Implementing Decision 2012/484/EU of 21 August 2012, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU New Zealand before":         {RegimeEU, "NZ", "2012-12-18T23:59:59Z", none},
		"EU New Zealand":                {RegimeEU, "NZ", "2012-12-19T00:00:00Z", want{"Commission Implementing Decision 2013/65/EU of 19 December 2012, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", "", ""}},
		"EU Japan before":               {RegimeEU, "JP", "2019-01-22T23:59:59Z", none},
		"EU Japan, APPI":                {RegimeEU, "JP", "2019-01-23T00:00:00Z", want{"Commission Implementing Decision (EU) 2019/419 of 23 January 2019", ScopeAPPI, ""}},
		"EU Korea before":               {RegimeEU, "KR", "2021-12-16T23:59:59Z", none},
		"EU Korea, PIPA":                {RegimeEU, "KR", "2021-12-17T00:00:00Z", want{"Commission Implementing Decision (EU) 2022/254 of 17 December 2021", ScopePIPA, ""}},
		"EU UK before":                  {RegimeEU, "GB", "2021-06-27T23:59:59Z", none},
		"EU UK 2021":                    {RegimeEU, "GB", "2021-06-28T00:00:00Z", want{"Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as extended by Commission Implementing Decision (EU) 2025/1226", "", ""}},
		"EU UK the day before renewal":  {RegimeEU, "GB", "2025-12-18T23:59:59Z", want{"Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as extended by Commission Implementing Decision (EU) 2025/1226", "", ""}},
		"EU UK renewed":                 {RegimeEU, "GB", "2025-12-19T00:00:00Z", want{"Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as renewed by Commission Implementing Decision (EU) 2025/2574 of 19 December 2025", "", ""}},
		"EU UK after the extension":     {RegimeEU, "GB", "2025-12-27T00:00:00Z", want{"Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as renewed by Commission Implementing Decision (EU) 2025/2574 of 19 December 2025", "", ""}},
		"EU UK last second":             {RegimeEU, "GB", "2031-12-26T23:59:59Z", want{"Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as renewed by Commission Implementing Decision (EU) 2025/2574 of 19 December 2025", "", ""}},
		"EU UK expired":                 {RegimeEU, "GB", "2031-12-27T00:00:00Z", none},
		"EU US before":                  {RegimeEU, "US", "2023-07-09T23:59:59Z", none},
		"EU US, DPF":                    {RegimeEU, "US", "2023-07-10T00:00:00Z", want{"Commission Implementing Decision (EU) 2023/1795 of 10 July 2023", "", FrameworkDPF}},
		"EU Brazil before publication":  {RegimeEU, "BR", "2026-01-27T23:59:59Z", none},
		"EU Brazil":                     {RegimeEU, "BR", "2026-01-28T00:00:00Z", want{"Commission Implementing Decision (EU) 2026/179 of 26 January 2026", "", ""}},
		"EU India":                      {RegimeEU, "IN", "2026-11-05T00:00:00Z", none},
		"EU EEA member needs none":      {RegimeEU, "DE", "2026-11-05T00:00:00Z", none},
		"EU Monaco is not listed":       {RegimeEU, "MC", "2026-11-05T00:00:00Z", none},
		"UK EEA before exit":            {RegimeUK, "FR", "2020-12-31T23:59:59Z", none},
		"UK EEA":                        {RegimeUK, "FR", "2021-01-01T00:00:00Z", want{"DPA 2018 Schedule 21 (EEA states and Gibraltar)", "", ""}},
		"UK Gibraltar":                  {RegimeUK, "GI", "2026-11-05T00:00:00Z", want{"DPA 2018 Schedule 21 (EEA states and Gibraltar)", "", ""}},
		"UK Japan preserved":            {RegimeUK, "JP", "2021-01-01T00:00:00Z", want{"DPA 2018 Schedule 21 (preserved EU adequacy decision: Commission Implementing Decision (EU) 2019/419 of 23 January 2019)", ScopeAPPI, ""}},
		"UK Japan before exit":          {RegimeUK, "JP", "2020-12-31T00:00:00Z", none},
		"UK Canada preserved":           {RegimeUK, "CA", "2026-11-05T00:00:00Z", want{"DPA 2018 Schedule 21 (preserved EU adequacy decision: Commission Decision 2002/2/EC of 20 December 2001, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016)", ScopePIPEDA, ""}},
		"UK Switzerland preserved":      {RegimeUK, "CH", "2026-11-05T00:00:00Z", want{"DPA 2018 Schedule 21 (preserved EU adequacy decision: Commission Decision 2000/518/EC of 26 July 2000, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016)", "", ""}},
		"UK Korea before":               {RegimeUK, "KR", "2022-12-18T23:59:59Z", none},
		"UK Korea":                      {RegimeUK, "KR", "2022-12-19T00:00:00Z", want{"The Data Protection (Adequacy) (Republic of Korea) Regulations 2022 (SI 2022/1213)", ScopePIPA, ""}},
		"UK US before":                  {RegimeUK, "US", "2023-10-11T23:59:59Z", none},
		"UK US, UK Extension":           {RegimeUK, "US", "2023-10-12T00:00:00Z", want{"The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028)", "", FrameworkUKExtension}},
		"UK Brazil: no UK regulations":  {RegimeUK, "BR", "2026-11-05T00:00:00Z", none},
		"UK itself":                     {RegimeUK, "GB", "2026-11-05T00:00:00Z", none},
		"CH EEA before the FADP":        {RegimeCH, "DE", "2023-08-31T23:59:59Z", none},
		"CH EEA":                        {RegimeCH, "DE", "2023-09-01T00:00:00Z", want{"Data Protection Ordinance (SR 235.11), Annex 1 (EEA states)", "", ""}},
		"CH UK":                         {RegimeCH, "GB", "2023-09-01T00:00:00Z", want{"Data Protection Ordinance (SR 235.11), Annex 1", "", ""}},
		"CH Monaco":                     {RegimeCH, "MC", "2026-11-05T00:00:00Z", want{"Data Protection Ordinance (SR 235.11), Annex 1", "", ""}},
		"CH Canada, general":            {RegimeCH, "CA", "2026-11-05T00:00:00Z", want{"Data Protection Ordinance (SR 235.11), Annex 1", "", ""}},
		"CH Japan is not listed":        {RegimeCH, "JP", "2026-11-05T00:00:00Z", none},
		"CH US before the Swiss-US DPF": {RegimeCH, "US", "2024-09-14T23:59:59Z", none},
		"CH US, Swiss-US DPF":           {RegimeCH, "US", "2024-09-15T00:00:00Z", want{"Data Protection Ordinance, Annex 1, as amended on 14 August 2024 (United States: organisations certified under the Swiss-U.S. DPF)", "", FrameworkSwissUS}},
		"CH itself":                     {RegimeCH, "CH", "2026-11-05T00:00:00Z", none},
		"unknown regime":                {"", "JP", "2026-11-05T00:00:00Z", none},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			a, ok := AdequacyAt(c.r, c.cc, at(c.when))
			if ok != (c.want != none) {
				t.Fatalf("AdequacyAt(%s, %s, %s): expect found %v, got %v (%+v)", c.r, c.cc, c.when, c.want != none, ok, a)
			}
			got := want{a.Decision, a.Scope, a.Framework}
			if got != c.want {
				t.Errorf("AdequacyAt(%s, %s, %s): expect %+v, got %+v", c.r, c.cc, c.when, c.want, got)
			}
			if ok && (a.Regime != c.r || a.Country != c.cc) {
				t.Errorf("expect the finding of %s for %s, got %s for %s", c.r, c.cc, a.Regime, a.Country)
			}
		})
	}
}

// TestAdequacyDates checks every finding of every regime on both sides of
// its dates: not in force the second before it starts (or an older one is),
// in force from its first second and up to the last second before it
// expires, not in force from then.
func TestAdequacyDates(t *testing.T) {
	for _, r := range Regimes {
		all := Adequacies(r)
		if len(all) == 0 {
			t.Fatalf("expect findings for %s", r)
		}
		for i, a := range all {
			if i > 0 && (all[i-1].Country > a.Country || all[i-1].Country == a.Country && all[i-1].From.After(a.From)) {
				t.Errorf("%s: expect sorted by country and date, got %s before %s", r, all[i-1].Country, a.Country)
			}
			if !ValidCountry(a.Country) || IsEEA(a.Country) || r.Covers(a.Country) {
				t.Errorf("%s: expect a third country, got %s", r, a.Country)
			}
			if a.Decision == "" || a.From.IsZero() || a.Name == "" {
				t.Errorf("%s %s: expect decision, start date and name, got %+v", r, a.Country, a)
			}
			if (a.Framework != "") != (a.Country == "US") {
				t.Errorf("%s %s: expect a framework only for the US, got %q", r, a.Country, a.Framework)
			}
			if a.Scope != "" && Scopes[a.Country] != a.Scope {
				t.Errorf("%s %s: scope %q is not the country's declared scope %q", r, a.Country, a.Scope, Scopes[a.Country])
			}
			if got, ok := AdequacyAt(r, a.Country, a.From); !ok || got.Decision != a.Decision {
				t.Errorf("%s %s: expect %q in force on its first day %s, got %q", r, a.Country, a.Decision, a.From.Format(time.DateOnly), got.Decision)
			}
			if got, ok := AdequacyAt(r, a.Country, a.From.Add(-time.Second)); ok && got.Decision == a.Decision {
				t.Errorf("%s %s: expect %q not in force before %s", r, a.Country, a.Decision, a.From.Format(time.DateOnly))
			}
			if !a.Until.IsZero() {
				if !a.InForce(a.Until.Add(-time.Second)) || a.InForce(a.Until) {
					t.Errorf("%s %s: expect %q in force until the start of %s only", r, a.Country, a.Decision, a.Until.Format(time.DateOnly))
				}
			}
			if h := AdequacyHistory(r, a.Country); len(h) == 0 {
				t.Errorf("%s %s: expect a history", r, a.Country)
			}
		}
	}
	if n := len(Adequacies(RegimeEU)); n != 17 {
		t.Errorf("expect 17 EU findings (16 countries, the UK twice), got %d", n)
	}
	if n := len(Adequacies(RegimeCH)); n != 14 {
		t.Errorf("expect 14 Swiss findings besides the EEA (13 of 2023 and the US), got %d", n)
	}
	if n := len(Adequacies(RegimeUK)); n != 14 {
		t.Errorf("expect 14 UK findings besides the EEA and Gibraltar (12 preserved, Korea, the US), got %d", n)
	}
}

func TestRegionCountry(t *testing.T) {
	cases := map[string]struct {
		region, want string
		ok           bool
	}{
		"us-east-1":                {"us-east-1", "US", true},
		"us-east-2":                {"us-east-2", "US", true},
		"us-west-1":                {"us-west-1", "US", true},
		"us-west-2":                {"us-west-2", "US", true},
		"af-south-1":               {"af-south-1", "ZA", true},
		"ap-east-1":                {"ap-east-1", "HK", true},
		"ap-east-2":                {"ap-east-2", "TW", true},
		"ap-south-1":               {"ap-south-1", "IN", true},
		"ap-south-2":               {"ap-south-2", "IN", true},
		"ap-southeast-1":           {"ap-southeast-1", "SG", true},
		"ap-southeast-2":           {"ap-southeast-2", "AU", true},
		"ap-southeast-3":           {"ap-southeast-3", "ID", true},
		"ap-southeast-4":           {"ap-southeast-4", "AU", true},
		"ap-southeast-5":           {"ap-southeast-5", "MY", true},
		"ap-southeast-6":           {"ap-southeast-6", "NZ", true},
		"ap-southeast-7":           {"ap-southeast-7", "TH", true},
		"ap-northeast-1":           {"ap-northeast-1", "JP", true},
		"ap-northeast-2":           {"ap-northeast-2", "KR", true},
		"ap-northeast-3":           {"ap-northeast-3", "JP", true},
		"ca-central-1":             {"ca-central-1", "CA", true},
		"ca-west-1":                {"ca-west-1", "CA", true},
		"eu-central-1":             {"eu-central-1", "DE", true},
		"eu-central-2":             {"eu-central-2", "CH", true},
		"eu-west-1":                {"eu-west-1", "IE", true},
		"eu-west-2":                {"eu-west-2", "GB", true},
		"eu-west-3":                {"eu-west-3", "FR", true},
		"eu-south-1":               {"eu-south-1", "IT", true},
		"eu-south-2":               {"eu-south-2", "ES", true},
		"eu-north-1":               {"eu-north-1", "SE", true},
		"il-central-1":             {"il-central-1", "IL", true},
		"me-south-1":               {"me-south-1", "BH", true},
		"me-central-1":             {"me-central-1", "AE", true},
		"mx-central-1":             {"mx-central-1", "MX", true},
		"sa-east-1":                {"sa-east-1", "BR", true},
		"European Sovereign Cloud": {"eusc-de-east-1", "DE", true},
		"GovCloud":                 {"us-gov-west-1", "", false},
		"China":                    {"cn-north-1", "", false},
		"typo":                     {"eu-centrl-1", "", false},
		"upper case":               {"EU-CENTRAL-1", "", false},
		"empty":                    {"", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := RegionCountry(c.region)
			if got != c.want || ok != c.ok {
				t.Errorf("RegionCountry(%q): expect (%q, %v), got (%q, %v)", c.region, c.want, c.ok, got, ok)
			}
		})
	}
	regions := Regions()
	if len(regions) != 35 {
		t.Errorf("expect 34 commercial regions and 1 of the European Sovereign Cloud, got %d", len(regions))
	}
	if !slices.IsSorted(regions) {
		t.Errorf("expect sorted regions, got %v", regions)
	}
	for _, r := range regions {
		cc, _ := RegionCountry(r)
		if !ValidCountry(cc) {
			t.Errorf("expect region %s in a valid country, got %q", r, cc)
		}
	}
}

func TestRegionPartition(t *testing.T) {
	cases := map[string]struct{ region, want string }{
		"commercial":               {"eu-central-1", PartitionAWS},
		"commercial US":            {"us-east-1", PartitionAWS},
		"European Sovereign Cloud": {"eusc-de-east-1", PartitionEUSC},
		"unknown sovereign region": {"eusc-de-west-1", ""},
		"GovCloud is not known":    {"us-gov-west-1", ""},
		"empty":                    {"", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := RegionPartition(c.region)
			if got != c.want || ok != (c.want != "") {
				t.Errorf("RegionPartition(%q): expect %q, got %q (%v)", c.region, c.want, got, ok)
			}
		})
	}
}

func TestRegionHint(t *testing.T) {
	cases := map[string]struct{ region, want string }{
		"typo":            {"eu-centrl-1", "did you mean eu-central-1?"},
		"upper case":      {"EU-WEST-1", "did you mean eu-west-1?"},
		"swapped letters": {"us-esat-1", "did you mean us-east-1?"},
		"unknown number":  {"eu-central-3", "known EU regions: eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3"},
		"unknown US":      {"us-east-9", "known US regions: us-east-1, us-east-2, us-west-1, us-west-2"},
		"sovereign typo":  {"eusc-de-est-1", "did you mean eusc-de-east-1?"},
		"known":           {"eu-west-1", ""},
		"empty":           {"", ""},
		"nonsense":        {"mars-1", ""},
		"no dash":         {"frankfurt", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := RegionHint(c.region); got != c.want {
				t.Errorf("RegionHint(%q): expect %q, got %q", c.region, c.want, got)
			}
		})
	}
}

func TestSCCModule(t *testing.T) {
	cases := map[string]struct {
		exporter, importer string
		want               int
		name               string
	}{
		"module 1": {Controller, Controller, 1, "controller to controller"},
		"module 2": {Controller, Processor, 2, "controller to processor"},
		"module 3": {Processor, Processor, 3, "processor to processor"},
		"module 4": {Processor, Controller, 4, "processor to controller"},
		"unknown":  {"owner", Processor, 0, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := SCCModule(c.exporter, c.importer)
			if got != c.want {
				t.Errorf("SCCModule(%q, %q): expect %d, got %d", c.exporter, c.importer, c.want, got)
			}
			if n := SCCModuleName(got); n != c.name {
				t.Errorf("SCCModuleName(%d): expect %q, got %q", got, c.name, n)
			}
		})
	}
	if n := SCCModuleName(5); n != "" {
		t.Errorf("SCCModuleName(5): expect \"\", got %q", n)
	}
}

func TestDerogation(t *testing.T) {
	cases := map[string]struct {
		r          Regime
		name, want string
		ok         bool
	}{
		"a":            {RegimeEU, "explicit_consent", "GDPR Art. 49(1)(a) explicit consent", true},
		"b":            {RegimeEU, "contract", "GDPR Art. 49(1)(b) contract with the data subject", true},
		"c":            {RegimeEU, "contract_in_interest", "GDPR Art. 49(1)(c) contract in the interest of the data subject", true},
		"d":            {RegimeEU, "public_interest", "GDPR Art. 49(1)(d) important reasons of public interest", true},
		"e":            {RegimeEU, "legal_claims", "GDPR Art. 49(1)(e) legal claims", true},
		"f":            {RegimeEU, "vital_interests", "GDPR Art. 49(1)(f) vital interests", true},
		"g":            {RegimeEU, "public_register", "GDPR Art. 49(1)(g) public register", true},
		"UK a":         {RegimeUK, "explicit_consent", "UK GDPR Art. 49(1)(a) explicit consent", true},
		"UK g":         {RegimeUK, "public_register", "UK GDPR Art. 49(1)(g) public register", true},
		"CH consent":   {RegimeCH, "explicit_consent", "FADP Art. 17(1)(a) explicit consent", true},
		"CH contract":  {RegimeCH, "contract", "FADP Art. 17(1)(b)(1) contract with the data subject", true},
		"CH interest":  {RegimeCH, "contract_in_interest", "FADP Art. 17(1)(b)(2) contract in the interest of the data subject", true},
		"CH public":    {RegimeCH, "public_interest", "FADP Art. 17(1)(c)(1) important reasons of public interest", true},
		"CH claims":    {RegimeCH, "legal_claims", "FADP Art. 17(1)(c)(2) legal claims", true},
		"CH vital":     {RegimeCH, "vital_interests", "FADP Art. 17(1)(d) vital interests", true},
		"CH register":  {RegimeCH, "public_register", "FADP Art. 17(1)(f) public register", true},
		"unknown":      {RegimeEU, "consent", "", false},
		"empty":        {RegimeEU, "", "", false},
		"uppercase":    {RegimeEU, "EXPLICIT_CONSENT", "", false},
		"other regime": {"US law", "explicit_consent", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := Derogation(c.r, c.name)
			if got != c.want || ok != c.ok {
				t.Errorf("Derogation(%q, %q): expect (%q, %v), got (%q, %v)", c.r, c.name, c.want, c.ok, got, ok)
			}
		})
	}
	if n := len(Derogations()); n != 7 {
		t.Errorf("expect 7 derogations, got %d", n)
	}
}

func TestSCCInstrument(t *testing.T) {
	if got, want := SCCInstrument(2), "Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor)"; got != want {
		t.Errorf("expect %q, got %q", want, got)
	}
}
