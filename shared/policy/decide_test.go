package policy

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func loadTestPolicy(t testing.TB, name string) *Policy {
	t.Helper()
	p, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return p
}

func TestResidency(t *testing.T) {
	rich := loadTestPolicy(t, "transfer.yaml")
	example := MustExample()
	rejectData := strings.Replace(string(Example), "unknown_subject: strictest", "unknown_subject: reject   ", 1)
	reject, err := Parse("reject.yaml", []byte(rejectData))
	if err != nil {
		t.Fatal(err)
	}
	type in struct{ country, region, category string }
	cases := map[string]struct {
		p       *Policy
		in      in
		want    ResidencyDecision
		wantErr error
	}{
		"EEA subject in its home": {example, in{"FR", "eu-central-1", "profile"},
			ResidencyDecision{SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 0}, nil},
		"EEA subject in another allowed region": {example, in{"DE", "eu-west-1", "events"},
			ResidencyDecision{SubjectCountry: "DE", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 0}, nil},
		"EEA subject in the US": {example, in{"FR", "us-east-1", "profile"},
			ResidencyDecision{SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"Swiss subject by the EEA rule": {example, in{"CH", "us-east-1", "profile"},
			ResidencyDecision{SubjectCountry: "CH", Jurisdiction: "CH", HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"UK subject": {example, in{"GB", "eu-central-1", "profile"},
			ResidencyDecision{SubjectCountry: "GB", Jurisdiction: "GB", HomeRegion: "eu-west-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 1}, nil},
		"ANY rule allows every region": {example, in{"US", "eu-west-1", "profile"},
			ResidencyDecision{SubjectCountry: "US", Jurisdiction: "US", HomeRegion: "us-east-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 2}, nil},
		"lenient country": {example, in{" fr", "us-east-1", "profile"},
			ResidencyDecision{SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"outermost region is EEA": {example, in{"RE", "us-east-1", "profile"},
			ResidencyDecision{SubjectCountry: "RE", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"missing country assumed EEA": {example, in{"", "us-east-1", "profile"},
			ResidencyDecision{Jurisdiction: "EEA", Assumed: true, HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"unknown country assumed EEA": {example, in{"UK", "eu-west-1", "profile"},
			ResidencyDecision{SubjectCountry: "UK", Jurisdiction: "EEA", Assumed: true, HomeRegion: "eu-central-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 0}, nil},
		"non-personal anywhere": {example, in{"FR", "us-east-1", "aggregates"},
			ResidencyDecision{SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "us-east-1", Allowed: true, Action: ActionNone, Personal: false, Rule: -1}, nil},
		"non-personal without country": {reject, in{"", "us-east-1", "aggregates"},
			ResidencyDecision{HomeRegion: "us-east-1", Allowed: true, Action: ActionNone, Personal: false, Rule: -1}, nil},
		"region outside the deployment": {example, in{"FR", "ap-south-1", "profile"},
			ResidencyDecision{SubjectCountry: "FR", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 0}, nil},
		"country rule before group rule": {rich, in{"DE", "eu-west-1", "profile"},
			ResidencyDecision{SubjectCountry: "DE", Jurisdiction: "EEA", HomeRegion: "eu-central-1", Allowed: false, Action: ActionQuarantine, Personal: true, Rule: 0}, nil},
		"group rule after country rule": {rich, in{"AT", "eu-central-1", "profile"},
			ResidencyDecision{SubjectCountry: "AT", Jurisdiction: "EEA", HomeRegion: "eu-west-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 1}, nil},
		"default on_violation is relocate": {rich, in{"NO", "us-east-1", "events"},
			ResidencyDecision{SubjectCountry: "NO", Jurisdiction: "EEA", HomeRegion: "eu-west-1", Allowed: false, Action: ActionRelocate, Personal: true, Rule: 1}, nil},
		"alert": {rich, in{"GB", "us-east-1", "events"},
			ResidencyDecision{SubjectCountry: "GB", Jurisdiction: "GB", HomeRegion: "eu-west-2", Allowed: false, Action: ActionAlert, Personal: true, Rule: 2}, nil},
		"unknown subject takes the EEA rule, not the first": {rich, in{"", "eu-central-1", "profile"},
			ResidencyDecision{Jurisdiction: "EEA", Assumed: true, HomeRegion: "eu-west-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 1}, nil},
		"no rule matches": {rich, in{"US", "eu-west-2", "profile"},
			ResidencyDecision{SubjectCountry: "US", Jurisdiction: "US", HomeRegion: "eu-west-2", Allowed: true, Action: ActionNone, Personal: true, Rule: -1}, nil},
		"reject missing country": {reject, in{"", "eu-west-1", "profile"}, ResidencyDecision{}, ErrUnknownSubject},
		"reject unknown country": {reject, in{"ZZ", "eu-west-1", "profile"}, ResidencyDecision{}, ErrUnknownSubject},
		"reject keeps known countries": {reject, in{"GB", "eu-west-1", "profile"},
			ResidencyDecision{SubjectCountry: "GB", Jurisdiction: "GB", HomeRegion: "eu-west-1", Allowed: true, Action: ActionNone, Personal: true, Rule: 1}, nil},
		"unknown category": {example, in{"FR", "eu-west-1", "profiles"}, ResidencyDecision{}, ErrUnknownCategory},
		"empty category":   {example, in{"FR", "eu-west-1", ""}, ResidencyDecision{}, ErrUnknownCategory},
		"unknown region":   {example, in{"FR", "eu-centrl-1", "profile"}, ResidencyDecision{}, ErrBadRequest},
		"empty region":     {example, in{"FR", "", "profile"}, ResidencyDecision{}, ErrBadRequest},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.p.Residency(c.in.country, c.in.region, c.in.category)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("expect error %v, got %v", c.wantErr, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("decision mismatch (-expect +got):\n%s", diff)
			}
		})
	}
}

func TestResidencyErrorNamesValue(t *testing.T) {
	p := MustExample()
	cases := map[string]struct {
		country, region, category, want string
	}{
		"category": {"FR", "eu-west-1", "profiles", `category "profiles": unknown category`},
		"region":   {"FR", "eu-west-9", "profile", `region "eu-west-9": bad request: unknown AWS region`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := p.Residency(c.country, c.region, c.category)
			if err == nil || err.Error() != c.want {
				t.Errorf("expect %q, got %v", c.want, err)
			}
		})
	}
}

func TestResidencyHandBuiltPolicy(t *testing.T) {
	// A Policy not made by Parse still decides correctly (compiled on the fly).
	p := &Policy{
		Regions:    []string{"eu-west-1", "us-east-1"},
		Rules:      []Rule{{Subjects: []string{"EU"}, Home: "eu-west-1", Allowed: []string{"eu-west-1"}}},
		Categories: map[string]Category{"c": {Name: "c", Personal: true, Retention: Duration{1, "y"}}},
	}
	got, err := p.Residency("IT", "us-east-1", "c")
	if err != nil {
		t.Fatal(err)
	}
	want := ResidencyDecision{SubjectCountry: "IT", Jurisdiction: "EEA", HomeRegion: "eu-west-1", Action: ActionRelocate, Personal: true, Rule: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decision mismatch (-expect +got):\n%s", diff)
	}
}

func TestResidencyAllocs(t *testing.T) {
	p := MustExample()
	for _, in := range [][3]string{{"FR", "us-east-1", "profile"}, {"", "us-east-1", "events"}, {"US", "eu-west-1", "aggregates"}} {
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Residency(in[0], in[1], in[2]) }); n != 0 {
			t.Errorf("Residency%q: expect 0 allocations, got %v", in, n)
		}
	}
}

func TestTransfer(t *testing.T) {
	p := loadTestPolicy(t, "transfer.yaml")
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	const (
		org, ltd, ag = "Acme Analytics SAS", "Acme Analytics Ltd", "Acme Analytics AG"
		eu, uk, ch   = "EU GDPR", "UK GDPR", "Swiss FADP"

		acmeSCCRef   = "scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)"
		acmeSCCWhy   = "agreement scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor)) between Acme Analytics SAS (FR) and Acme Inc (US), in force from 2024-03-26 until 2027-03-26, transfer impact assessment TIA-2024-07 (Clause 14)"
		dpfRef       = "dpf-example-processor (EU-U.S. Data Privacy Framework, Commission Implementing Decision (EU) 2023/1795 of 10 July 2023)"
		dpfWhy       = "Example Processor Inc is certified under the EU-U.S. Data Privacy Framework until 2027-06-30 (Commission Implementing Decision (EU) 2023/1795 of 10 July 2023)"
		usDPFOnly    = "the EU adequacy decision for the United States (US) (Commission Implementing Decision (EU) 2023/1795 of 10 July 2023) covers only importers certified under the EU-U.S. Data Privacy Framework, and "
		otherSCCs    = "(scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US, scc-orbit-2025 covers Orbit Analytics LLC in US)"
		globexRef    = "bcr-globex (Binding Corporate Rules, GDPR Art. 47, approval CNIL-BCR-2023-01)"
		globexWhy    = "Binding Corporate Rules of Globex Group (bcr-globex, GDPR Art. 47), approved 2023-01-10, reference CNIL-BCR-2023-01, until 2028-01-10"
		japan        = "Commission Implementing Decision (EU) 2019/419 of 23 January 2019"
		brazil       = "Commission Implementing Decision (EU) 2026/179 of 26 January 2026"
		ukRenewed    = "Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as renewed by Commission Implementing Decision (EU) 2025/2574 of 19 December 2025"
		ukExtended   = "Commission Implementing Decision (EU) 2021/1772 of 28 June 2021, as extended by Commission Implementing Decision (EU) 2025/1226"
		canada       = "Commission Decision 2002/2/EC of 20 December 2001, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016"
		ukExtension  = "dpf-uk-processor (UK Extension to the EU-U.S. Data Privacy Framework, The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028))"
		ukAddendum   = "uk-addendum-acme-2025 (ICO International Data Transfer Addendum to the EU SCCs (DPA 2018 s.119A, in force 21 March 2022), with SCC Module 2 (controller to processor); TRA TRA-2025-02)"
		ukIDTA       = "uk-idta-maple-2025 (ICO International Data Transfer Agreement (DPA 2018 s.119A, in force 21 March 2022))"
		swissSCC     = "scc-ch-acme-2024 (FADP Art. 16(2)(d): the EU SCCs as recognised by the FDPIC on 27 August 2021, with the Swiss adaptations; Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-CH-2024-01)"
		swissUS      = "dpf-aws (Swiss-U.S. Data Privacy Framework, Data Protection Ordinance, Annex 1, as amended on 14 August 2024 (United States: organisations certified under the Swiss-U.S. DPF))"
		acmeInIndia  = `no EU adequacy decision for IN; no SCC agreement between exporter "Acme Analytics SAS" and importer "Acme Inc" in IN (scc-acme-inc-2024 covers Acme Inc in US); no BCR approved under the EU GDPR`
		consentRef   = "GDPR Art. 49(1)(a) explicit consent"
		notPersonal  = "category aggregates is not personal data: not a restricted transfer"
		bothInTheEEA = "exporter Acme Analytics SAS (FR) and the importer in DE are both in the EEA (EU GDPR): not a restricted transfer"
	)
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.Parse(time.DateOnly, s)
		}
		if err != nil {
			panic(err)
		}
		return t
	}
	// want is a decision: restricted transfers unless mechanism is none.
	type want struct {
		decision, mechanism, reference, regime, exporter string
		// reason is the whole reason when it starts with "=", else a part
		// of it; every part must appear.
		reason []string
	}
	cases := map[string]struct {
		req     TransferRequest
		now     time.Time
		want    want
		wantErr error
	}{
		// Restriction turns on exporter and importer, not on where the data sits.
		"non-personal category": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "X", Category: "aggregates"}, now,
			want{DecisionAllowed, MechanismNone, "", eu, org, []string{"=" + notPersonal}}, nil},
		"intra-EEA": {TransferRequest{FromCountry: "FR", ToCountry: "DE", Importer: "X", Category: "profile"}, now,
			want{DecisionAllowed, MechanismNone, "", eu, org, []string{"=" + bothInTheEEA}}, nil},
		"intra-EEA from data stored in the US": {TransferRequest{FromCountry: "US", ToCountry: "DE", Importer: "X", Category: "profile"}, now,
			want{DecisionAllowed, MechanismNone, "", eu, org, []string{"=" + bothInTheEEA + ", although the data is stored in US"}}, nil},
		"onward transfer from the US to a US importer is restricted and denied": {TransferRequest{FromCountry: "US", ToCountry: "US", Importer: "Random Corp", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"=" + usDPFOnly + `"Random Corp" has no active certification under it; no SCC agreement between exporter "Acme Analytics SAS" and importer "Random Corp" in US ` + otherSCCs + "; no BCR approved under the EU GDPR; no derogation"}}, nil},
		"onward transfer to the SCC importer cites 2021/914 and its module": {TransferRequest{FromCountry: "US", ToCountry: "US", Importer: "Acme Inc", Category: "profile"}, now,
			want{DecisionAllowed, MechanismSCC, acmeSCCRef, eu, org, []string{"=" + acmeSCCWhy}}, nil},
		// EU adequacy, with dates.
		"Brazil before its decision": {TransferRequest{FromCountry: "DE", ToCountry: "BR", Importer: "X", Category: "profile"}, at("2026-01-20"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"the EU adequacy decision for Brazil (BR) (" + brazil + ") applies only from 2026-01-28; "}}, nil},
		"Brazil the day before publication": {TransferRequest{ToCountry: "BR", Importer: "X", Category: "profile"}, at("2026-01-27T23:59:59Z"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"applies only from 2026-01-28"}}, nil},
		"Brazil from publication": {TransferRequest{ToCountry: "BR", Importer: "X", Category: "profile"}, at("2026-01-28"),
			want{DecisionAllowed, MechanismAdequacy, brazil, eu, org, []string{"=EU adequacy decision for Brazil (BR): " + brazil + ", in force from 2026-01-28"}}, nil},
		"Brazil in June 2026": {TransferRequest{FromCountry: "DE", ToCountry: "BR", Importer: "X", Category: "profile"}, at("2026-06-01"),
			want{DecisionAllowed, MechanismAdequacy, brazil, eu, org, nil}, nil},
		"UK in 2024 under the 2021 decision": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2024-01-01"),
			want{DecisionAllowed, MechanismAdequacy, ukExtended, eu, org, []string{"until 2025-12-27"}}, nil},
		"UK on the last day of the extension": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2025-12-26T23:59:59Z"),
			want{DecisionAllowed, MechanismAdequacy, ukRenewed, eu, org, []string{"until 2031-12-27"}}, nil},
		"UK before the renewal": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2025-12-18"),
			want{DecisionAllowed, MechanismAdequacy, ukExtended, eu, org, nil}, nil},
		"UK on the last day of the renewal": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2031-12-26T23:59:59Z"),
			want{DecisionAllowed, MechanismAdequacy, ukRenewed, eu, org, nil}, nil},
		"UK when the renewal expires": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2031-12-27"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"the EU adequacy decision for the United Kingdom (GB) (" + ukRenewed + ") expired on 2031-12-27"}}, nil},
		"UK in 2032": {TransferRequest{FromCountry: "DE", ToCountry: "GB", Importer: "X", Category: "profile"}, at("2032-01-01"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"expired on 2031-12-27"}}, nil},
		"UK before it had a decision": {TransferRequest{ToCountry: "GB", Importer: "X", Category: "profile"}, at("2021-06-27"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"applies only from 2021-06-28"}}, nil},
		"US DPF before the decision": {TransferRequest{ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2023-07-09"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"the EU adequacy decision for the United States (US) (Commission Implementing Decision (EU) 2023/1795 of 10 July 2023) applies only from 2023-07-10"}}, nil},
		"adequacy wins over a derogation": {TransferRequest{ToCountry: "CH", Importer: "X", Category: "events", Derogation: "explicit_consent"}, now,
			want{DecisionAllowed, MechanismAdequacy, "Commission Decision 2000/518/EC of 26 July 2000, as amended by Commission Implementing Decision (EU) 2016/2295 of 16 December 2016", eu, org, nil}, nil},
		// Partial decisions need the importer declared in scope.
		"Canada for a declared PIPEDA importer": {TransferRequest{FromCountry: "DE", ToCountry: "CA", Importer: "maple data inc", Category: "profile"}, now,
			want{DecisionAllowed, MechanismAdequacy, canada, eu, org, []string{`and the policy declares "maple data inc" in that scope (adequacy_scope PIPEDA)`}}, nil},
		"Canada for an undeclared importer": {TransferRequest{FromCountry: "DE", ToCountry: "CA", Importer: "Other Inc", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{`covers only organisations subject to PIPEDA (not those under provincial laws only), and the policy does not declare importer "Other Inc" in that scope (importers: adequacy_scope: PIPEDA)`}}, nil},
		"Japan for an undeclared importer": {TransferRequest{ToCountry: "JP", Importer: "X", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"(" + japan + ") covers only personal information handling business operators under the APPI"}}, nil},
		"Japan for a declared APPI importer": {TransferRequest{ToCountry: "jp", Importer: "Sakura KK", Category: "profile"}, now,
			want{DecisionAllowed, MechanismAdequacy, japan, eu, org, nil}, nil},
		"a declaration for another country does not count": {TransferRequest{ToCountry: "CA", Importer: "Sakura KK", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, nil}, nil},
		// The US: DPF certification.
		"US with DPF": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, now,
			want{DecisionAllowed, MechanismDPF, dpfRef, eu, org, []string{"=" + dpfWhy}}, nil},
		"DPF importer name case and space": {TransferRequest{ToCountry: "us", Importer: "  example PROCESSOR inc ", Category: "billing"}, now,
			want{DecisionAllowed, MechanismDPF, dpfRef, eu, org, nil}, nil},
		"DPF on its last day": {TransferRequest{ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-06-30T23:59:59Z"),
			want{DecisionAllowed, MechanismDPF, dpfRef, eu, org, nil}, nil},
		"DPF the day after": {TransferRequest{ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-07-01T00:00:00Z"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{usDPFOnly + `"Example Processor Inc" has no active certification under it (dpf-example-processor was certified only until 2027-06-30)`}}, nil},
		"DPF in another time zone": {TransferRequest{ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-06-30T20:00:00-05:00"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"was certified only until 2027-06-30"}}, nil},
		"expired DPF falls through to SCC": {TransferRequest{ToCountry: "US", Importer: "Lapsed Corp", Category: "billing"}, now,
			want{DecisionAllowed, MechanismSCC, "scc-lapsed-2024 (Commission Implementing Decision (EU) 2021/914, Module 1 (controller to controller))", eu, org, nil}, nil},
		// SCCs: exporter, importer, dates, category, Art. 3(2).
		"SCC wins over a derogation": {TransferRequest{ToCountry: "US", Importer: "acme inc", Category: "profile", Derogation: "explicit_consent"}, now,
			want{DecisionAllowed, MechanismSCC, acmeSCCRef, eu, org, nil}, nil},
		"SCC does not cover the category": {TransferRequest{ToCountry: "US", Importer: "Acme Inc", Category: "billing"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{`no SCC agreement between exporter "Acme Analytics SAS" and importer "Acme Inc" in US (scc-acme-inc-2024 does not cover category billing)`}}, nil},
		"SCC on its last day": {TransferRequest{ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2027-03-25T23:59:59Z"),
			want{DecisionAllowed, MechanismSCC, acmeSCCRef, eu, org, nil}, nil},
		"SCC expired": {TransferRequest{ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2027-03-26T00:00:00Z"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"(scc-acme-inc-2024 expired on 2027-03-26)"}}, nil},
		"SCC not yet signed": {TransferRequest{ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2024-03-25T12:00:00Z"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"(scc-acme-inc-2024 applies only from 2024-03-26)"}}, nil},
		"SCC for a US importer does not cover India": {TransferRequest{ToCountry: "IN", Importer: "Acme Inc", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"=" + acmeInIndia + "; no derogation"}}, nil},
		"another exporter's SCC does not cover the organization": {TransferRequest{Exporter: ag, ToCountry: "US", Importer: "Lapsed Corp", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", ch, ag, []string{"scc-lapsed-2024 is signed by Acme Analytics SAS, not Acme Analytics AG"}}, nil},
		"an importer subject to the GDPR under Art. 3(2) cannot rely on the 2021/914 SCCs": {TransferRequest{ToCountry: "US", Importer: "Orbit Analytics LLC", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{`scc-orbit-2025: the SCCs of Decision (EU) 2021/914 cannot serve importer "Orbit Analytics LLC", whose processing the policy marks subject to the GDPR under Art. 3(2) (gdpr_art3_2; recital 7 and Art. 1 of the decision)`}}, nil},
		"an Art. 3(2) importer with a derogation": {TransferRequest{ToCountry: "US", Importer: "Orbit Analytics LLC", Category: "events", Derogation: "contract"}, now,
			want{DecisionAllowed, MechanismDerogation, "GDPR Art. 49(1)(b) contract with the data subject", eu, org, []string{"Art. 3(2)"}}, nil},
		// BCRs.
		"BCR by group and countries": {TransferRequest{ToCountry: "IN", Importer: "Globex Group", Category: "profile"}, now,
			want{DecisionAllowed, MechanismBCR, globexRef, eu, org, []string{"=" + globexWhy}}, nil},
		"BCR does not cover the country": {TransferRequest{ToCountry: "CN", Importer: "Globex Group", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"no EU adequacy decision for CN; ", "no BCR approved under the EU GDPR (bcr-globex does not cover CN)"}}, nil},
		"BCR expired": {TransferRequest{ToCountry: "SG", Importer: "Globex Group", Category: "profile"}, at("2028-01-10T00:00:00Z"),
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"(bcr-globex expired on 2028-01-10)"}}, nil},
		"BCR not yet approved": {TransferRequest{ToCountry: "IN", Importer: "Initech India", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", eu, org, []string{"(bcr-initech applies only from 2027-01-01)"}}, nil},
		"BCR by importer once approved": {TransferRequest{ToCountry: "IN", Importer: "Initech India", Category: "events"}, at("2027-02-01T00:00:00Z"),
			want{DecisionAllowed, MechanismBCR, "bcr-initech (Binding Corporate Rules, GDPR Art. 47, approval AP-BCR-2026-17)", eu, org, nil}, nil},
		"BCR approved under the UK GDPR too": {TransferRequest{Exporter: ltd, ToCountry: "SG", Importer: "Umbrella Group", Category: "events"}, now,
			want{DecisionAllowed, MechanismBCR, "bcr-umbrella (Binding Corporate Rules, UK GDPR Art. 47, approval ICO-BCR-2024-03)", uk, ltd, nil}, nil},
		"BCR not approved under the FADP": {TransferRequest{Exporter: ag, ToCountry: "SG", Importer: "Umbrella Group", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", ch, ag, []string{"(bcr-umbrella is not approved under the Swiss FADP)"}}, nil},
		// Derogations.
		"derogation": {TransferRequest{ToCountry: "IN", Importer: "Acme Inc", Category: "events", Derogation: "explicit_consent"}, now,
			want{DecisionAllowed, MechanismDerogation, consentRef, eu, org, []string{"=" + acmeInIndia + "; the request relies on the derogation " + consentRef}}, nil},
		"derogation legal claims": {TransferRequest{ToCountry: "IN", Importer: "Acme Inc", Category: "events", Derogation: "legal_claims"}, now,
			want{DecisionAllowed, MechanismDerogation, "GDPR Art. 49(1)(e) legal claims", eu, org, nil}, nil},
		// The UK regime.
		"UK exporter to a US importer with the UK Extension": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Bridge Processor Inc", Category: "profile"}, now,
			want{DecisionAllowed, MechanismDPF, ukExtension, uk, ltd, []string{"=Bridge Processor Inc is certified under the UK Extension to the EU-U.S. Data Privacy Framework until 2027-06-30 (The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028))"}}, nil},
		"UK Extension before it was in force": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Bridge Processor Inc", Category: "profile"}, at("2023-10-11"),
			want{DecisionDenied, MechanismNone, "", uk, ltd, []string{"the UK adequacy regulations for the United States (US) (The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028)) apply only from 2023-10-12"}}, nil},
		"UK Extension from its first day": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Bridge Processor Inc", Category: "profile"}, at("2023-10-12"),
			want{DecisionAllowed, MechanismDPF, ukExtension, uk, ltd, nil}, nil},
		"UK exporter to an EU-US-only DPF importer": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Example Processor Inc", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", uk, ltd, []string{"the UK adequacy regulations for the United States (US) (The Data Protection (Adequacy) (United States of America) Regulations 2023 (SI 2023/1028)) cover only importers certified under the UK Extension to the EU-U.S. Data Privacy Framework, and \"Example Processor Inc\" has no active certification under it (dpf-example-processor does not cover the UK Extension to the EU-U.S. Data Privacy Framework)", "no UK IDTA or Addendum between exporter \"Acme Analytics Ltd\" and importer \"Example Processor Inc\" in US", "no BCR approved under the UK GDPR; no derogation"}}, nil},
		"UK exporter with the Addendum": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Acme Inc", Category: "events"}, now,
			want{DecisionAllowed, MechanismUKAddendum, ukAddendum, uk, ltd, nil}, nil},
		"UK Addendum does not cover the category": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Acme Inc", Category: "profile"}, now,
			want{DecisionDenied, MechanismNone, "", uk, ltd, []string{"(uk-addendum-acme-2025 does not cover category profile)"}}, nil},
		"the organization's SCC does not serve the UK exporter": {TransferRequest{Exporter: ltd, ToCountry: "US", Importer: "Lapsed Corp", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", uk, ltd, nil}, nil},
		"UK exporter with the IDTA": {TransferRequest{Exporter: ltd, ToCountry: "IN", Importer: "Pune Support Pvt Ltd", Category: "events"}, now,
			want{DecisionAllowed, MechanismUKIDTA, ukIDTA, uk, ltd, nil}, nil},
		"UK exporter to Japan cites the preserved decision, not the EU one": {TransferRequest{Exporter: ltd, ToCountry: "JP", Importer: "Sakura KK", Category: "events"}, now,
			want{DecisionAllowed, MechanismAdequacy, "DPA 2018 Schedule 21 (preserved EU adequacy decision: " + japan + ")", uk, ltd, nil}, nil},
		"UK exporter to the EEA is restricted and adequate": {TransferRequest{Exporter: ltd, ToCountry: "FR", Importer: "X", Category: "events"}, now,
			want{DecisionAllowed, MechanismAdequacy, "DPA 2018 Schedule 21 (EEA states and Gibraltar)", uk, ltd, nil}, nil},
		"UK exporter to Korea under the 2022 regulations": {TransferRequest{Exporter: ltd, ToCountry: "KR", Importer: "X", Category: "events"}, at("2022-12-18"),
			want{DecisionDenied, MechanismNone, "", uk, ltd, []string{"apply only from 2022-12-19"}}, nil},
		"UK exporter within the UK": {TransferRequest{Exporter: ltd, ToCountry: "GB", Importer: "X", Category: "events"}, now,
			want{DecisionAllowed, MechanismNone, "", uk, ltd, []string{"=exporter Acme Analytics Ltd (GB) and the importer in GB are both in the United Kingdom (UK GDPR): not a restricted transfer"}}, nil},
		"UK derogation cites the UK GDPR": {TransferRequest{Exporter: ltd, ToCountry: "IN", Importer: "X", Category: "events", Derogation: "explicit_consent"}, now,
			want{DecisionAllowed, MechanismDerogation, "UK GDPR Art. 49(1)(a) explicit consent", uk, ltd, []string{"no UK adequacy regulations for IN"}}, nil},
		// The Swiss regime.
		"Swiss exporter to an EU-US-only DPF importer": {TransferRequest{Exporter: ag, ToCountry: "US", Importer: "Example Processor Inc", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", ch, ag, []string{"covers only importers certified under the Swiss-U.S. Data Privacy Framework", "(dpf-example-processor does not cover the Swiss-U.S. Data Privacy Framework)"}}, nil},
		"Swiss exporter to a Swiss-US DPF importer": {TransferRequest{Exporter: ag, ToCountry: "US", Importer: "Amazon Web Services, Inc.", Category: "events"}, now,
			want{DecisionAllowed, MechanismDPF, swissUS, ch, ag, nil}, nil},
		"Swiss-US DPF before 15 September 2024": {TransferRequest{Exporter: ag, ToCountry: "US", Importer: "Amazon Web Services, Inc.", Category: "events"}, at("2024-09-14"),
			want{DecisionDenied, MechanismNone, "", ch, ag, []string{"applies only from 2024-09-15"}}, nil},
		"Swiss exporter with the EU SCCs, Swiss adaptations": {TransferRequest{Exporter: ag, ToCountry: "US", Importer: "Acme Inc", Category: "events"}, now,
			want{DecisionAllowed, MechanismSCC, swissSCC, ch, ag, nil}, nil},
		"Swiss exporter to the EEA": {TransferRequest{Exporter: ag, ToCountry: "DE", Importer: "X", Category: "events"}, now,
			want{DecisionAllowed, MechanismAdequacy, "Data Protection Ordinance (SR 235.11), Annex 1 (EEA states)", ch, ag, nil}, nil},
		"Swiss exporter to Canada: Annex 1 covers the provincial laws too": {TransferRequest{Exporter: ag, ToCountry: "CA", Importer: "X", Category: "events"}, now,
			want{DecisionAllowed, MechanismAdequacy, "Data Protection Ordinance (SR 235.11), Annex 1", ch, ag, nil}, nil},
		"Swiss exporter to Japan: not listed": {TransferRequest{Exporter: ag, ToCountry: "JP", Importer: "Sakura KK", Category: "events"}, now,
			want{DecisionDenied, MechanismNone, "", ch, ag, []string{"no Swiss adequacy listing for JP"}}, nil},
		"Swiss derogation cites the FADP": {TransferRequest{Exporter: ag, ToCountry: "IN", Importer: "X", Category: "events", Derogation: "legal_claims"}, now,
			want{DecisionAllowed, MechanismDerogation, "FADP Art. 17(1)(c)(2) legal claims", ch, ag, nil}, nil},
		"exporter named in another case": {TransferRequest{Exporter: "  acme analytics ag ", ToCountry: "CH", Importer: "X", Category: "events"}, now,
			want{DecisionAllowed, MechanismNone, "", ch, ag, nil}, nil},
		// Input errors.
		"unknown exporter":        {TransferRequest{Exporter: "Acme Inc", ToCountry: "IN", Importer: "X", Category: "events"}, now, want{}, ErrUnknownExporter},
		"unknown destination":     {TransferRequest{ToCountry: "UK", Importer: "X", Category: "events"}, now, want{}, ErrUnknownCountry},
		"unknown origin":          {TransferRequest{FromCountry: "XX", ToCountry: "IN", Importer: "X", Category: "events"}, now, want{}, ErrUnknownCountry},
		"missing destination":     {TransferRequest{FromCountry: "FR", Importer: "X", Category: "events"}, now, want{}, ErrBadRequest},
		"unknown category":        {TransferRequest{ToCountry: "IN", Importer: "X", Category: "event"}, now, want{}, ErrUnknownCategory},
		"missing category":        {TransferRequest{ToCountry: "IN", Importer: "X"}, now, want{}, ErrBadRequest},
		"missing importer":        {TransferRequest{ToCountry: "IN", Importer: "  ", Category: "events"}, now, want{}, ErrBadRequest},
		"unknown derogation":      {TransferRequest{ToCountry: "IN", Importer: "X", Category: "events", Derogation: "consent"}, now, want{}, ErrBadRequest},
		"group is not a country":  {TransferRequest{ToCountry: "EU", Importer: "X", Category: "events"}, now, want{}, ErrUnknownCountry},
		"lower-case destinations": {TransferRequest{FromCountry: "fr", ToCountry: "br", Importer: "X", Category: "events"}, now, want{DecisionAllowed, MechanismAdequacy, brazil, eu, org, nil}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := p.Transfer(c.req, c.now)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("expect error %v, got %v", c.wantErr, err)
			}
			if c.wantErr != nil {
				return
			}
			w := TransferDecision{Restricted: c.want.mechanism != MechanismNone || c.want.decision == DecisionDenied,
				Decision: c.want.decision, Mechanism: c.want.mechanism, Reference: c.want.reference, Exporter: c.want.exporter, Regime: c.want.regime,
				FromCountry: strings.ToUpper(c.req.FromCountry), Reason: got.Reason}
			for _, part := range c.want.reason {
				if whole, ok := strings.CutPrefix(part, "="); ok {
					w.Reason = whole
				} else if !strings.Contains(got.Reason, part) {
					t.Errorf("expect the reason to say %q, got %q", part, got.Reason)
				}
			}
			if diff := cmp.Diff(w, got); diff != "" {
				t.Errorf("decision mismatch (-expect +got):\n%s", diff)
			}
		})
	}
}

func TestTransferErrorMessages(t *testing.T) {
	p := MustExample()
	now := time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		req  TransferRequest
		want string
	}{
		"hint":       {TransferRequest{ToCountry: "UK", Importer: "X", Category: "events"}, `to country "UK": unknown country (did you mean GB?)`},
		"no hint":    {TransferRequest{ToCountry: "ZZ", Importer: "X", Category: "events"}, `to country "ZZ": unknown country`},
		"category":   {TransferRequest{ToCountry: "IN", Importer: "X", Category: "x"}, `category "x": unknown category`},
		"derogation": {TransferRequest{ToCountry: "IN", Importer: "X", Category: "events", Derogation: "consent"}, `derogation "consent": bad request: use one of contract, contract_in_interest, explicit_consent, legal_claims, public_interest, public_register, vital_interests`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := p.Transfer(c.req, now)
			if err == nil || err.Error() != c.want {
				t.Errorf("expect %q, got %v", c.want, err)
			}
		})
	}
	noOrg := &Policy{Categories: map[string]Category{"c": {Name: "c", Personal: true}}}
	if _, err := noOrg.Transfer(TransferRequest{ToCountry: "IN", Importer: "X", Category: "c"}, now); !errors.Is(err, ErrBadRequest) {
		t.Errorf("expect ErrBadRequest without a from country or organization, got %v", err)
	}
}

func TestDuration(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Duration
		wantErr bool
	}{
		"days":          {"30d", Duration{30, "d"}, false},
		"weeks":         {"6w", Duration{6, "w"}, false},
		"months":        {"13mo", Duration{13, "mo"}, false},
		"years":         {"10y", Duration{10, "y"}, false},
		"leading zeros": {"07d", Duration{7, "d"}, false},
		"minutes":       {"13m", Duration{}, true},
		"no number":     {"x", Duration{}, true},
		"no unit":       {"13", Duration{}, true},
		"zero":          {"0d", Duration{}, true},
		"negative":      {"-1d", Duration{}, true},
		"space":         {"1 d", Duration{}, true},
		"upper case":    {"1D", Duration{}, true},
		"hours":         {"24h", Duration{}, true},
		"too large":     {"999999999999999999999y", Duration{}, true},
		"empty":         {"", Duration{}, true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDuration(c.in)
			if (err != nil) != c.wantErr {
				t.Fatalf("ParseDuration(%q): expect error %v, got %v", c.in, c.wantErr, err)
			}
			if got != c.want {
				t.Errorf("ParseDuration(%q): expect %+v, got %+v", c.in, c.want, got)
			}
			if err == nil && got.String() != strings.TrimLeft(c.in, "0") {
				t.Errorf("String: expect %q, got %q", strings.TrimLeft(c.in, "0"), got.String())
			}
		})
	}
}

func TestDurationAddTo(t *testing.T) {
	cases := map[string]struct {
		d        Duration
		from, to string
	}{
		"days":              {Duration{30, "d"}, "2026-01-15", "2026-02-14"},
		"weeks":             {Duration{2, "w"}, "2026-01-15", "2026-01-29"},
		"months":            {Duration{13, "mo"}, "2026-01-15", "2027-02-15"},
		"months from 31st":  {Duration{1, "mo"}, "2026-01-31", "2026-03-03"},
		"years":             {Duration{10, "y"}, "2026-01-15", "2036-01-15"},
		"leap day one year": {Duration{1, "y"}, "2028-02-29", "2029-03-01"},
		"zero":              {Duration{}, "2026-01-15", "2026-01-15"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.d.AddTo(date(c.from)); !got.Equal(date(c.to)) {
				t.Errorf("%v after %s: expect %s, got %s", c.d, c.from, c.to, got.Format(time.DateOnly))
			}
		})
	}
	if !(Duration{}).IsZero() || (Duration{1, "d"}).IsZero() {
		t.Error("expect IsZero only for the zero Duration")
	}
}

func TestRetainUntil(t *testing.T) {
	p := loadTestPolicy(t, "transfer.yaml")
	created, seen, ended := date("2026-01-15"), date("2026-06-01"), date("2026-09-30")
	cases := map[string]struct {
		category                 string
		created, seen, contracts time.Time
		want                     string
		ok                       bool
	}{
		"from created":         {"profile", created, seen, ended, "2028-02-15", true},
		"default from created": {"events", created, seen, ended, "2027-02-15", true},
		"from last activity":   {"sessions", created, seen, ended, "2026-07-01", true},
		"from contract end":    {"billing", created, seen, ended, "2036-09-30", true},
		"contract not ended":   {"billing", created, seen, time.Time{}, "", false},
		"no last activity":     {"sessions", created, time.Time{}, ended, "", false},
		"non-personal":         {"aggregates", created, seen, ended, "", false},
		"unknown category":     {"nope", created, seen, ended, "", false},
		"created zero":         {"profile", time.Time{}, seen, ended, "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := p.RetainUntil(c.category, c.created, c.seen, c.contracts)
			if ok != c.ok {
				t.Fatalf("expect ok %v, got %v", c.ok, ok)
			}
			if ok && !got.Equal(date(c.want)) {
				t.Errorf("expect %s, got %s", c.want, got.Format(time.DateOnly))
			}
		})
	}
}

func TestLookups(t *testing.T) {
	p := loadTestPolicy(t, "transfer.yaml")
	t.Run("HasRegion", func(t *testing.T) {
		for r, want := range map[string]bool{"eu-west-2": true, "ap-south-1": true, "eu-north-1": false, "": false} {
			if got := p.HasRegion(r); got != want {
				t.Errorf("HasRegion(%q): expect %v, got %v", r, want, got)
			}
		}
	})
	t.Run("Category", func(t *testing.T) {
		c, ok := p.Category("sessions")
		if !ok || c.From != FromLastActivity || c.Retention != (Duration{30, "d"}) {
			t.Errorf("expect sessions from last_activity for 30d, got %+v, %v", c, ok)
		}
		if _, ok := p.Category("nope"); ok {
			t.Error("expect no category nope")
		}
	})
	t.Run("SourceByName", func(t *testing.T) {
		cases := map[string]struct{ name, wantLine string }{
			"table":   {"users", "30"},
			"bucket":  {"acme-exports", "38"},
			"unknown": {"orders", ""},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				s, ok := p.SourceByName(c.name)
				if ok != (c.wantLine != "") {
					t.Fatalf("expect found %v, got %v", c.wantLine != "", ok)
				}
				if ok && strconv.Itoa(s.Line) != c.wantLine {
					t.Errorf("expect the source at line %s, got %d", c.wantLine, s.Line)
				}
				if ok && s.Name() != c.name {
					t.Errorf("expect Name %q, got %q", c.name, s.Name())
				}
			})
		}
	})
	t.Run("SourceForObject", func(t *testing.T) {
		cases := map[string]struct{ bucket, key, wantCategory string }{
			"longest prefix":    {"acme-exports", "users/billing/2026/x.json", "billing"},
			"shorter prefix":    {"acme-exports", "users/42.json", "profile"},
			"empty prefix":      {"acme-exports", "exports/e.csv", "events"},
			"other bucket":      {"other", "users/42.json", ""},
			"table is no match": {"users", "x", ""},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				s, ok := p.SourceForObject(c.bucket, c.key)
				if ok != (c.wantCategory != "") {
					t.Fatalf("expect found %v, got %v", c.wantCategory != "", ok)
				}
				if ok && s.Category != c.wantCategory {
					t.Errorf("expect category %q, got %q", c.wantCategory, s.Category)
				}
			})
		}
	})
}

