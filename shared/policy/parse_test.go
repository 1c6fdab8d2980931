package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseExample(t *testing.T) {
	got := MustExample()
	acme := Party{Name: "Acme Analytics SAS", Role: Controller, Country: "FR"}
	ltd := Party{Name: "Acme Analytics Ltd", Role: Controller, Country: "GB"}
	want := &Policy{
		File:           "example.yaml",
		Version:        "2026-11-01",
		Organization:   acme,
		Regions:        []string{"eu-central-1", "eu-west-1", "us-east-1"},
		UnknownSubject: UnknownStrictest,
		Rules: []Rule{
			{Subjects: []string{"EEA", "CH"}, Home: "eu-central-1", Allowed: []string{"eu-central-1", "eu-west-1"}, OnViolation: ActionRelocate, Line: 5},
			{Subjects: []string{"GB"}, Home: "eu-west-1", Allowed: []string{"eu-west-1", "eu-central-1"}, OnViolation: ActionRelocate, Line: 9},
			{Subjects: []string{"ANY"}, Home: "us-east-1", AnyAllowed: true, OnViolation: ActionRelocate, Line: 13},
		},
		Categories: map[string]Category{
			"profile":    {Name: "profile", Personal: true, Retention: Duration{25, "mo"}, From: FromCreated, Line: 18},
			"events":     {Name: "events", Personal: true, Retention: Duration{13, "mo"}, From: FromCreated, Line: 19},
			"billing":    {Name: "billing", Personal: true, Retention: Duration{10, "y"}, From: FromCreated, Line: 20},
			"aggregates": {Name: "aggregates", Line: 21},
		},
		Sources: []Source{
			{Table: "users", Key: []string{"pk", "sk"}, SubjectID: "user_id", SubjectCountry: "country", Category: "profile",
				CreatedAt: "created_at", LastActivity: "last_seen_at", Contract: "account_id", TTLAttribute: "expires_at", Line: 23},
			{Buckets: map[string]string{"eu-central-1": "acme-exports-eu", "eu-west-1": "acme-exports", "us-east-1": "acme-exports-us"}, Prefix: "users/", SubjectID: "subject-id", SubjectCountry: "subject-country", Category: "events", Line: 32},
		},
		Mechanisms: []Mechanism{
			{ID: "scc-acme-inc-2024", Type: TypeSCC, Module: 2, Exporter: acme,
				Importer: Party{Name: "Acme Inc", Role: Processor, Country: "US"},
				Signed:   date("2024-03-26"), Expires: date("2027-03-26"), TIA: "TIA-2024-07",
				Categories: []string{"events", "profile"}, Line: 38},
			{ID: "dpf-example-processor", Type: TypeDPF, Importer: Party{Name: "Example Processor Inc", Country: "US"},
				CertifiedUntil: date("2027-06-30"), UKExtension: true, Line: 47},
			{ID: "dpf-aws", Type: TypeDPF, Importer: Party{Name: "Amazon Web Services, Inc.", Country: "US"},
				CertifiedUntil: date("2027-09-30"), UKExtension: true, SwissUS: true, Line: 53},
			{ID: "uk-addendum-acme-2025", Type: TypeUKAddendum, Module: 2, Exporter: ltd,
				Importer: Party{Name: "Acme Inc", Role: Processor, Country: "US"},
				Signed:   date("2025-03-01"), Expires: date("2028-03-01"), TIA: "TIA-2025-02",
				Categories: []string{"events"}, Line: 59},
		},
		Entities: []Party{ltd},
		Importers: []Importer{
			{Name: "Maple Data Inc", Country: "CA", AdequacyScope: "PIPEDA", Line: 71},
			{Name: "Orbit Analytics LLC", Country: "US", GDPRArt32: true, Line: 72},
			{Name: "Tokyo Insights KK", Country: "JP", AdequacyScope: "APPI", Line: 73},
		},
		Hosting: &Hosting{Name: "Amazon Web Services, Inc.", Country: "US", Mechanism: "dpf-aws", Line: 74},
		SHA256:  fileSHA256(t, "example.yaml"),
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Policy{})); diff != "" {
		t.Errorf("example policy mismatch (-expect +got):\n%s", diff)
	}
}

func TestMustExamplePanicsOnBrokenEmbed(t *testing.T) {
	saved := Example
	defer func() { Example = saved }()
	Example = []byte("version: [")
	defer func() {
		if r := recover(); r == nil {
			t.Error("expect a panic for a broken embedded example, got none")
		}
	}()
	MustExample()
}

