package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

func TestNoUnsuppressedNagFindings(t *testing.T) {
	defer reportAssertion(t)
	for _, r := range allRegions {
		// GIVEN the stack, checked by cdk-nag AwsSolutions during synthesis
		ann := fixture.annotations[r]
		// WHEN its error and warning annotations are read
		errs := ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		warns := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		// THEN there is none: every finding is fixed or suppressed with a reason
		for _, m := range append(*errs, *warns...) {
			t.Errorf("%s: expect no unsuppressed cdk-nag finding, got %s", r, message(m))
		}
		// ... nor any other error (e.g. a stack's own configuration check).
		for _, m := range *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()) {
			t.Errorf("%s: expect no error annotation, got %s", r, message(m))
		}
	}
}

func TestNagSuppressionsAreFewAndReasoned(t *testing.T) {
	defer reportAssertion(t)
	// The findings this stack accepts, and nothing else.
	accepted := map[string]bool{"AwsSolutions-SQS3": true, "AwsSolutions-IAM5": true}
	for _, r := range allRegions {
		// GIVEN the cdk_nag metadata of every resource
		n := 0
		for id, res := range fixture.json[r]["Resources"].(map[string]any) {
			meta, _ := res.(map[string]any)["Metadata"].(map[string]any)
			nag, _ := meta["cdk_nag"].(map[string]any)
			// WHEN a suppression is read
			for _, s := range asList(nag["rules_to_suppress"]) {
				n++
				sup := s.(map[string]any)
				rule, _ := sup["id"].(string)
				reason, _ := sup["reason"].(string)
				// THEN it is an accepted rule, with a real reason, and an
				// IAM5 suppression names the exact wildcard it accepts
				if !accepted[rule] {
					t.Errorf("%s: %s: expect only %v suppressed, got %s", r, id, accepted, rule)
				}
				if len(reason) < 80 {
					t.Errorf("%s: %s: %s: expect a reason, got %q", r, id, rule, reason)
				}
				if rule == "AwsSolutions-IAM5" && len(asList(sup["applies_to"])) == 0 {
					t.Errorf("%s: %s: expect IAM5 suppressed for named resources only (applies_to), got none", r, id)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: expect the suppressions in the template metadata, got none", r)
		}
	}
}

func TestCfnLintOnSynthesizedTemplates(t *testing.T) {
	defer reportAssertion(t)
	// GIVEN the synthesized templates
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("cfn-lint is not on PATH under CI: install it (pip install cfn-lint)")
		}
		t.Skip("cfn-lint is not on PATH (pip install cfn-lint); CI has it and runs this test")
	}
	var templates []string
	for _, dir := range fixture.outdirs {
		found, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
		templates = append(templates, found...)
	}
	if len(templates) != len(allRegions) {
		t.Fatalf("expect %d templates in %v, got %v", len(allRegions), fixture.outdirs, templates)
	}
	// WHEN cfn-lint checks them (warnings included)
	cmd := exec.Command(lint, append([]string{"--format", "parseable"}, templates...)...)
	cmd.Env = append(os.Environ(), "PYTHONWARNINGS=ignore")
	out, err := cmd.CombinedOutput()
	// THEN it finds nothing
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("expect cfn-lint clean, got %v:\n%s", err, out)
	}
}

// message renders a synthesis message (path, level, text) for a failure.
func message(m any) string {
	b, _ := json.Marshal(m)
	return string(b)
}