func TestWarnings(t *testing.T) {
	p := loadTestPolicy(t, "transfer.yaml")
	const (
		lapsedDPF = "74: mechanisms[2]: dpf-lapsed certification ended (last day 2025-12-31): transfers relying on it are denied"
		noTIA     = "78: mechanisms[3].tia: scc-lapsed-2024 has no transfer impact assessment: SCC Clause 14 requires one, documented and available to the supervisory authority on request"
		noTRA     = "125: mechanisms[10].tia: uk-idta-maple-2025 has no transfer risk assessment: the ICO expects one before relying on the IDTA or the Addendum"
	)
	cases := map[string]struct {
		now  string
		want []string
	}{
		"today":                       {"2026-11-05T00:00:00Z", []string{lapsedDPF, noTIA, noTRA}},
		"a second more than 90 days":  {"2026-12-25T23:59:59Z", []string{lapsedDPF, noTIA, noTRA}},
		"90 days before the SCC ends": {"2026-12-26T00:00:00Z", []string{"62: mechanisms[0]: scc-acme-inc-2024 expires in 90 days (last day 2027-03-25): renew it", lapsedDPF, noTIA, noTRA}},
		"the SCC's last second":       {"2027-03-25T23:59:59Z", []string{"62: mechanisms[0]: scc-acme-inc-2024 expires in 1 day (last day 2027-03-25): renew it", lapsedDPF, noTIA, noTRA}},
		"the SCC has expired":         {"2027-03-26T00:00:00Z", []string{"62: mechanisms[0]: scc-acme-inc-2024 expired (last day 2027-03-25): transfers relying on it are denied", lapsedDPF, noTIA, noTRA}},
		"before the lapsed DPF ended": {"2025-12-31T23:59:59Z", []string{"74: mechanisms[2]: dpf-lapsed certification ends in 1 day (last day 2025-12-31): renew it", noTIA, noTRA}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			now, err := time.Parse(time.RFC3339, c.now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Warnings(now) {
				got = append(got, strings.TrimPrefix(w.Error(), "testdata/transfer.yaml:"))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("warnings mismatch (-expect +got):\n%s", diff)
			}
		})
	}
	if got := p.Expiring(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)); len(got) != 1 || got[0].ID != "scc-acme-inc-2024" {
		t.Errorf("expect scc-acme-inc-2024 alone expiring in the first quarter of 2027, got %v", got)
	}
}
