package jurisdiction

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPolicyReferenceListsEveryAdequacyDecision keeps docs/policy.md true:
// every EU adequacy decision of the table is in its table, by country and
// number, and every country of the UK and Swiss lists is named.
func TestPolicyReferenceListsEveryAdequacyDecision(t *testing.T) {
	b, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	number := regexp.MustCompile(`\d{4}/\d+(/E[UC])?`)
	for _, a := range Adequacies(RegimeEU) {
		n := number.FindString(a.Decision)
		row := "| " + a.Country + " "
		i := strings.Index(doc, row)
		if i < 0 {
			t.Errorf("expect a row for %s (%s) in docs/policy.md, got none", a.Country, a.Name)
			continue
		}
		line, _, _ := strings.Cut(doc[i:], "\n")
		if !strings.Contains(line, n) {
			t.Errorf("expect the row of %s to cite %s, got %q", a.Country, n, line)
		}
	}
	for _, r := range []Regime{RegimeUK, RegimeCH} {
		for _, a := range Adequacies(r) {
			if !strings.Contains(doc, a.Country) {
				t.Errorf("expect %s's %s (%s) in docs/policy.md, got none", r, a.Country, a.Name)
			}
		}
	}
}
