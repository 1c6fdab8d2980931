package policy

import (
	"os"
	"strings"
	"testing"
)

// TestPolicyReferenceListsEverySourceField keeps docs/policy.md true: its
// table of source fields has a row for every field a source takes.
func TestPolicyReferenceListsEverySourceField(t *testing.T) {
	b, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "| source field | meaning |")
	if !ok {
		t.Fatal("expect a table of source fields in docs/policy.md, got none")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	for _, f := range sourceFields {
		if !strings.Contains(table, "`"+f+"`") {
			t.Errorf("expect a row for source field %s in docs/policy.md, got none", f)
		}
	}
}