// mutate replaces, in Appendix A's example, each old (which must occur once)
// by its new text, keeping the other lines where they are.
func mutate(t *testing.T, pairs ...string) []byte {
	t.Helper()
	s := string(Example)
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("expect %q once in the example, got %d", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return []byte(s)
}

const bcrMechanism = `
  - id: bcr-acme-group
    type: bcr
    group: Acme Group
    countries: [IN, US]
    approved: 2023-01-10
    reference: CNIL-BCR-2023-01
`

func TestParseErrors(t *testing.T) {
	const dpfEnd = "    certified_until: 2027-06-30\n"
	// dpfBlockEnd is the last line of the example's second mechanism.
	const dpfBlockEnd = "    swiss_us: false                   # Swiss-U.S. DPF\n"
	cases := map[string]struct {
		pairs []string
		want  []string // "line: field: message", the file name left out
	}{
		"missing version": {
			[]string{`version: "2026-11-01"`, `# version: "2026-11-01"`},
			[]string{`1: version: missing`}},
		"empty version": {
			[]string{`version: "2026-11-01"`, `version: ""`},
			[]string{`1: version: must not be empty`}},
		"unknown organization country": {
			[]string{`country: FR, role: controller}  # default exporter`, `country: UK, role: controller}`},
			[]string{`2: organization.country: unknown country code "UK" (did you mean GB?)`}},
		"lower-case organization country": {
			[]string{`country: FR, role: controller}  # default exporter`, `country: fr, role: controller}`},
			[]string{`2: organization.country: unknown country code "fr" (use upper case FR)`}},
		"organization group": {
			[]string{`country: FR, role: controller}  # default exporter`, `country: EEA, role: controller}`},
			[]string{`2: organization.country: unknown country code "EEA" (EEA is a group of countries, not a country code)`}},
		"unknown region in regions": {
			[]string{`us-east-1]   #`, `us-east-1, eu-centrl-1]   #`},
			[]string{`3: regions: unknown region "eu-centrl-1" (did you mean eu-central-1?)`}},
		"region listed twice": {
			[]string{`us-east-1]   #`, `us-east-1, eu-west-1]   #`},
			[]string{`3: regions: eu-west-1 is listed twice (first at line 3)`}},
		"unknown home region": {
			[]string{"    home: eu-west-1\n", "    home: eu-centrl-1\n"},
			[]string{`10: residency[1].home: unknown region "eu-centrl-1" (did you mean eu-central-1?)`}},
		"home not in regions": {
			[]string{"    home: eu-west-1\n", "    home: eu-west-2\n"},
			[]string{`10: residency[1].home: region "eu-west-2" is not one of regions: add it there, or did you mean eu-west-1?`}},
		"unknown allowed region": {
			[]string{"    allowed: [eu-central-1, eu-west-1]", "    allowed: [eu-central-1, eu-west-9]"},
			[]string{`7: residency[0].allowed: unknown region "eu-west-9" (did you mean eu-west-1?)`}},
		"home not in allowed": {
			[]string{"    allowed: [eu-central-1, eu-west-1]", "    allowed: [eu-west-1]"},
			[]string{`7: residency[0].allowed: does not include the rule's home region eu-central-1`}},
		"ANY not alone in allowed": {
			[]string{"    allowed: [eu-central-1, eu-west-1]", "    allowed: [ANY, eu-west-1]"},
			[]string{`7: residency[0].allowed: ANY allows every region: list it alone`}},
		"unknown subject country": {
			[]string{"  - subjects: [GB]", "  - subjects: [UK]"},
			[]string{`9: residency[1].subjects: unknown country code or group "UK" (did you mean GB?)`}},
		"lower-case group": {
			[]string{"[EEA, CH]", "[eea, CH]"},
			[]string{`5: residency[0].subjects: unknown country code or group "eea" (use upper case EEA)`}},
		"unknown group": {
			[]string{"[EEA, CH]", "[EFTA, CH]"},
			[]string{`5: residency[0].subjects: unknown country code or group "EFTA" (use ISO 3166-1 alpha-2 codes, or the groups EEA, EU, ANY)`}},
		"subjects not a list": {
			[]string{"[EEA, CH]", "EEA"},
			[]string{`5: residency[0].subjects: must be a list, e.g. [a, b], not "EEA"`}},
		"rule shadowed by ANY": {
			[]string{"  - subjects: [GB]", "  - subjects: [ANY]"},
			[]string{`13: residency[2].subjects: rule never matches: residency[1] matches ANY subject first`}},
		"rule shadowed by groups": {
			[]string{"  - subjects: [GB]", "  - subjects: [EU, CH]"},
			[]string{`9: residency[1].subjects: rule never matches: residency[0] matches all its subjects first`}},
		"subject shadowed": {
			[]string{"  - subjects: [GB]", "  - subjects: [GB, DE]"},
			[]string{`9: residency[1].subjects: DE never matches: residency[0] matches it first`}},
		"bad on_violation": {
			[]string{"    on_violation: relocate            # relocate | quarantine | alert", "    on_violation: delete"},
			[]string{`8: residency[0].on_violation: unknown action "delete": use relocate, quarantine or alert`}},
		"typo in on_violation": {
			[]string{"    on_violation: relocate            # relocate | quarantine | alert", "    on_violation: relocte"},
			[]string{`8: residency[0].on_violation: unknown action "relocte": did you mean relocate? use relocate, quarantine or alert`}},
		"typo in unknown_subject": {
			[]string{"unknown_subject: strictest", "unknown_subject: strictst"},
			[]string{`16: unknown_subject: unknown value "strictst": did you mean strictest? use strictest (treat as EEA) or reject`}},
		"typo in from": {
			[]string{"retention: 25mo, from: created", "retention: 25mo, from: last_activty"},
			[]string{`18: categories.profile.from: unknown trigger "last_activty": did you mean last_activity? use created, last_activity or contract_end`}},
		"typo in a mechanism": {
			[]string{"mechanism: dpf-aws}", "mechanism: dpf-asw}"},
			[]string{`74: hosting.mechanism: unknown mechanism "dpf-asw" (did you mean dpf-aws?)`}},
		"typo in rule field": {
			[]string{"    allowed: [eu-west-1, eu-central-1]", "    alowed: [eu-west-1, eu-central-1]"},
			[]string{`9: residency[1].allowed: missing`, `11: residency[1].alowed: unknown field (did you mean allowed?)`}},
		"bad unknown_subject": {
			[]string{"unknown_subject: strictest", "unknown_subject: lenient"},
			[]string{`16: unknown_subject: unknown value "lenient": use strictest (treat as EEA) or reject`}},
		"duration in minutes": {
			[]string{"retention: 13mo", "retention: 13m"},
			[]string{`19: categories.events.retention: invalid duration "13m": unit m is ambiguous: use mo for months`}},
		"duration without number": {
			[]string{"retention: 13mo", "retention: x"},
			[]string{`19: categories.events.retention: invalid duration "x": want a positive number and a unit d, w, mo or y, e.g. 13mo`}},
		"zero duration": {
			[]string{"retention: 13mo", "retention: 0d"},
			[]string{`19: categories.events.retention: invalid duration "0d": must be positive`}},
		"bad from": {
			[]string{"retention: 25mo, from: created", "retention: 25mo, from: signup"},
			[]string{`18: categories.profile.from: unknown trigger "signup": use created, last_activity or contract_end`}},
		"personal without retention": {
			[]string{"{personal: true, retention: 10y,  from: created}", "{personal: true}"},
			[]string{`20: categories.billing.retention: missing: personal data needs a retention period, e.g. 13mo`}},
		"non-personal with retention": {
			[]string{"{personal: false}", "{personal: false, retention: 1y}"},
			[]string{`21: categories.aggregates.retention: a non-personal category has no retention period: remove it or set personal: true`}},
		"personal not a bool": {
			[]string{"{personal: false}", "{personal: no}"},
			[]string{`21: categories.aggregates.personal: must be true or false, not "no"`}},
		"typo in source field": {
			[]string{"    subject_id: user_id               # attribute names inside the record", "    subject_ib: user_id"},
			[]string{`23: sources[0].subject_id: missing`, `25: sources[0].subject_ib: unknown field (did you mean subject_id?)`}},
		"table and bucket": {
			[]string{"    created_at: created_at", "    bucket: users-bucket"},
			[]string{`28: sources[0].bucket: a source is a table or a bucket, not both`}},
		"neither table nor bucket": {
			[]string{"  - table: users                      # DynamoDB table, same name in every region", "  - # no table"},
			[]string{`24: sources[0]: missing table or bucket`}},
		"empty table": {
			[]string{"  - table: users                      # DynamoDB table, same name in every region", "  - table:"},
			[]string{`23: sources[0].table: must not be empty`}},
		"table without key": {
			[]string{"    key: [pk, sk]", "    # no key"},
			[]string{`23: sources[0].key: missing: the table's key attributes, e.g. [pk, sk]`}},
		"bucket with key": {
			[]string{"    prefix: users/", "    key: [name]"},
			[]string{`33: sources[1].key: key applies to tables only (an S3 object is found by bucket and prefix)`}},
		"bucket and buckets": {
			[]string{"    prefix: users/", "    bucket: acme-exports"},
			[]string{`32: sources[1].buckets: a source names one bucket or its bucket per region, not both: keep buckets: {REGION: NAME, ...}`}},
		"table and buckets": {
			[]string{"    created_at: created_at", "    buckets: {eu-west-1: users-bucket}"},
			[]string{`28: sources[0].buckets: a source is a table or a bucket, not both`}},
		"buckets in a region not deployed": {
			[]string{"eu-west-1: acme-exports,", "eu-west-2: acme-exports,"},
			[]string{`32: sources[1].buckets.eu-west-2: region "eu-west-2" is not one of regions: add it there, or did you mean eu-west-1?`}},
		"buckets in an unknown region": {
			[]string{"eu-west-1: acme-exports,", "eu-wst-1: acme-exports,"},
			[]string{`32: sources[1].buckets.eu-wst-1: unknown region "eu-wst-1" (did you mean eu-west-1?)`}},
		"one bucket for two regions": {
			[]string{"us-east-1: acme-exports-us}", "us-east-1: acme-exports}"},
			[]string{`32: sources[1].buckets.us-east-1: bucket acme-exports is already the bucket of eu-west-1: S3 bucket names are global, so each region has a bucket of its own`}},
		"invalid bucket name": {
			[]string{"us-east-1: acme-exports-us}", "us-east-1: Acme_Exports}"},
			[]string{`32: sources[1].buckets.us-east-1: invalid S3 bucket name "Acme_Exports": 3-63 characters a-z, 0-9, . and -, beginning and ending with a letter or digit`}},
		"buckets not a mapping": {
			[]string{"{eu-central-1: acme-exports-eu, eu-west-1: acme-exports, us-east-1: acme-exports-us}", "[acme-exports]"},
			[]string{`32: sources[1].buckets: must be a mapping of regions to bucket names, e.g. {eu-central-1: acme-exports-eu, us-east-1: acme-exports-us}, not a list`}},
		"a bucket watched twice": {
			[]string{"    category: events\nmechanisms:", "    category: events\n  - bucket: acme-exports-us\n    prefix: users/\n    subject_id: s\n    subject_country: c\n    category: events\nmechanisms:"},
			[]string{`37: sources[2]: bucket acme-exports-us with prefix "users/" is watched twice (first at line 32)`}},
		"table with prefix": {
			[]string{"    created_at: created_at", "    prefix: users/"},
			[]string{`28: sources[0].prefix: prefix applies to buckets only`}},
		"source without subject_country": {
			[]string{"    subject_country: subject-country", "    # no subject_country"},
			[]string{`32: sources[1].subject_country: missing`}},
		"category and category_attr": {
			[]string{"    prefix: users/", "    category_attr: cat"},
			[]string{`33: sources[1].category_attr: a source has a fixed category or a category_attr, not both`}},
		"no category": {
			[]string{"    category: events", "    # no category"},
			[]string{`32: sources[1].category: missing: a fixed category, or category_attr naming the attribute that holds it`}},
		"unknown source category": {
			[]string{"    category: events", "    category: event"},
			[]string{`36: sources[1].category: unknown category "event" (did you mean events?)`}},
		"last_activity without attribute": {
			[]string{"retention: 25mo, from: created", "retention: 25mo, from: last_activity", "    last_activity: last_seen_at", "    # none"},
			[]string{`27: sources[0].category: category profile retains from last_activity, but the source names no last_activity attribute`}},
		"contract_end without attribute": {
			[]string{"retention: 25mo, from: created", "retention: 25mo, from: contract_end", "    contract: account_id", "    # none"},
			[]string{`27: sources[0].category: category profile retains from contract_end, but the source names no contract attribute`}},
		"table watched twice": {
			[]string{"    category: events\n", "    category: events\n  - table: users\n    key: [pk]\n    subject_id: a\n    subject_country: b\n    category: events\n"},
			[]string{`37: sources[2]: table users is watched twice (first at line 23)`}},
		"duplicate mechanism id": {
			[]string{"  - id: dpf-example-processor", "  - id: scc-acme-inc-2024"},
			[]string{`47: mechanisms[1].id: duplicate id "scc-acme-inc-2024" (first at line 38)`}},
		"unknown mechanism type": {
			[]string{"    type: scc                         # scc | dpf | bcr | uk_idta | uk_addendum", "    type: sccs"},
			[]string{`39: mechanisms[0].type: unknown type "sccs": use scc, dpf, bcr, uk_idta or uk_addendum`}},
		"SCC module out of range": {
			[]string{"    module: 2 ", "    module: 5 "},
			[]string{`40: mechanisms[0].module: SCC module must be 1, 2, 3 or 4 (Decision (EU) 2021/914), not "5"`}},
		"SCC module not a number": {
			[]string{"    module: 2 ", "    module: two "},
			[]string{`40: mechanisms[0].module: SCC module must be 1, 2, 3 or 4 (Decision (EU) 2021/914), not "two"`}},
		"SCC module does not fit roles": {
			[]string{`{name: "Acme Analytics SAS", role: controller, country: FR}` + "\n    importer", `{name: "Acme Analytics SAS", role: processor, country: FR}` + "\n    importer"},
			[]string{`40: mechanisms[0].module: SCC module 2 (controller to processor) does not fit exporter role processor and importer role processor: use module 3`}},
		"SCC module 1 for a processor": {
			[]string{"    module: 2 ", "    module: 1 "},
			[]string{`40: mechanisms[0].module: SCC module 1 (controller to controller) does not fit exporter role controller and importer role processor: use module 2`}},
		"SCC importer without role": {
			[]string{`{name: "Acme Inc", role: processor, country: US}`, `{name: "Acme Inc", country: US}`},
			[]string{`42: mechanisms[0].importer.role: missing`}},
		"SCC importer in the EEA": {
			[]string{`{name: "Acme Inc", role: processor, country: US}`, `{name: "Acme Inc", role: processor, country: DE}`},
			[]string{`42: mechanisms[0].importer.country: importer country DE is in the EEA, like the exporter: a transfer there is not restricted (EU GDPR) and needs no clauses`}},
		"SCC without signed": {
			[]string{"    signed: 2024-03-26", "    # unsigned"},
			[]string{`38: mechanisms[0].signed: missing`}},
		"SCC without expires": {
			[]string{"    expires: 2027-03-26", "    # no expiry"},
			[]string{`38: mechanisms[0].expires: missing`}},
		"SCC expires before signed": {
			[]string{"    expires: 2027-03-26", "    expires: 2023-03-26"},
			[]string{`44: mechanisms[0].expires: expires 2023-03-26 is not after signed 2024-03-26`}},
		"bad date": {
			[]string{"    signed: 2024-03-26", "    signed: 26/03/2024"},
			[]string{`43: mechanisms[0].signed: invalid date "26/03/2024": want YYYY-MM-DD, e.g. 2027-03-26`}},
		"impossible date": {
			[]string{"    signed: 2024-03-26", "    signed: 2024-02-30"},
			[]string{`43: mechanisms[0].signed: invalid date "2024-02-30": want YYYY-MM-DD, e.g. 2027-03-26`}},
		"unknown mechanism category": {
			[]string{"    categories: [events, profile]", "    categories: [events, profiles]"},
			[]string{`46: mechanisms[0].categories: unknown category "profiles" (did you mean profile?)`}},
		"DPF importer outside the US": {
			[]string{`{name: "Example Processor Inc", country: US}`, `{name: "Example Processor Inc", country: IN}`},
			[]string{`49: mechanisms[1].importer.country: the EU-US Data Privacy Framework covers importers in the US only, not IN`}},
		"DPF without certified_until": {
			[]string{dpfEnd, "    # none\n"},
			[]string{`47: mechanisms[1].certified_until: missing`}},
		"SCC field on DPF": {
			[]string{dpfEnd, "    signed: 2024-01-01\n"},
			[]string{`47: mechanisms[1].certified_until: missing`, `50: mechanisms[1].signed: does not apply to type dpf (fields: id, type, importer, certified_until, uk_extension, swiss_us, categories)`}},
		"BCR without importer or countries": {
			[]string{dpfBlockEnd, dpfBlockEnd + strings.Replace(bcrMechanism, "    countries: [IN, US]\n", "", 1)},
			[]string{`54: mechanisms[2]: missing importer or countries: where may data go under these BCRs?`}},
		"BCR unknown country": {
			[]string{dpfBlockEnd, dpfBlockEnd + strings.Replace(bcrMechanism, "[IN, US]", "[IN, USA]", 1)},
			[]string{`57: mechanisms[2].countries: unknown country code "USA" (use the alpha-2 code US)`}},
		"BCR without reference": {
			[]string{dpfBlockEnd, dpfBlockEnd + strings.Replace(bcrMechanism, "    reference: CNIL-BCR-2023-01\n", "", 1)},
			[]string{`54: mechanisms[2].reference: missing`}},
		"BCR expires before approved": {
			[]string{dpfBlockEnd, dpfBlockEnd + bcrMechanism + "    expires: 2020-01-01\n"},
			[]string{`60: mechanisms[2].expires: expires 2020-01-01 is not after approved 2023-01-10`}},
		"regions across partitions": {
			[]string{"regions: [eu-central-1, eu-west-1, us-east-1]", "regions: [eu-central-1, eu-west-1, us-east-1, eusc-de-east-1]"},
			[]string{`3: regions: region eusc-de-east-1 is in partition aws-eusc, eu-central-1 in aws: a deployment spans one partition (deploy each with a policy of its own)`}},
		"entity is the organization": {
			[]string{`  - {name: "Acme Analytics Ltd", country: GB, role: controller}`, `  - {name: "acme analytics sas", country: FR, role: controller}`},
			[]string{`62: mechanisms[3].exporter.name: exporter "Acme Analytics Ltd" is neither the organization nor one of entities (known: "Acme Analytics SAS"): the agreement could cover no transfer`,
				`69: entities[0].name: "acme analytics sas" is the organization: list only the group's other exporters`}},
		"entity listed twice": {
			[]string{`  - {name: "Acme Analytics Ltd", country: GB, role: controller}`, "  - {name: \"Acme Analytics Ltd\", country: GB, role: controller}\n  - {name: \"Acme Analytics LTD\", country: GB, role: controller}"},
			[]string{`70: entities[1].name: "Acme Analytics LTD" is listed twice (first at line 69)`}},
		"entity without a regime": {
			[]string{`  - {name: "Acme Analytics Ltd", country: GB, role: controller}`, "  - {name: \"Acme Analytics Ltd\", country: GB, role: controller}\n  - {name: \"Acme Inc\", country: US, role: processor}"},
			[]string{`70: entities[1].country: an exporter in US is subject to no supported regime: Residency decides transfers under the EU GDPR (exporters in the EEA), the UK GDPR (GB) and the Swiss FADP (CH)`}},
		"entity without role": {
			[]string{`country: GB, role: controller}`, `country: GB}`},
			[]string{`69: entities[0].role: missing`}},
		"exporter country differs from the entity's": {
			[]string{`    exporter: {name: "Acme Analytics Ltd", role: controller, country: GB}`, `    exporter: {name: "Acme Analytics Ltd", role: controller, country: IE}`},
			[]string{`62: mechanisms[3].exporter.country: "Acme Analytics Ltd" is in GB in the policy, not IE`,
				`62: mechanisms[3].exporter.country: the ICO's International Data Transfer Addendum serves exporters under the UK GDPR (in GB), not in IE`}},
		"EU SCC signed by a UK exporter": {
			[]string{"    type: uk_addendum", "    type: scc"},
			[]string{`62: mechanisms[3].exporter.country: an exporter in GB relies on the EU SCCs through the ICO's Addendum: use type uk_addendum (or uk_idta)`}},
		"UK IDTA takes no module": {
			[]string{"    type: uk_addendum", "    type: uk_idta"},
			[]string{`61: mechanisms[3].module: does not apply to type uk_idta (fields: id, type, exporter, importer, signed, expires, tia, categories)`}},
		"UK Addendum without module": {
			[]string{"    module: 2\n    exporter: {name: \"Acme Analytics Ltd\"", "    exporter: {name: \"Acme Analytics Ltd\""},
			[]string{`59: mechanisms[3].module: missing: SCC module 1, 2, 3 or 4`}},
		"UK Addendum to an importer in the UK": {
			[]string{`    importer: {name: "Acme Inc", country: US, role: processor}`, `    importer: {name: "Acme Inc", country: GB, role: processor}`},
			[]string{`63: mechanisms[3].importer.country: importer country GB is in the United Kingdom, like the exporter: a transfer there is not restricted (UK GDPR) and needs no clauses`}},
		"DPF flag not a bool": {
			[]string{"    uk_extension: true                # UK Extension", "    uk_extension: yes please          # UK Extension"},
			[]string{`51: mechanisms[1].uk_extension: must be true or false, not "yes please"`}},
		"BCR with an unknown regime": {
			[]string{dpfBlockEnd, dpfBlockEnd + bcrMechanism + "    regimes: [eu, us]\n"},
			[]string{`60: mechanisms[2].regimes: unknown regime "us": use eu (EU GDPR Art. 47), uk (UK GDPR Art. 47) or ch (FADP Art. 16(2)(e))`}},
		"importer scope for a country without a partial decision": {
			[]string{`country: US, gdpr_art3_2: true}`, `country: US, adequacy_scope: PIPEDA}`},
			[]string{`72: importers[1].adequacy_scope: no partial adequacy decision for US has a scope (scopes: CA PIPEDA, IL automated, JP APPI, KR PIPA)`}},
		"importer scope of another country": {
			[]string{`adequacy_scope: PIPEDA}`, `adequacy_scope: APPI}`},
			[]string{`71: importers[0].adequacy_scope: unknown scope "APPI" for CA: use PIPEDA`}},
		"importer flag not a bool": {
			[]string{`gdpr_art3_2: true}`, `gdpr_art3_2: maybe}`},
			[]string{`72: importers[1].gdpr_art3_2: must be true or false, not "maybe"`}},
		"importer listed twice": {
			[]string{`  - {name: "Orbit Analytics LLC", country: US, gdpr_art3_2: true}`, `  - {name: "maple data inc", country: CA}`},
			[]string{`72: importers[1]: importer "maple data inc" in CA is listed twice (first at line 71)`}},
		"hosting names an unknown mechanism": {
			[]string{"mechanism: dpf-aws}", "mechanism: dpf-amazon}"},
			[]string{`74: hosting.mechanism: unknown mechanism "dpf-amazon" (known: scc-acme-inc-2024, dpf-example-processor, dpf-aws, uk-addendum-acme-2025)`}},
		"hosting rests on another importer's mechanism": {
			[]string{"mechanism: dpf-aws}", "mechanism: dpf-example-processor}"},
			[]string{`74: hosting.mechanism: dpf-example-processor covers importer "Example Processor Inc", not the hosting provider "Amazon Web Services, Inc."`}},
		"hosting without mechanism": {
			[]string{", mechanism: dpf-aws}", "}"},
			[]string{`74: hosting.mechanism: missing`}},
		"TTL attribute on a bucket": {
			[]string{"    category: events\n", "    category: events\n    ttl_attribute: expires_at\n"},
			[]string{`37: sources[1].ttl_attribute: ttl_attribute applies to tables only (S3 has lifecycle rules)`}},
		"TTL attribute is a key": {
			[]string{"ttl_attribute: expires_at", "ttl_attribute: sk"},
			[]string{`31: sources[0].ttl_attribute: "sk" is a key attribute or the residency tag, not a TTL attribute`}},
		"unknown top-level field": {
			[]string{"unknown_subject: strictest", "unknown_subjects: strictest"},
			[]string{`16: unknown_subjects: unknown field (did you mean unknown_subject?)`}},
		"duplicate top-level field": {
			[]string{"unknown_subject: strictest", "regions: [eu-west-1]"},
			[]string{`16: regions: duplicate field (first at line 3)`}},
		"YAML syntax error": {
			[]string{"[EEA, CH]", "[EEA, CH"},
			[]string{`5: invalid YAML: did not find expected ',' or ']'`}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("residency.yaml", mutate(t, c.pairs...))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("expect a *ValidationError, got %v", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("expect errors.Is(err, ErrInvalid), got false for %v", err)
			}
			var got []string
			for _, fe := range ve.Errors {
				got = append(got, strings.TrimPrefix(fe.Error(), "residency.yaml:"))
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("errors mismatch (-expect +got):\n%s", diff)
			}
		})
	}
}

