package jurisdiction

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
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

func TestAdequacyFor(t *testing.T) {
	cases := map[string]struct {
		cc    string
		want  Adequacy
		found bool
	}{
		"Andorra":     {"AD", Adequacy{Country: "AD", Name: "Andorra", Decision: "Commission Decision 2010/625/EU"}, true},
		"Argentina":   {"AR", Adequacy{Country: "AR", Name: "Argentina", Decision: "Commission Decision 2003/490/EC"}, true},
		"Brazil":      {"BR", Adequacy{Country: "BR", Name: "Brazil", Decision: "Commission Implementing Decision (EU) 2026/179"}, true},
		"Canada":      {"CA", Adequacy{Country: "CA", Name: "Canada", Decision: "Commission Decision 2002/2/EC", Scope: "commercial organisations (PIPEDA)"}, true},
		"Switzerland": {"CH", Adequacy{Country: "CH", Name: "Switzerland", Decision: "Commission Decision 2000/518/EC"}, true},
		"Faroe":       {"FO", Adequacy{Country: "FO", Name: "Faroe Islands", Decision: "Commission Decision 2010/146/EU"}, true},
		"UK":          {"GB", Adequacy{Country: "GB", Name: "United Kingdom", Decision: "Commission Implementing Decision (EU) 2021/1772, renewed December 2025"}, true},
		"Guernsey":    {"GG", Adequacy{Country: "GG", Name: "Guernsey", Decision: "Commission Decision 2003/821/EC"}, true},
		"Israel":      {"IL", Adequacy{Country: "IL", Name: "Israel", Decision: "Commission Decision 2011/61/EU"}, true},
		"Isle of Man": {"IM", Adequacy{Country: "IM", Name: "Isle of Man", Decision: "Commission Decision 2004/411/EC"}, true},
		"Jersey":      {"JE", Adequacy{Country: "JE", Name: "Jersey", Decision: "Commission Decision 2008/393/EC"}, true},
		"Japan":       {"JP", Adequacy{Country: "JP", Name: "Japan", Decision: "Commission Implementing Decision (EU) 2019/419", Scope: "private-sector business operators (APPI, with the Supplementary Rules)"}, true},
		"Korea":       {"KR", Adequacy{Country: "KR", Name: "Republic of Korea", Decision: "Commission Implementing Decision (EU) 2022/254"}, true},
		"New Zealand": {"NZ", Adequacy{Country: "NZ", Name: "New Zealand", Decision: "Commission Implementing Decision 2013/65/EU"}, true},
		"Uruguay":     {"UY", Adequacy{Country: "UY", Name: "Uruguay", Decision: "Commission Implementing Decision 2012/484/EU"}, true},
		"US DPF only": {"US", Adequacy{Country: "US", Name: "United States", Decision: "Commission Implementing Decision (EU) 2023/1795", Scope: "organisations certified under the EU-US Data Privacy Framework", DPFOnly: true}, true},
		"India":       {"IN", Adequacy{}, false},
		"China":       {"CN", Adequacy{}, false},
		"EEA member":  {"DE", Adequacy{}, false},
		"lower case":  {"jp", Adequacy{}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := AdequacyFor(c.cc)
			if ok != c.found {
				t.Fatalf("AdequacyFor(%q): expect found %v, got %v", c.cc, c.found, ok)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("AdequacyFor(%q) mismatch (-expect +got):\n%s", c.cc, diff)
			}
		})
	}
}

func TestAdequacies(t *testing.T) {
	all := Adequacies()
	if len(all) != 16 {
		t.Errorf("expect 16 adequacy decisions, got %d", len(all))
	}
	for i, a := range all {
		if i > 0 && all[i-1].Country >= a.Country {
			t.Errorf("expect sorted by country, got %s before %s", all[i-1].Country, a.Country)
		}
		if !ValidCountry(a.Country) {
			t.Errorf("expect %s a valid code", a.Country)
		}
		if IsEEA(a.Country) {
			t.Errorf("expect no adequacy decision for EEA state %s", a.Country)
		}
		if !strings.HasPrefix(a.Decision, "Commission ") {
			t.Errorf("expect a Commission decision reference for %s, got %q", a.Country, a.Decision)
		}
		if a.DPFOnly != (a.Country == "US") {
			t.Errorf("expect DPFOnly only for US, got %v for %s", a.DPFOnly, a.Country)
		}
	}
}

