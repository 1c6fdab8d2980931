package policy

import (
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

func (ps *parser) residency(top mapping) {
	n := ps.section(top, "residency", yaml.SequenceNode, "at least one rule", "a non-empty list of rules")
	if n == nil {
		return
	}
	type subject struct {
		item
		set []int // country indexes the subject stands for
	}
	var rules [][]subject
	for i, rn := range n.Content {
		path := itemPath("residency", i)
		m := ps.mapping(deref(rn), path, "subjects", "home", "allowed", "on_violation")
		r := Rule{Line: m.node.Line, OnViolation: ActionRelocate}
		if !m.ok {
			rules = append(rules, nil)
			ps.p.Rules = append(ps.p.Rules, r)
			continue
		}

		var subjects []subject
		items, _, _ := ps.list(m, "subjects", true, true)
		for _, it := range items {
			set, ok := expand(it.val)
			if !ok {
				h := jurisdiction.CountryHint(it.val)
				if up := strings.ToUpper(it.val); up != it.val && (up == GroupEEA || up == GroupEU || up == GroupANY) {
					h = "use upper case " + up
				}
				if h == "" {
					h = "use ISO 3166-1 alpha-2 codes, or the groups EEA, EU, ANY"
				}
				ps.errorf(it.line, m.field("subjects"), "unknown country code or group %q (%s)", it.val, h)
				continue
			}
			if it.val == GroupANY && len(items) > 1 {
				ps.errorf(it.line, m.field("subjects"), "ANY covers every country: list it alone")
			}
			r.Subjects = append(r.Subjects, it.val)
			subjects = append(subjects, subject{it, set})
		}
		rules = append(rules, subjects)

		homeOK := false
		if v, vn := ps.str(m, "home", true); vn != nil {
			r.Home = v
			homeOK = ps.deploymentRegion(v, vn.Line, m.field("home"))
		}
		allowed, aline, allowedOK := ps.list(m, "allowed", true, true)
		for _, it := range allowed {
			if it.val == GroupANY {
				r.AnyAllowed = true
				if len(allowed) > 1 {
					ps.errorf(it.line, m.field("allowed"), "ANY allows every region: list it alone")
				}
				continue
			}
			if !ps.deploymentRegion(it.val, it.line, m.field("allowed")) {
				allowedOK = false
			}
			r.Allowed = append(r.Allowed, it.val)
		}
		if homeOK && allowedOK && len(allowed) > 0 && !r.AnyAllowed && !slices.Contains(r.Allowed, r.Home) {
			ps.errorf(aline, m.field("allowed"), "does not include the rule's home region %s", r.Home)
		}
		if v, vn := ps.str(m, "on_violation", false); vn != nil {
			switch a := Action(v); a {
			case ActionRelocate, ActionQuarantine, ActionAlert:
				r.OnViolation = a
			default:
				ps.errorf(vn.Line, m.field("on_violation"), "unknown action %q: %suse relocate, quarantine or alert", v,
					guess(v, string(ActionRelocate), string(ActionQuarantine), string(ActionAlert)))
			}
		}
		ps.p.Rules = append(ps.p.Rules, r)
	}

	// First matching rule wins: report rules and subjects that never match.
	first := make([]int, letters*letters)
	for i := range first {
		first[i] = -1
	}
	for i, subjects := range rules {
		path := "residency[" + strconv.Itoa(i) + "].subjects"
		type dead struct {
			item
			by []int
		}
		var deads []dead
		for _, s := range subjects {
			by, fresh := map[int]bool{}, false
			for _, cc := range s.set {
				if first[cc] < 0 {
					fresh = true
					break
				}
				by[first[cc]] = true
			}
			if !fresh {
				deads = append(deads, dead{s.item, sortedKeys(by)})
			}
		}
		switch {
		case len(subjects) > 0 && len(deads) == len(subjects):
			var by []int
			for _, d := range deads {
				by = append(by, d.by...)
			}
			by = uniqueInts(by)
			msg := "rule never matches: " + ruleNames(by) + " match all its subjects first"
			if len(by) == 1 {
				msg = "rule never matches: " + ruleNames(by) + " matches all its subjects first"
			}
			for _, j := range by {
				if slices.Contains(ps.p.Rules[j].Subjects, GroupANY) {
					msg = "rule never matches: residency[" + strconv.Itoa(j) + "] matches ANY subject first"
					break
				}
			}
			ps.errorf(subjects[0].line, path, "%s", msg)
		default:
			for _, d := range deads {
				verb := "matches"
				if len(d.by) > 1 {
					verb = "match"
				}
				ps.errorf(d.line, path, "%s never matches: %s %s it first", d.val, ruleNames(d.by), verb)
			}
		}
		for _, s := range subjects {
			for _, cc := range s.set {
				if first[cc] < 0 {
					first[cc] = i
				}
			}
		}
	}
}

func ruleNames(idx []int) string {
	names := make([]string, len(idx))
	for i, j := range idx {
		names[i] = "residency[" + strconv.Itoa(j) + "]"
	}
	return strings.Join(names, ", ")
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func uniqueInts(s []int) []int {
	sort.Ints(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// expand returns the country indexes a subject (country code or group)
// stands for; false if it is neither.
func expand(s string) ([]int, bool) {
	var out []int
	switch s {
	case GroupANY, GroupEEA, GroupEU:
		for _, cc := range jurisdiction.Countries() {
			if s == GroupANY || s == GroupEEA && jurisdiction.IsEEA(cc) || s == GroupEU && jurisdiction.IsEU(cc) {
				out = append(out, countryIndex(cc))
			}
		}
		return out, true
	}
	if !jurisdiction.ValidCountry(s) {
		return nil, false
	}
	return []int{countryIndex(s)}, true
}

const letters = 26

// countryIndex maps a canonical two-letter code to 0..675.
func countryIndex(cc string) int {
	return int(cc[0]-'A')*letters + int(cc[1]-'A')
}