func TestParseDocuments(t *testing.T) {
	valid := string(Example)
	cases := map[string]struct {
		data string
		want []string // full error lines; nil: valid
	}{
		"empty file": {"", []string{
			"p.yaml:1: version: missing",
			"p.yaml:1: regions: missing",
			"p.yaml:1: residency: missing: at least one rule",
			"p.yaml:1: categories: missing: at least one data category",
		}},
		"list instead of mapping": {"- version\n", []string{
			"p.yaml:1: the policy must be a mapping of fields (version, regions, residency, ...), not a list",
		}},
		"two documents": {valid + "---\nversion: x\n", []string{
			"p.yaml:75: a policy file holds one YAML document; found another",
		}},
		"merge key": {strings.Replace(valid, "  - subjects: [GB]\n", "  - <<: {subjects: [GB]}\n", 1), []string{
			"p.yaml:9: residency[1]: merge keys (<<) are not supported: write the fields out",
			"p.yaml:9: residency[1].subjects: missing",
		}},
		"anchors and aliases": {strings.Replace(strings.Replace(valid,
			`importer: {name: "Acme Inc", role: processor, country: US}`, `importer: &acme {name: "Acme Inc", role: processor, country: US}`, 1),
			"  - table: users", "  - table: users\n    # aliases resolve: *acme", 1), nil},
		"comments and blank lines only": {"# nothing\n\n", []string{
			"p.yaml:1: version: missing",
			"p.yaml:1: regions: missing",
			"p.yaml:1: residency: missing: at least one rule",
			"p.yaml:1: categories: missing: at least one data category",
		}},
		"too large": {strings.Repeat("#", maxPolicySize+1), []string{
			"p.yaml: file too large: 1048577 bytes (at most 1048576)",
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(c.data))
			if c.want == nil {
				if err != nil || p == nil {
					t.Fatalf("expect a valid policy, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("expect errors %q, got none", c.want)
			}
			if diff := cmp.Diff(strings.Join(c.want, "\n"), err.Error()); diff != "" {
				t.Errorf("errors mismatch (-expect +got):\n%s", diff)
			}
		})
	}
}

func TestParseAlias(t *testing.T) {
	data := strings.Replace(string(Example), "    importer: {name: \"Acme Inc\", role: processor, country: US}",
		"    importer: &acme {name: \"Acme Inc\", role: processor, country: US}", 1)
	data = strings.Replace(data, "entities:", "  - id: scc-acme-inc-2025\n    type: scc\n    module: 2\n    importer: *acme\n    signed: 2025-01-01\n    expires: 2028-01-01\nentities:", 1)
	p, err := Parse("alias.yaml", []byte(data))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	m := p.Mechanisms[4]
	want := Party{Name: "Acme Inc", Role: Processor, Country: "US"}
	if m.Importer != want {
		t.Errorf("expect importer %+v through the alias, got %+v", want, m.Importer)
	}
	if m.Exporter != p.Organization {
		t.Errorf("expect the organization %+v as default exporter, got %+v", p.Organization, m.Exporter)
	}
}

func TestParseCollectsAllErrors(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "three-errors.yaml"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("expect a *ValidationError, got %v", err)
	}
	want := []string{
		`testdata/three-errors.yaml:8: residency[0].home: unknown region "eu-centrl-1" (did you mean eu-central-1?)`,
		`testdata/three-errors.yaml:14: categories.events.retention: invalid duration "13m": unit m is ambiguous: use mo for months`,
		`testdata/three-errors.yaml:21: mechanisms[0].module: SCC module 2 (controller to processor) does not fit exporter role processor and importer role processor: use module 3`,
	}
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors mismatch (-expect +got):\n%s", diff)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("expect 3 lines in the error text, got %d", n)
	}
}

