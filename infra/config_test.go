package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/policy"
)

// testContext is a valid context for testdata/policy.yaml; cases change it.
func testContext() map[string]any {
	return map[string]any{
		CtxPolicy:  "testdata/policy.yaml",
		CtxStreams: testStreams(testRegions),
		CtxBuckets: map[string]any{"acme-exports": "eu-west-1", "acme-us-archive": "us-east-1"},
	}
}

func getter(ctx map[string]any) func(string) any { return func(k string) any { return ctx[k] } }

func TestLoadConfigRejects(t *testing.T) {
	cases := map[string]struct {
		change func(ctx map[string]any)
		want   []string // substrings of the error
	}{
		"a missing stream": {
			func(ctx map[string]any) {
				delete(ctx[CtxStreams].(map[string]any)["eu-west-1"].(map[string]any), "orders")
			},
			[]string{`residency:streams: no stream ARN for watched table "orders" in eu-west-1`, "describe-table"},
		},
		"a stream of another region": {
			func(ctx map[string]any) {
				ctx[CtxStreams].(map[string]any)["eu-central-1"].(map[string]any)["users"] = testStreamARN("us-east-1", "users")
			},
			[]string{"eu-central-1: users: the stream ARN is in region us-east-1, not eu-central-1"},
		},
		"a stream of another table": {
			func(ctx map[string]any) {
				ctx[CtxStreams].(map[string]any)["eu-central-1"].(map[string]any)["users"] = testStreamARN("eu-central-1", "orders")
			},
			[]string{`the stream ARN is of table "orders"`},
		},
		"a stream of another account": {
			func(ctx map[string]any) { ctx[CtxAccount] = "210987654321" },
			[]string{"the stream ARN is in account 123456789012, not 210987654321"},
		},
		"a stream of an unwatched table": {
			func(ctx map[string]any) {
				ctx[CtxStreams].(map[string]any)["eu-central-1"].(map[string]any)["invoices"] = testStreamARN("eu-central-1", "invoices")
			},
			[]string{`table "invoices" is not a watched table`},
		},
		"a stream ARN of another partition": {
			func(ctx map[string]any) {
				ctx[CtxStreams].(map[string]any)["eu-central-1"].(map[string]any)["users"] = "arn:aws-eusc:dynamodb:eu-central-1:123456789012:table/users/stream/2026-11-01T00:00:00.000"
			},
			[]string{"the stream ARN is in partition aws-eusc, not aws"},
		},
		"not a stream ARN": {
			func(ctx map[string]any) {
				ctx[CtxStreams].(map[string]any)["eu-central-1"].(map[string]any)["users"] = "arn:aws:dynamodb:eu-central-1:123456789012:table/users"
			},
			[]string{"is not a DynamoDB stream ARN"},
		},
		"a bucket without region": {
			func(ctx map[string]any) { delete(ctx[CtxBuckets].(map[string]any), "acme-us-archive") },
			[]string{`residency:buckets: no region for watched bucket "acme-us-archive": add {"acme-us-archive": "REGION"}, or name the source's bucket per region in the policy (buckets: {REGION: NAME})`},
		},
		"a bucket in a region outside the policy, single bucket: form": {
			func(ctx map[string]any) { ctx[CtxBuckets].(map[string]any)["acme-us-archive"] = "ap-south-1" },
			[]string{`bucket "acme-us-archive": region "ap-south-1" is not one of the regions`},
		},
		"a per-region bucket the context places elsewhere": {
			func(ctx map[string]any) { ctx[CtxBuckets].(map[string]any)["acme-exports-eu"] = "eu-west-1" },
			[]string{`residency:buckets: bucket "acme-exports-eu": region "eu-west-1", but policy testdata/policy.yaml names it the bucket of eu-central-1: remove it from residency:buckets`},
		},
		"a bucket in a region outside the policy": {
			func(ctx map[string]any) { ctx[CtxBuckets].(map[string]any)["acme-exports"] = "ap-south-1" },
			[]string{`bucket "acme-exports": region "ap-south-1", but policy testdata/policy.yaml names it the bucket of eu-west-1`},
		},
		"a region outside the policy": {
			func(ctx map[string]any) { ctx[CtxRegions] = []any{"eu-central-1", "eu-west-3"} },
			[]string{`residency:regions: region "eu-west-3" is not one of the regions of policy testdata/policy.yaml`},
		},
		"a bad sweep rate": {
			func(ctx map[string]any) { ctx[CtxSweepRate] = "hourly" },
			[]string{`residency:sweepRate: "hourly"`},
		},
		"an exposure SLO of 0.5 s": {
			func(ctx map[string]any) { ctx[CtxExposureSLOSeconds] = 0.5 },
			[]string{"residency:exposureSloSeconds: 0.5 is not a whole number"},
		},
		"an exposure SLO over a day": {
			func(ctx map[string]any) { ctx[CtxExposureSLOSeconds] = 90000.0 },
			[]string{"residency:exposureSloSeconds: 90000 seconds: must be 1 to 86400 (a day)"},
		},
		"a bad retention": {
			func(ctx map[string]any) { ctx[CtxDigestRetentionYears] = 0.5 },
			[]string{"residency:digestRetentionYears: 0.5 is not a whole number"},
		},
		"a bad account": {
			func(ctx map[string]any) { ctx[CtxAccount] = "acme" },
			[]string{`residency:account: "acme" is not a 12-digit AWS account id`},
		},
		"a missing policy file": {
			func(ctx map[string]any) { ctx[CtxPolicy] = "testdata/nope.yaml" },
			[]string{"residency:policy: open testdata/nope.yaml"},
		},
		"an invalid policy, with its file:line errors": {
			func(ctx map[string]any) { ctx[CtxPolicy] = "../shared/policy/testdata/three-errors.yaml" },
			[]string{"policy ../shared/policy/testdata/three-errors.yaml is invalid:\n../shared/policy/testdata/three-errors.yaml:"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN a context with one problem
			ctx := testContext()
			c.change(ctx)
			// WHEN it is loaded
			_, err := LoadConfig(getter(ctx), "")
			// THEN loading fails and says what and where
			if err == nil {
				t.Fatalf("expect an error, got none")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("expect the error to contain %q, got:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadConfigReportsEveryPolicyError(t *testing.T) {
	// GIVEN a policy file with errors
	ctx := testContext()
	ctx[CtxPolicy] = "../shared/policy/testdata/three-errors.yaml"
	// WHEN it is loaded
	_, err := LoadConfig(getter(ctx), "")
	// THEN the error is the policy's, every line of it
	var verr *policy.ValidationError
	if !errors.As(err, &verr) || !errors.Is(err, policy.ErrInvalid) {
		t.Fatalf("expect a *policy.ValidationError, got %T %v", err, err)
	}
	for _, fe := range verr.Errors {
		if !strings.Contains(err.Error(), fe.Error()) {
			t.Errorf("expect %q in the message, got %v", fe.Error(), err)
		}
	}
	if len(verr.Errors) < 2 {
		t.Errorf("expect several errors, got %d", len(verr.Errors))
	}
}

func TestLoadConfigDefaultsAndCommandLineStrings(t *testing.T) {
	// GIVEN a context as `cdk -c` gives it: every value a string
	ctx := testContext()
	ctx[CtxStreams] = marshal(ctx[CtxStreams])
	ctx[CtxBuckets] = `{"acme-exports": "eu-west-1", "acme-us-archive": "us-east-1"}`
	ctx[CtxRegions] = "eu-west-1, us-east-1"
	ctx[CtxSweepRate] = "15 minutes"
	ctx[CtxDigestRetentionYears] = "10"
	// WHEN it is loaded, with the CLI's account
	cfg, err := LoadConfig(getter(ctx), testAccount)
	// THEN the strings are read as JSON, lists and numbers
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	got := struct {
		Regions           []string
		Account, Schedule string
		Years             int
		Buckets           map[string]string
		Streams           int
	}{cfg.Regions, cfg.Account, cfg.SweepSchedule, cfg.DigestRetentionYears, cfg.BucketRegions, len(cfg.Streams)}
	want := struct {
		Regions           []string
		Account, Schedule string
		Years             int
		Buckets           map[string]string
		Streams           int
	}{[]string{"eu-west-1", "us-east-1"}, testAccount, "rate(15 minutes)", 10,
		map[string]string{"acme-exports": "eu-west-1", "acme-exports-eu": "eu-central-1", "acme-exports-us": "us-east-1", "acme-us-archive": "us-east-1"}, 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
	if cfg.AssetDir != "bin" {
		t.Errorf("expect the default asset dir bin, got %s", cfg.AssetDir)
	}
}

func TestLoadConfigOfTheRepositoryCDKJSON(t *testing.T) {
	// GIVEN cdk.json's own context, from a directory without residency.yaml
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(DefaultPolicyFile); err == nil {
		t.Skip("a residency.yaml is present in infra/: the example policy is not the default here")
	}
	// WHEN it is loaded
	cfg, err := LoadConfig(getter(ctx), "")
	// THEN it is valid, and the policy is the example's
	if err != nil {
		t.Fatalf("expect cdk.json to be valid, got %v", err)
	}
	if cfg.PolicyFile != ExamplePolicyFile || string(cfg.PolicyYAML) != string(policy.Example) {
		t.Errorf("expect the example policy, got %s", cfg.PolicyFile)
	}
	if diff := cmp.Diff([]string{"eu-central-1", "eu-west-1", "us-east-1"}, cfg.Regions); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
	if cfg.SweepSchedule != "rate(1 hour)" || cfg.DigestRetentionYears != 7 {
		t.Errorf("expect rate(1 hour) and 7 years, got %s and %d", cfg.SweepSchedule, cfg.DigestRetentionYears)
	}
}

func TestSweepSchedule(t *testing.T) {
	cases := map[string]struct {
		in, want string
		ok       bool
	}{
		"one hour":       {"1 hour", "rate(1 hour)", true},
		"plural fixed":   {"1 hours", "rate(1 hour)", true},
		"minutes":        {"15 minutes", "rate(15 minutes)", true},
		"singular fixed": {"2 day", "rate(2 days)", true},
		"rate passes":    {"rate(6 hours)", "rate(6 hours)", true},
		"cron passes":    {"cron(0 3 * * ? *)", "cron(0 3 * * ? *)", true},
		"zero":           {"0 hours", "", false},
		"bad rate":       {"rate(hourly)", "", false},
		"words":          {"every hour", "", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := sweepSchedule(c.in)
			if (err == nil) != c.ok || got != c.want {
				t.Errorf("expect %q (ok %v), got %q (%v)", c.want, c.ok, got, err)
			}
		})
	}
}

func TestEURegion(t *testing.T) {
	cases := map[string]bool{
		"eu-central-1": true, "eu-west-1": true, "eu-west-3": true, "eu-north-1": true, "eu-south-1": true, "eu-south-2": true,
		"eu-west-2": false, "eu-central-2": false, "us-east-1": false, "il-central-1": false, "nope-1": false,
	}
	for region, want := range cases {
		if got := EURegion(region); got != want {
			t.Errorf("%s: expect %v, got %v", region, want, got)
		}
	}
}

func TestStageAssets(t *testing.T) {
	// GIVEN a build output missing one function
	bin := t.TempDir()
	for _, fn := range Functions[:4] {
		if err := os.MkdirAll(filepath.Join(bin, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bin, fn, "bootstrap"), []byte("x"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &Config{AssetDir: bin, PolicyYAML: []byte("version: x\n")}
	// WHEN it is staged
	_, err := StageAssets(cfg, t.TempDir())
	// THEN staging fails, naming the missing binary and `make build`
	if err == nil || !strings.Contains(err.Error(), filepath.Join(bin, "reports", "bootstrap")) || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("expect an error naming reports/bootstrap and make build, got %v", err)
	}

	// GIVEN the complete build output
	if err := os.MkdirAll(filepath.Join(bin, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "reports", "bootstrap"), []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	// WHEN it is staged
	dirs, err := StageAssets(cfg, t.TempDir())
	// THEN every function's directory holds an executable bootstrap and the policy
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range Functions {
		st, err := os.Stat(filepath.Join(dirs[fn], "bootstrap"))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: expect bootstrap with mode 0755, got %v %v", fn, st, err)
		}
		if b, err := os.ReadFile(filepath.Join(dirs[fn], PolicyAssetName)); err != nil || string(b) != "version: x\n" {
			t.Errorf("%s: expect residency.yaml, got %q %v", fn, b, err)
		}
	}
}

func TestStackPropsCheck(t *testing.T) {
	p, err := policy.Load("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := func() *ResidencyStackProps {
		assets := map[string]string{}
		for _, fn := range Functions {
			assets[fn] = "/x/" + fn
		}
		return &ResidencyStackProps{
			StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("eu-west-1")}},
			Policy:     p, PolicyFile: "testdata/policy.yaml", Assets: assets,
			Streams:       map[string]string{"users": testStreamARN("eu-west-1", "users"), "orders": testStreamARN("eu-west-1", "orders")},
			BucketRegions: testBuckets,
		}
	}
	cases := map[string]struct {
		change func(*ResidencyStackProps)
		want   string
	}{
		"valid":            {func(*ResidencyStackProps) {}, ""},
		"no region":        {func(p *ResidencyStackProps) { p.Env = nil }, "explicit env region"},
		"foreign region":   {func(p *ResidencyStackProps) { p.Env.Region = jsii.String("ap-south-1") }, "region ap-south-1 is not one of the regions"},
		"missing stream":   {func(p *ResidencyStackProps) { delete(p.Streams, "orders") }, `no stream ARN for watched table "orders" in eu-west-1`},
		"stream elsewhere": {func(p *ResidencyStackProps) { p.Streams["users"] = testStreamARN("us-east-1", "users") }, "is not a stream ARN of table users in eu-west-1"},
		"missing asset":    {func(p *ResidencyStackProps) { delete(p.Assets, "ledger") }, "no code asset for function ledger"},
		"missing bucket":   {func(p *ResidencyStackProps) { p.BucketRegions = nil }, "no region for watched bucket"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN props with one problem
			props := good()
			c.change(props)
			// WHEN they are checked (NewResidencyStack adds each as an
			// error annotation, which fails synthesis)
			errs := errors.Join(props.check()...)
			// THEN the problem is named
			switch {
			case c.want == "" && errs != nil:
				t.Errorf("expect no error, got %v", errs)
			case c.want != "" && (errs == nil || !strings.Contains(errs.Error(), c.want)):
				t.Errorf("expect %q, got %v", c.want, errs)
			}
		})
	}
}

func TestQuarantineKey(t *testing.T) {
	cases := map[string]struct {
		yaml string
		want []string
		err  string
	}{
		"no quarantine rule": {"", nil, ""},
		"same keys":          {"  - table: bbb\n    key: [pk, sk]\n    subject_id: u\n    subject_country: c\n    category: p\n", []string{"pk", "sk"}, ""},
		"different keys":     {"  - table: bbb\n    key: [id]\n    subject_id: u\n    subject_country: c\n    category: p\n", nil, "have different keys"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// GIVEN a policy with or without a quarantine rule
			action := "quarantine"
			if c.yaml == "" {
				action = "relocate"
			}
			doc := "version: v\nregions: [eu-west-1]\nresidency:\n  - subjects: [ANY]\n    home: eu-west-1\n    allowed: [eu-west-1]\n    on_violation: " + action +
				"\ncategories:\n  p: {personal: true, retention: 1y}\nsources:\n  - table: aaa\n    key: [pk, sk]\n    subject_id: u\n    subject_country: c\n    category: p\n" + c.yaml
			p, err := policy.Parse("q.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			// WHEN the quarantine table's key is derived
			got, err := quarantineKey(p)
			// THEN it is the watched tables' common key, or an error
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("expect %q, got %v", c.err, err)
				}
				return
			}
			if err != nil || !cmp.Equal(got, c.want) {
				t.Errorf("expect %v, got %v (%v)", c.want, got, err)
			}
		})
	}
}

func TestExposureSLOFromContext(t *testing.T) {
	cases := map[string]struct {
		value any // nil: absent
		want  time.Duration
	}{
		"absent: the default":   {nil, 60 * time.Second},
		"a number, as cdk.json": {90.0, 90 * time.Second},
		"a string, as cdk -c":   {"120", 2 * time.Minute},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := testContext()
			delete(ctx, CtxExposureSLOSeconds)
			if c.value != nil {
				ctx[CtxExposureSLOSeconds] = c.value
			}
			cfg, err := LoadConfig(getter(ctx), testAccount)
			if err != nil || cfg.ExposureSLO != c.want {
				t.Fatalf("expect the exposure SLO %v, got %v (%v)", c.want, cfg.ExposureSLO, err)
			}
		})
	}
	// cdk.json itself says 60 seconds.
	ctx, err := cdkJSONContext()
	if err != nil {
		t.Fatal(err)
	}
	if v := ctx[CtxExposureSLOSeconds]; v != 60.0 {
		t.Fatalf("expect cdk.json's %s to be 60, got %v", CtxExposureSLOSeconds, v)
	}
}
