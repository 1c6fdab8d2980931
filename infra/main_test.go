package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// The tests share two syntheses: the app of testdata/policy.yaml (three
// stacks: eu-central-1, eu-west-1, us-east-1) and the app of
// testdata/eusc-policy.yaml (one stack in eusc-de-east-1, partition
// aws-eusc), built with cdk.json's feature flags, fake function binaries and
// fake stream ARNs.

const testAccount = "123456789012"

// euscRegion is the AWS European Sovereign Cloud's region.
const euscRegion = "eusc-de-east-1"

var (
	testRegions = []string{"eu-central-1", "eu-west-1", "us-east-1"}
	// allRegions are the stacks of both apps.
	allRegions = append(append([]string{}, testRegions...), euscRegion)
)

// testTables and testBuckets are the watched sources of the policies, with
// each bucket's region; testContextBuckets those of single bucket: sources,
// whose region the context gives (the others' the policy names).
var (
	testTables  = []string{"orders", "users"}
	testBuckets = map[string]string{"acme-exports-eu": "eu-central-1", "acme-exports": "eu-west-1", "acme-exports-us": "us-east-1",
		"acme-us-archive": "us-east-1", "acme-sovereign-exports": euscRegion}
	testContextBuckets = map[string]string{"acme-us-archive": "us-east-1", "acme-sovereign-exports": euscRegion}
)

func testStreamARN(region, table string) string {
	partition, _ := jurisdiction.RegionPartition(region)
	return "arn:" + partition + ":dynamodb:" + region + ":" + testAccount + ":table/" + table + "/stream/2026-11-01T00:00:00.000"
}

// testStreams is the context's stream ARNs (residency:streams) of every
// test table in each of regions.
func testStreams(regions []string) map[string]any {
	streams := map[string]any{}
	for _, r := range regions {
		m := map[string]any{}
		for _, t := range testTables {
			m[t] = testStreamARN(r, t)
		}
		streams[r] = m
	}
	return streams
}

// fixture is the synthesized apps.
var fixture struct {
	cfg *Config // of the three-region app
	// outdirs are the apps' cloud assemblies.
	outdirs   []string
	stacks    map[string]awscdk.Stack
	templates map[string]assertions.Template
	// json holds each template as plain JSON, for the walkers.
	json map[string]map[string]any
	// annotations holds each stack's synthesis messages (cdk-nag's among
	// them).
	annotations map[string]assertions.Annotations
}

func TestMain(m *testing.M) {
	code, err := setup(m)
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra tests:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "residency-infra-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)

	// Fake `make build` output: a dummy bootstrap per function.
	bin := filepath.Join(tmp, "bin")
	for _, fn := range Functions {
		if err := os.MkdirAll(filepath.Join(bin, fn), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(bin, fn, "bootstrap"), []byte("#!/bin/sh\necho "+fn+"\n"), 0o755); err != nil {
			return 0, err
		}
	}
	fixture.stacks = map[string]awscdk.Stack{}
	fixture.templates = map[string]assertions.Template{}
	fixture.json = map[string]map[string]any{}
	fixture.annotations = map[string]assertions.Annotations{}
	for i, app := range []struct {
		policy  string
		regions []string
	}{{"testdata/policy.yaml", testRegions}, {"testdata/eusc-policy.yaml", []string{euscRegion}}} {
		cfg, err := synthApp(filepath.Join(tmp, fmt.Sprint(i)), bin, app.policy, app.regions)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", app.policy, err)
		}
		if i == 0 {
			fixture.cfg = cfg
		}
	}
	return m.Run(), nil
}

// synthApp synthesizes the app of a policy's regions into dir/cdk.out and
// adds its stacks to the fixture.
func synthApp(dir, bin, policyFile string, regions []string) (*Config, error) {
	buckets := map[string]any{}
	for b, r := range testContextBuckets {
		if slices.Contains(regions, r) {
			buckets[b] = r
		}
	}
	ctx, err := cdkJSONContext()
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, r := range regions {
		list = append(list, r)
	}
	ctx[CtxRegions] = list
	ctx[CtxPolicy] = policyFile
	ctx[CtxAccount] = testAccount
	ctx[CtxStreams] = testStreams(regions)
	ctx[CtxBuckets] = buckets
	ctx[CtxAssets] = bin
	// As the CDK CLI does: asset and path metadata in the templates.
	ctx["aws:cdk:enable-asset-metadata"] = true
	ctx["aws:cdk:enable-path-metadata"] = true
	// Report error annotations (cdk-nag's) without throwing at synthesis,
	// so that TestNoUnsuppressedNagFindings names each of them.
	ctx["@aws-cdk/core:failSynthOnValidationErrors"] = false

	cfg, err := LoadConfig(func(k string) any { return ctx[k] }, "")
	if err != nil {
		return nil, err
	}
	outdir := filepath.Join(dir, "cdk.out")
	fixture.outdirs = append(fixture.outdirs, outdir)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	// Build every stack before the first synthesis (it freezes the tree).
	stacks, err := NewResidencyApp(app, cfg, filepath.Join(dir, "staging"))
	if err != nil {
		return nil, err
	}
	app.Synth(nil)
	for r, s := range stacks {
		tmpl := assertions.Template_FromStack(s, nil)
		fixture.stacks[r] = s
		fixture.templates[r] = tmpl
		fixture.json[r] = *tmpl.ToJSON()
		fixture.annotations[r] = assertions.Annotations_FromStack(s)
	}
	return cfg, nil
}

// cdkJSONContext returns the context of the repository's cdk.json (its
// feature flags are part of what is tested).
func cdkJSONContext() (map[string]any, error) {
	data, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	return doc.Context, nil
}

// resources returns the template's resources of a type, by logical id.
func resources(region, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range fixture.json[region]["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

// props returns a resource's Properties.
func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}

// logicalID returns the logical id of the one resource of typ whose
// property key equals value.
func logicalID(t *testing.T, region, typ, key string, value any) string {
	t.Helper()
	var found []string
	for id, res := range resources(region, typ) {
		if fmt.Sprint(props(res)[key]) == fmt.Sprint(value) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: expect one %s with %s=%v, got %v", region, typ, key, value, found)
	}
	return found[0]
}

func ref(id string) map[string]any    { return map[string]any{"Ref": id} }
func getAtt(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }

// reportAssertion turns the panic of a failed assertions call (a jsii
// error) into a test failure, so that the other tests still run. Deferred at
// the top of every test (and subtest) that calls the assertions API.
func reportAssertion(t *testing.T) {
	t.Helper()
	if e := recover(); e != nil {
		t.Errorf("assertion failed: %v", e)
	}
}