func TestRegionCountry(t *testing.T) {
	cases := map[string]struct {
		region, want string
		ok           bool
	}{
		"us-east-1":      {"us-east-1", "US", true},
		"us-east-2":      {"us-east-2", "US", true},
		"us-west-1":      {"us-west-1", "US", true},
		"us-west-2":      {"us-west-2", "US", true},
		"af-south-1":     {"af-south-1", "ZA", true},
		"ap-east-1":      {"ap-east-1", "HK", true},
		"ap-east-2":      {"ap-east-2", "TW", true},
		"ap-south-1":     {"ap-south-1", "IN", true},
		"ap-south-2":     {"ap-south-2", "IN", true},
		"ap-southeast-1": {"ap-southeast-1", "SG", true},
		"ap-southeast-2": {"ap-southeast-2", "AU", true},
		"ap-southeast-3": {"ap-southeast-3", "ID", true},
		"ap-southeast-4": {"ap-southeast-4", "AU", true},
		"ap-southeast-5": {"ap-southeast-5", "MY", true},
		"ap-southeast-6": {"ap-southeast-6", "NZ", true},
		"ap-southeast-7": {"ap-southeast-7", "TH", true},
		"ap-northeast-1": {"ap-northeast-1", "JP", true},
		"ap-northeast-2": {"ap-northeast-2", "KR", true},
		"ap-northeast-3": {"ap-northeast-3", "JP", true},
		"ca-central-1":   {"ca-central-1", "CA", true},
		"ca-west-1":      {"ca-west-1", "CA", true},
		"eu-central-1":   {"eu-central-1", "DE", true},
		"eu-central-2":   {"eu-central-2", "CH", true},
		"eu-west-1":      {"eu-west-1", "IE", true},
		"eu-west-2":      {"eu-west-2", "GB", true},
		"eu-west-3":      {"eu-west-3", "FR", true},
		"eu-south-1":     {"eu-south-1", "IT", true},
		"eu-south-2":     {"eu-south-2", "ES", true},
		"eu-north-1":     {"eu-north-1", "SE", true},
		"il-central-1":   {"il-central-1", "IL", true},
		"me-south-1":     {"me-south-1", "BH", true},
		"me-central-1":   {"me-central-1", "AE", true},
		"mx-central-1":   {"mx-central-1", "MX", true},
		"sa-east-1":      {"sa-east-1", "BR", true},
		"GovCloud":       {"us-gov-west-1", "", false},
		"China":          {"cn-north-1", "", false},
		"typo":           {"eu-centrl-1", "", false},
		"upper case":     {"EU-CENTRAL-1", "", false},
		"empty":          {"", "", false},
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
	if len(regions) != 34 {
		t.Errorf("expect 34 commercial regions, got %d", len(regions))
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

func TestRegionHint(t *testing.T) {
	cases := map[string]struct{ region, want string }{
		"typo":            {"eu-centrl-1", "did you mean eu-central-1?"},
		"upper case":      {"EU-WEST-1", "did you mean eu-west-1?"},
		"swapped letters": {"us-esat-1", "did you mean us-east-1?"},
		"unknown number":  {"eu-central-3", "known EU regions: eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3"},
		"unknown US":      {"us-east-9", "known US regions: us-east-1, us-east-2, us-west-1, us-west-2"},
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
		name, want string
		ok         bool
	}{
		"a":         {"explicit_consent", "GDPR Art. 49(1)(a) explicit consent", true},
		"b":         {"contract", "GDPR Art. 49(1)(b) contract with the data subject", true},
		"c":         {"contract_in_interest", "GDPR Art. 49(1)(c) contract in the interest of the data subject", true},
		"d":         {"public_interest", "GDPR Art. 49(1)(d) important reasons of public interest", true},
		"e":         {"legal_claims", "GDPR Art. 49(1)(e) legal claims", true},
		"f":         {"vital_interests", "GDPR Art. 49(1)(f) vital interests", true},
		"g":         {"public_register", "GDPR Art. 49(1)(g) public register", true},
		"unknown":   {"consent", "", false},
		"empty":     {"", "", false},
		"uppercase": {"EXPLICIT_CONSENT", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := Derogation(c.name)
			if got != c.want || ok != c.ok {
				t.Errorf("Derogation(%q): expect (%q, %v), got (%q, %v)", c.name, c.want, c.ok, got, ok)
			}
		})
	}
	if n := len(Derogations()); n != 7 {
		t.Errorf("expect 7 derogations, got %d", n)
	}
}
