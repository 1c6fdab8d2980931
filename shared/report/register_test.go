package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

const sccRef = "scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)"

// registerStore holds restricted and unrestricted transfers, a denial, and
// a catalog with records in the US (personal and not) and in the EEA.
func registerStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	st := sqlitetest.Open(t)
	ctx := context.Background()
	e := func(id string, min int, kind ledger.Kind, to, importer, mech, ref string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at.Add(time.Duration(min) * time.Minute), Kind: kind, Region: "eu-central-1", FromCountry: "DE",
			ToCountry: to, Importer: importer, Mechanism: mech, Reference: ref, Category: "events", Decision: "allowed", Actor: "router"}
	}
	deny := e("3", 20, ledger.KindDenial, "US", "Random Corp", "none", "no SCC agreement")
	deny.Decision = "denied"
	if _, err := st.Append(ctx, "eu-central-1", []ledger.Entry{
		e("1", 0, ledger.KindTransfer, "US", "Acme Inc", "scc", sccRef),
		e("2", 10, ledger.KindTransfer, "FR", "Paris Data SAS", "none", ""), // intra-EEA: not restricted
		deny,
		e("4", 30, ledger.KindTransfer, "US", "Acme Inc", "scc", sccRef),
	}); err != nil {
		t.Fatal(err)
	}
	var entries []catalog.Entry
	for i, c := range []struct {
		region, category string
		at               time.Duration
	}{
		{"us-east-1", "profile", 0}, {"us-east-1", "profile", time.Hour}, {"us-east-1", "aggregates", 0}, {"eu-central-1", "profile", 0},
	} {
		entries = append(entries, catalog.Entry{Region: c.region, Source: "users", SourceKind: catalog.SourceTable,
			Key: record.Key{"pk": string(rune('a' + i))}, SubjectRef: "sub_x", Category: c.category, Status: record.StatusCompliant,
			PolicyVersion: "v1", TaggedAt: at.Add(c.at)})
	}
	if err := st.PutEntries(ctx, entries); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRegisterRestrictedAndHosting(t *testing.T) {
	st := registerStore(t)
	p := policy.MustExample()
	dpfAWS := "dpf-aws (EU-U.S. Data Privacy Framework, Commission Implementing Decision (EU) 2023/1795 of 10 July 2023)"
	row := func(r report.RegisterRow) string {
		return strings.Join([]string{r.Kind, r.Region, r.ToCountry, r.Importer, r.Mechanism, r.Reference, strings.Join(r.Categories, "+")}, "|") +
			" " + strings.Join([]string{strconv.Itoa(r.Allowed), strconv.Itoa(r.Denied), strconv.Itoa(r.Records)}, "/") + " " + r.FirstSeen.Format(time.RFC3339) +
			" " + r.LastSeen.Format(time.RFC3339)
	}
	cases := map[string]struct {
		q            report.Query
		now          time.Time
		noPolicy     bool
		want         []string
		unrestricted int
		expiring     []report.ExpiringMechanism
		reason       string // the hosting row's reason, if not covered
	}{
		"restricted transfers and hosting": {q: report.Query{To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, now: at, want: []string{
			"hosting|us-east-1|US|Amazon Web Services, Inc.|dpf|" + dpfAWS + "|profile 0/0/2 2026-11-21T09:00:00Z 2026-11-21T10:00:00Z",
			"transfer||US|Acme Inc|scc|" + sccRef + "|events 2/0/0 2026-11-21T09:00:00Z 2026-11-21T09:30:00Z",
			"transfer||US|Random Corp|none||events 0/1/0 2026-11-21T09:20:00Z 2026-11-21T09:20:00Z",
		}, unrestricted: 1, expiring: []report.ExpiringMechanism{
			{ID: "scc-acme-inc-2024", Type: "scc", Importer: "Acme Inc", LastDay: "2027-03-25", Transfers: 2},
		}},
		"hosting certification lapsed": {now: time.Date(2027, 10, 2, 0, 0, 0, 0, time.UTC), want: []string{
			"hosting|us-east-1|US|Amazon Web Services, Inc.|none||profile 0/0/2 2026-11-21T09:00:00Z 2026-11-21T10:00:00Z",
			"transfer||US|Acme Inc|scc|" + sccRef + "|events 2/0/0 2026-11-21T09:00:00Z 2026-11-21T09:30:00Z",
			"transfer||US|Random Corp|none||events 0/1/0 2026-11-21T09:20:00Z 2026-11-21T09:20:00Z",
		}, unrestricted: 1, reason: "no derogation", expiring: []report.ExpiringMechanism{
			{ID: "scc-acme-inc-2024", Type: "scc", Importer: "Acme Inc", LastDay: "2027-03-25", Expired: true, Transfers: 2},
			{ID: "dpf-example-processor", Type: "dpf", Importer: "Example Processor Inc", LastDay: "2027-06-30", Expired: true},
			// The hosting rests on nothing now: nothing relies on dpf-aws.
			{ID: "dpf-aws", Type: "dpf", Importer: "Amazon Web Services, Inc.", LastDay: "2027-09-30", Expired: true},
		}},
		"hosting relies on a certification ending after the period": {q: report.Query{To: time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC)}, now: at, want: []string{
			"hosting|us-east-1|US|Amazon Web Services, Inc.|dpf|" + dpfAWS + "|profile 0/0/2 2026-11-21T09:00:00Z 2026-11-21T10:00:00Z",
			"transfer||US|Acme Inc|scc|" + sccRef + "|events 2/0/0 2026-11-21T09:00:00Z 2026-11-21T09:30:00Z",
			"transfer||US|Random Corp|none||events 0/1/0 2026-11-21T09:20:00Z 2026-11-21T09:20:00Z",
		}, unrestricted: 1, expiring: []report.ExpiringMechanism{
			{ID: "scc-acme-inc-2024", Type: "scc", Importer: "Acme Inc", LastDay: "2027-03-25", Expired: true, Transfers: 2},
			{ID: "dpf-example-processor", Type: "dpf", Importer: "Example Processor Inc", LastDay: "2027-06-30", Expired: true},
			{ID: "dpf-aws", Type: "dpf", Importer: "Amazon Web Services, Inc.", LastDay: "2027-09-30", HostedRecords: 2},
		}},
		"one subject: no hosting rows": {q: report.Query{SubjectRef: "sub_x"}, now: at, want: nil},
		"another region: no hosting rows": {q: report.Query{Region: "eu-central-1"}, now: at, want: []string{
			"transfer||US|Acme Inc|scc|" + sccRef + "|events 2/0/0 2026-11-21T09:00:00Z 2026-11-21T09:30:00Z",
			"transfer||US|Random Corp|none||events 0/1/0 2026-11-21T09:20:00Z 2026-11-21T09:20:00Z",
		}, unrestricted: 1},
		"without a policy": {noPolicy: true, now: at, want: []string{
			"transfer||US|Acme Inc|scc|" + sccRef + "|events 2/0/0 2026-11-21T09:00:00Z 2026-11-21T09:30:00Z",
			"transfer||US|Random Corp|none||events 0/1/0 2026-11-21T09:20:00Z 2026-11-21T09:20:00Z",
		}, unrestricted: 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			opt := report.Options{Now: c.now, Policy: p, Catalog: st}
			if c.noPolicy {
				opt.Policy, opt.Catalog = nil, nil
			}
			h, err := report.Summarize(context.Background(), st, c.q, opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range h.Summary.Register {
				got = append(got, row(r))
				if r.Kind == report.RowHosting && !strings.Contains(r.Reason, c.reason) {
					t.Errorf("expect the hosting row's reason to say %q, got %q", c.reason, r.Reason)
				}
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("register (-want +got):\n%s", d)
			}
			if h.Summary.Unrestricted != c.unrestricted {
				t.Errorf("expect %d unrestricted transfers, got %d", c.unrestricted, h.Summary.Unrestricted)
			}
			if c.expiring == nil {
				c.expiring = []report.ExpiringMechanism{}
			}
			if d := cmp.Diff(c.expiring, h.Summary.Expiring); d != "" {
				t.Errorf("expiring mechanisms (-want +got):\n%s", d)
			}
		})
	}
}