func TestLoad(t *testing.T) {
	cases := map[string]struct {
		path    string
		wantErr error
		inMsg   string
	}{
		"valid":     {filepath.Join("testdata", "transfer.yaml"), nil, ""},
		"missing":   {filepath.Join("testdata", "nope.yaml"), fs.ErrNotExist, "load policy testdata/nope.yaml: "},
		"invalid":   {filepath.Join("testdata", "three-errors.yaml"), ErrInvalid, "testdata/three-errors.yaml:8: "},
		"directory": {"testdata", nil, "load policy testdata: "},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Load(c.path)
			if c.inMsg == "" {
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if p.File != c.path {
					t.Errorf("expect File %q, got %q", c.path, p.File)
				}
				return
			}
			if err == nil {
				t.Fatal("expect an error, got none")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("expect errors.Is(err, %v), got %v", c.wantErr, err)
			}
			if !strings.Contains(err.Error(), c.inMsg) {
				t.Errorf("expect %q in the error, got %q", c.inMsg, err.Error())
			}
		})
	}
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// A loaded policy carries the SHA-256 of its file's bytes: a change to the
// file, even one the parsed policy does not show (a comment), changes it.
func TestPolicyHash(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "transfer.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	orig, edited := filepath.Join(dir, "orig.yaml"), filepath.Join(dir, "edited.yaml")
	if err := os.WriteFile(orig, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(edited, append(append([]byte{}, b...), "# reviewed by the DPO\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(orig)
	if err != nil {
		t.Fatal(err)
	}
	if want := fileSHA256(t, orig); p.SHA256 != want {
		t.Errorf("expect SHA256 %s (the file's), got %q", want, p.SHA256)
	}
	q, err := Load(edited)
	if err != nil {
		t.Fatal(err)
	}
	if q.Version != p.Version || q.SHA256 == p.SHA256 {
		t.Errorf("expect the edited file's hash to differ under the same version %q, got %q and %q", p.Version, p.SHA256, q.SHA256)
	}
	if want := fileSHA256(t, edited); q.SHA256 != want {
		t.Errorf("expect SHA256 %s (the edited file's), got %q", want, q.SHA256)
	}
}

func TestTestdataPolicies(t *testing.T) {
	// Every file in testdata is either valid or named for the error it holds.
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".yaml" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", e.Name()))
			broken := strings.Contains(e.Name(), "error")
			if broken != (err != nil) {
				t.Errorf("expect broken=%v, got error %v", broken, err)
			}
		})
	}
}

