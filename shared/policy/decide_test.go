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
	now := time.Date(2026, 11, 5, 10, 0, 0, 0, time.UTC)
	allowed := func(mech, ref, reason string) TransferDecision {
		return TransferDecision{Restricted: true, Decision: DecisionAllowed, Mechanism: mech, Reference: ref, Reason: reason}
	}
	denied := func(reason string) TransferDecision {
		return TransferDecision{Restricted: true, Decision: DecisionDenied, Mechanism: MechanismNone, Reason: reason}
	}
	notRestricted := func(reason string) TransferDecision {
		return TransferDecision{Decision: DecisionAllowed, Mechanism: MechanismNone, Reason: reason}
	}
	const (
		acmeSCC     = "SCC Module 2 (controller to processor) agreement scc-acme-inc-2024 between Acme Analytics SAS (FR) and Acme Inc (US), in force from 2024-03-26 until 2027-03-26, transfer impact assessment TIA-2024-07"
		acmeSCCRef  = "scc-acme-inc-2024 (SCC Module 2, TIA TIA-2024-07)"
		dpfRef      = "dpf-example-processor (Decision (EU) 2023/1795)"
		dpfReason   = "Example Processor Inc is certified under the EU-US Data Privacy Framework until 2027-06-30 (Commission Implementing Decision (EU) 2023/1795)"
		usDPFOnly   = "the US adequacy decision (Commission Implementing Decision (EU) 2023/1795) covers only DPF-certified importers, and "
		globexRef   = "bcr-globex (BCR, approval CNIL-BCR-2023-01)"
		globexWhy   = "Binding Corporate Rules of Globex Group (bcr-globex), approved 2023-01-10, reference CNIL-BCR-2023-01, until 2028-01-10"
		initechRef  = "bcr-initech (BCR, approval AP-BCR-2026-17)"
		initechWhy  = "Binding Corporate Rules of Initech (bcr-initech), approved 2027-01-01, reference AP-BCR-2026-17"
		consentRef  = "GDPR Art. 49(1)(a) explicit consent"
		acmeInIndia = `no adequacy decision for IN; no SCC agreement with importer "Acme Inc" in IN (scc-acme-inc-2024 covers Acme Inc in US); no BCR`
	)
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	cases := map[string]struct {
		req     TransferRequest
		now     time.Time
		want    TransferDecision
		wantErr error
	}{
		"non-personal category": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "X", Category: "aggregates"}, now,
			notRestricted("category aggregates is not personal data: not a restricted transfer"), nil},
		"same country": {TransferRequest{FromCountry: "US", ToCountry: "US", Importer: "X", Category: "profile"}, now,
			notRestricted("the data stays in US: not a restricted transfer"), nil},
		"intra-EEA": {TransferRequest{FromCountry: "FR", ToCountry: "DE", Importer: "X", Category: "profile"}, now,
			notRestricted("FR and DE are both in the EEA: not a restricted transfer"), nil},
		"into the EEA": {TransferRequest{FromCountry: "GB", ToCountry: "NO", Importer: "X", Category: "profile"}, now,
			notRestricted("destination NO is in the EEA: not a restricted transfer"), nil},
		"adequacy Japan, from the organization's country": {TransferRequest{ToCountry: "JP", Importer: "X", Category: "profile"}, now,
			allowed(MechanismAdequacy, "Commission Implementing Decision (EU) 2019/419", "adequacy decision for Japan (JP): Commission Implementing Decision (EU) 2019/419; it covers private-sector business operators (APPI, with the Supplementary Rules)"), nil},
		"adequacy UK": {TransferRequest{FromCountry: "FR", ToCountry: "GB", Importer: "X", Category: "profile"}, now,
			allowed(MechanismAdequacy, "Commission Implementing Decision (EU) 2021/1772, renewed December 2025", "adequacy decision for United Kingdom (GB): Commission Implementing Decision (EU) 2021/1772, renewed December 2025"), nil},
		"adequacy Canada, commercial": {TransferRequest{FromCountry: "FR", ToCountry: "CA", Importer: "X", Category: "events"}, now,
			allowed(MechanismAdequacy, "Commission Decision 2002/2/EC", "adequacy decision for Canada (CA): Commission Decision 2002/2/EC; it covers commercial organisations (PIPEDA)"), nil},
		"adequacy Brazil": {TransferRequest{FromCountry: "FR", ToCountry: "BR", Importer: "X", Category: "events"}, now,
			allowed(MechanismAdequacy, "Commission Implementing Decision (EU) 2026/179", "adequacy decision for Brazil (BR): Commission Implementing Decision (EU) 2026/179"), nil},
		"adequacy wins over a derogation": {TransferRequest{FromCountry: "FR", ToCountry: "CH", Importer: "X", Category: "events", Derogation: "explicit_consent"}, now,
			allowed(MechanismAdequacy, "Commission Decision 2000/518/EC", "adequacy decision for Switzerland (CH): Commission Decision 2000/518/EC"), nil},
		"US with DPF": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, now,
			allowed(MechanismDPF, dpfRef, dpfReason), nil},
		"DPF importer name case and space": {TransferRequest{FromCountry: "FR", ToCountry: "us", Importer: "  example PROCESSOR inc ", Category: "billing"}, now,
			allowed(MechanismDPF, dpfRef, dpfReason), nil},
		"DPF on its last day": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-06-30T23:59:59Z"),
			allowed(MechanismDPF, dpfRef, dpfReason), nil},
		"DPF the day after": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-07-01T00:00:00Z"),
			denied(usDPFOnly + `"Example Processor Inc" has no active DPF certification (dpf-example-processor was certified only until 2027-06-30); no SCC agreement with importer "Example Processor Inc" in US (scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US); no BCR; no derogation`), nil},
		"DPF in another time zone": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Example Processor Inc", Category: "billing"}, at("2027-06-30T20:00:00-05:00"),
			denied(usDPFOnly + `"Example Processor Inc" has no active DPF certification (dpf-example-processor was certified only until 2027-06-30); no SCC agreement with importer "Example Processor Inc" in US (scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US); no BCR; no derogation`), nil},
		"expired DPF falls through to SCC": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Lapsed Corp", Category: "billing"}, now,
			allowed(MechanismSCC, "scc-lapsed-2024 (SCC Module 1)", "SCC Module 1 (controller to controller) agreement scc-lapsed-2024 between Acme Analytics SAS (FR) and Lapsed Corp (US), in force from 2024-01-01 until 2030-01-01"), nil},
		"US without DPF, with SCC": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "events"}, now,
			allowed(MechanismSCC, acmeSCCRef, acmeSCC), nil},
		"SCC wins over a derogation": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "acme inc", Category: "profile", Derogation: "explicit_consent"}, now,
			allowed(MechanismSCC, acmeSCCRef, acmeSCC), nil},
		"SCC does not cover the category": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "billing"}, now,
			denied(usDPFOnly + `"Acme Inc" has no active DPF certification; no SCC agreement with importer "Acme Inc" in US (scc-acme-inc-2024 does not cover category billing); no BCR; no derogation`), nil},
		"SCC for a US importer does not cover India": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Acme Inc", Category: "events"}, now,
			denied(acmeInIndia + "; no derogation"), nil},
		"SCC on its last day": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2027-03-25T23:59:59Z"),
			allowed(MechanismSCC, acmeSCCRef, acmeSCC), nil},
		"SCC expired": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2027-03-26T00:00:00Z"),
			denied(usDPFOnly + `"Acme Inc" has no active DPF certification; no SCC agreement with importer "Acme Inc" in US (scc-acme-inc-2024 expired on 2027-03-26); no BCR; no derogation`), nil},
		"SCC not yet signed": {TransferRequest{FromCountry: "FR", ToCountry: "US", Importer: "Acme Inc", Category: "events"}, at("2024-03-25T12:00:00Z"),
			denied(usDPFOnly + `"Acme Inc" has no active DPF certification; no SCC agreement with importer "Acme Inc" in US (scc-acme-inc-2024 applies only from 2024-03-26); no BCR; no derogation`), nil},
		"BCR by group and countries": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Globex Group", Category: "profile"}, now,
			allowed(MechanismBCR, globexRef, globexWhy), nil},
		"BCR does not cover the country": {TransferRequest{FromCountry: "FR", ToCountry: "CN", Importer: "Globex Group", Category: "profile"}, now,
			denied(`no adequacy decision for CN; no SCC agreement with importer "Globex Group" in CN (scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US); no BCR (bcr-globex does not cover CN); no derogation`), nil},
		"BCR expired": {TransferRequest{FromCountry: "FR", ToCountry: "SG", Importer: "Globex Group", Category: "profile"}, at("2028-01-10T00:00:00Z"),
			denied(`no adequacy decision for SG; no SCC agreement with importer "Globex Group" in SG (scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US); no BCR (bcr-globex expired on 2028-01-10); no derogation`), nil},
		"BCR not yet approved": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Initech India", Category: "events"}, now,
			denied(`no adequacy decision for IN; no SCC agreement with importer "Initech India" in IN (scc-acme-inc-2024 covers Acme Inc in US, scc-lapsed-2024 covers Lapsed Corp in US); no BCR (bcr-initech applies only from 2027-01-01); no derogation`), nil},
		"BCR by importer once approved": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Initech India", Category: "events"}, at("2027-02-01T00:00:00Z"),
			allowed(MechanismBCR, initechRef, initechWhy), nil},
		"derogation": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Acme Inc", Category: "events", Derogation: "explicit_consent"}, now,
			allowed(MechanismDerogation, consentRef, acmeInIndia+"; the request relies on the derogation "+consentRef), nil},
		"derogation legal claims": {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "Acme Inc", Category: "events", Derogation: "legal_claims"}, now,
			allowed(MechanismDerogation, "GDPR Art. 49(1)(e) legal claims", acmeInIndia+"; the request relies on the derogation GDPR Art. 49(1)(e) legal claims"), nil},
		"unknown destination":     {TransferRequest{FromCountry: "FR", ToCountry: "UK", Importer: "X", Category: "events"}, now, TransferDecision{}, ErrUnknownCountry},
		"unknown origin":          {TransferRequest{FromCountry: "XX", ToCountry: "IN", Importer: "X", Category: "events"}, now, TransferDecision{}, ErrUnknownCountry},
		"missing destination":     {TransferRequest{FromCountry: "FR", Importer: "X", Category: "events"}, now, TransferDecision{}, ErrBadRequest},
		"unknown category":        {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "X", Category: "event"}, now, TransferDecision{}, ErrUnknownCategory},
		"missing category":        {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "X"}, now, TransferDecision{}, ErrBadRequest},
		"missing importer":        {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "  ", Category: "events"}, now, TransferDecision{}, ErrBadRequest},
		"unknown derogation":      {TransferRequest{FromCountry: "FR", ToCountry: "IN", Importer: "X", Category: "events", Derogation: "consent"}, now, TransferDecision{}, ErrBadRequest},
		"group is not a country":  {TransferRequest{FromCountry: "FR", ToCountry: "EU", Importer: "X", Category: "events"}, now, TransferDecision{}, ErrUnknownCountry},
		"lower-case destinations": {TransferRequest{FromCountry: "fr", ToCountry: "jp", Importer: "X", Category: "events"}, now, allowed(MechanismAdequacy, "Commission Implementing Decision (EU) 2019/419", "adequacy decision for Japan (JP): Commission Implementing Decision (EU) 2019/419; it covers private-sector business operators (APPI, with the Supplementary Rules)"), nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := p.Transfer(c.req, c.now)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("expect error %v, got %v", c.wantErr, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
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