func TestRegisterFormats(t *testing.T) {
	st := registerStore(t)
	opt := report.Options{Now: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Policy: policy.MustExample(), Catalog: st}
	for format, want := range map[string][]string{
		"table": {"restricted transfers; 1 unrestricted left out", "FIRST SEEN", "Hosting outside the exporter's regime",
			"us-east-1  US  Amazon Web Services, Inc.", "Mechanisms ending in the period or within 90 days of its end",
			"scc-acme-inc-2024  scc   Acme Inc  2027-03-25  ends soon  2"},
		"html": {"1 unrestricted transfers left out", "<h3>Hosting outside the exporter's regime</h3>", "<td class=\"num\">2</td>",
			"<td>scc-acme-inc-2024</td><td>scc</td>"},
		"json": {`"kind": "hosting"`, `"region": "us-east-1"`, `"records": 2`, `"unrestricted_transfers": 1`, `"expiring_mechanisms": [`,
			`"last_day": "2027-03-25"`},
	} {
		var b bytes.Buffer
		if _, err := report.Render(context.Background(), st, report.Query{}, format, &b, opt); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: expect %q in:\n%s", format, w, b.String())
			}
		}
	}
}

func TestSubjectReportListsOnlyItsHolds(t *testing.T) {
	st := registerStore(t)
	ctx := context.Background()
	for _, h := range []catalog.Hold{
		{ID: "h-record", Source: "users", Key: record.Key{"pk": "a"}, Reason: "audit", SetAt: at},        // a record of sub_x
		{ID: "h-other-record", Source: "users", Key: record.Key{"pk": "zz"}, Reason: "audit", SetAt: at}, // nobody's here
		{ID: "h-other", SubjectRef: "sub_other", Reason: "Case 4711 v. Doe", SetAt: at},
		{ID: "h-mine", SubjectRef: "sub_x", Reason: "audit", SetAt: at},
	} {
		if err := st.SetHold(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	refs, _ := pseudonym.New(bytes.Repeat([]byte{3}, 32))
	opt := report.Options{Now: at, Policy: policy.MustExample(), Catalog: st, Holds: st, Refs: refs}
	for name, c := range map[string]struct {
		q    report.Query
		want []string
	}{
		"every subject": {report.Query{}, []string{"h-mine", "h-other", "h-other-record", "h-record"}},
		"one subject":   {report.Query{SubjectRef: "sub_x"}, []string{"h-mine", "h-record"}},
		"another":       {report.Query{SubjectRef: "sub_nobody"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			h, err := report.Summarize(ctx, st, c.q, opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range h.Holds {
				got = append(got, x.ID)
			}
			slices.Sort(got)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("holds (-want +got):\n%s", d)
			}
		})
	}
}

// Every region of the policy is in the report, also one whose chain has no
// entry yet.
func TestEveryPolicyRegionIsReported(t *testing.T) {
	st := registerStore(t)
	p := policy.MustExample()
	opt := report.Options{Now: time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), Policy: p, Catalog: st}
	h, err := report.Summarize(context.Background(), st, report.Query{}, opt)
	if err != nil {
		t.Fatal(err)
	}
	empty := 0
	for _, r := range p.Regions {
		i := slices.IndexFunc(h.Ledger.Chains, func(c report.ChainStatus) bool { return c.Region == r })
		if i < 0 {
			t.Fatalf("expect region %s in the report's chains, got %+v", r, h.Ledger.Chains)
		}
		if h.Ledger.Chains[i].Entries == 0 {
			empty++
		}
	}
	if empty == 0 {
		t.Fatalf("expect a policy region without entries in this store, got %+v", h.Ledger.Chains)
	}
	if !slices.IsSortedFunc(h.Ledger.Chains, func(a, b report.ChainStatus) int { return strings.Compare(a.Region, b.Region) }) {
		t.Errorf("expect the chains by region, got %+v", h.Ledger.Chains)
	}
	for _, format := range []string{"table", "html", "json"} {
		var b bytes.Buffer
		if _, err := report.Render(context.Background(), st, report.Query{}, format, &b, opt); err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Regions {
			if !strings.Contains(b.String(), r) {
				t.Errorf("%s: expect region %s", format, r)
			}
		}
	}
}

// The report names the controller (the policy's organization) and the
// policy version in every format; without a policy, neither.
func TestReportNamesTheController(t *testing.T) {
	st := registerStore(t)
	now := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	for format, want := range map[string][]string{
		"table": {"Controller: Acme Analytics SAS (FR)\n", "Policy version: 2026-11-01\n"},
		"html":  {"Controller: <strong>Acme Analytics SAS</strong>", "policy version 2026-11-01"},
		"json":  {`"controller": {`, `"name": "Acme Analytics SAS"`, `"country": "FR"`},
	} {
		var b bytes.Buffer
		if _, err := report.Render(context.Background(), st, report.Query{}, format, &b, report.Options{Now: now, Policy: policy.MustExample(), Catalog: st}); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: expect %q", format, w)
			}
		}
		if format == "json" {
			var h report.Header
			if err := json.Unmarshal(b.Bytes(), &h); err != nil || h.PolicyVersion != "2026-11-01" || h.Controller == nil || h.Controller.Name != "Acme Analytics SAS" {
				t.Errorf("json: expect the header's policy_version 2026-11-01 and controller, got %v %q %+v", err, h.PolicyVersion, h.Controller)
			}
		}
		b.Reset()
		if _, err := report.Render(context.Background(), st, report.Query{}, format, &b, report.Options{Now: now}); err != nil {
			t.Fatal(err)
		}
		if page := b.String(); strings.Contains(page, "Controller:") || strings.Contains(page, `"controller":`) ||
			strings.Contains(strings.ToLower(page), "policy version") {
			t.Errorf("%s: expect no controller without a policy", format)
		}
	}
}
