package policy

import (
	"fmt"
	"strings"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// ResidencyDecision says where a record must live and whether the region it
// is in is allowed.
type ResidencyDecision struct {
	// SubjectCountry is the subject's country, canonical; as given when
	// unknown.
	SubjectCountry string `json:"subject_country"`
	// Jurisdiction is "EEA" for EEA countries, else the country code; ""
	// for a non-personal category whose country is unknown.
	Jurisdiction string `json:"jurisdiction"`
	// Assumed is true when the country was missing or unknown and the
	// subject was treated as EEA, the strictest (unknown_subject: strictest).
	Assumed bool `json:"assumed,omitempty"`
	// HomeRegion is the matched rule's home region; the region itself when
	// no rule applies.
	HomeRegion string `json:"home_region"`
	// Allowed is true when the region is in the matched rule's allowed
	// regions (or the rule allows ANY), or when no rule applies.
	Allowed bool `json:"allowed"`
	// Action is ActionNone when allowed, else the rule's on_violation.
	Action Action `json:"action"`
	// Personal is false for a non-personal category: no rule applies, the
	// record may live anywhere.
	Personal bool `json:"personal"`
	// Rule is the index of the matched residency rule; -1 when no rule
	// applies (non-personal data, or no rule matches the country).
	Rule int `json:"rule"`
}

// Residency decides where the record of a subject from country, of category,
// stored in region, must live. country is read leniently (" fr" is FR); a
// missing or unknown country is treated as EEA (Assumed) under
// unknown_subject: strictest, and is an [ErrUnknownSubject] error under
// unknown_subject: reject. region must be a known AWS region
// ([ErrBadRequest]), category one of the policy's ([ErrUnknownCategory]).
//
// Residency does not allocate except to return an error.
func (p *Policy) Residency(country, region, category string) (ResidencyDecision, error) {
	cat, ok := p.Categories[category]
	if !ok {
		return ResidencyDecision{}, fmt.Errorf("category %q: %w", category, ErrUnknownCategory)
	}
	if _, ok := jurisdiction.RegionCountry(region); !ok {
		return ResidencyDecision{}, fmt.Errorf("region %q: %w: unknown AWS region", region, ErrBadRequest)
	}
	c := p.compiled()
	d := ResidencyDecision{Personal: cat.Personal, Rule: -1, HomeRegion: region, Allowed: true, Action: ActionNone}
	cc, known := jurisdiction.NormalizeCountry(country)
	if known {
		d.SubjectCountry = cc
		d.Jurisdiction = cc
		if jurisdiction.IsEEA(cc) {
			d.Jurisdiction = GroupEEA
		}
	} else {
		d.SubjectCountry = strings.TrimSpace(country)
	}
	if !cat.Personal {
		return d, nil
	}
	rule := -1
	if known {
		rule = int(c.ruleFor[countryIndex(cc)])
	} else {
		if p.UnknownSubject == UnknownReject {
			if d.SubjectCountry == "" {
				return ResidencyDecision{}, fmt.Errorf("subject country missing: %w", ErrUnknownSubject)
			}
			return ResidencyDecision{}, fmt.Errorf("subject country %q: %w", country, ErrUnknownSubject)
		}
		d.Jurisdiction = GroupEEA
		d.Assumed = true
		rule = c.unknownRule
	}
	if rule < 0 || rule >= len(p.Rules) {
		return d, nil
	}
	r := &p.Rules[rule]
	d.Rule = rule
	d.HomeRegion = r.Home
	if _, in := c.allowed[rule][region]; in || r.AnyAllowed {
		return d, nil
	}
	d.Allowed = false
	d.Action = r.OnViolation
	if d.Action == "" {
		d.Action = ActionRelocate
	}
	return d, nil
}