func TestFieldError(t *testing.T) {
	cases := map[string]struct {
		fe   FieldError
		want string
	}{
		"full":     {FieldError{"r.yaml", 14, "residency[1].home", "unknown region"}, "r.yaml:14: residency[1].home: unknown region"},
		"no field": {FieldError{"r.yaml", 3, "", "invalid YAML: x"}, "r.yaml:3: invalid YAML: x"},
		"no line":  {FieldError{"r.yaml", 0, "", "file too large"}, "r.yaml: file too large"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.fe.Error(); got != c.want {
				t.Errorf("expect %q, got %q", c.want, got)
			}
		})
	}
	ve := &ValidationError{Errors: []FieldError{cases["full"].fe, cases["no field"].fe}}
	if want := "r.yaml:14: residency[1].home: unknown region\nr.yaml:3: invalid YAML: x"; ve.Error() != want {
		t.Errorf("expect %q, got %q", want, ve.Error())
	}
	if !errors.Is(ve, ErrInvalid) {
		t.Error("expect errors.Is(ValidationError, ErrInvalid)")
	}
}

// TestBucketSources: a buckets: source is found by the bucket of any of its
// regions, knows each region's bucket, and the single bucket: form keeps
// working (one bucket, no region of its own).
func TestBucketSources(t *testing.T) {
	p := MustExample()
	for _, b := range []string{"acme-exports-eu", "acme-exports", "acme-exports-us"} {
		s, ok := p.SourceForObject(b, "users/u-1/export.json")
		if !ok || s.Line != 32 {
			t.Fatalf("expect the bucket source for s3://%s/users/..., got %v %+v", b, ok, s)
		}
		if n, ok := p.SourceByName(b); !ok || n != s {
			t.Errorf("expect SourceByName(%s) to be the same source, got %v", b, ok)
		}
		if r, ok := s.RegionOfBucket(b); !ok || s.Buckets[r] != b {
			t.Errorf("expect the region of %s, got %q", b, r)
		}
	}
	s, _ := p.SourceByName("acme-exports-us")
	if b, ok := s.BucketIn("eu-central-1"); !ok || b != "acme-exports-eu" {
		t.Errorf("expect eu-central-1's bucket acme-exports-eu, got %q", b)
	}
	if d := cmp.Diff([]string{"acme-exports-eu", "acme-exports", "acme-exports-us"}, s.BucketNames()); d != "" {
		t.Errorf("bucket names in region order (-want +got):\n%s", d)
	}
	if _, ok := p.SourceForObject("acme-exports-us", "other/x.json"); ok {
		t.Error("expect a key outside the prefix to be no source's")
	}
	one := mutate(t, "  - buckets: {eu-central-1: acme-exports-eu, eu-west-1: acme-exports, us-east-1: acme-exports-us}  # S3: a bucket per region; fields from object metadata",
		"  - bucket: acme-exports")
	q, err := Parse("one.yaml", one)
	if err != nil {
		t.Fatalf("expect the single bucket: form valid, got %v", err)
	}
	s, ok := q.SourceForObject("acme-exports", "users/u-1.json")
	if !ok || s.Bucket != "acme-exports" || s.Name() != "acme-exports" || !s.IsBucket() {
		t.Fatalf("expect the one bucket's source, got %v %+v", ok, s)
	}
	if _, ok := s.BucketIn("eu-west-1"); ok {
		t.Error("expect a single bucket to name no region's bucket")
	}
}
