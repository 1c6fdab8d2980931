package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// TransferRequest asks whether personal data of Category may go from
// FromCountry to Importer in ToCountry. FromCountry defaults to the
// organization's country. Derogation optionally flags a GDPR Art. 49(1)
// derogation by name (see jurisdiction.Derogations), used only when no
// adequacy decision or Art. 46 safeguard covers the transfer.
type TransferRequest struct {
	FromCountry string
	ToCountry   string
	Importer    string
	Category    string
	Derogation  string
}

// Transfer decision values.
const (
	DecisionAllowed = "allowed"
	DecisionDenied  = "denied"
)

// Transfer mechanisms a decision rests on.
const (
	MechanismNone       = "none"
	MechanismAdequacy   = "adequacy"
	MechanismDPF        = "dpf"
	MechanismSCC        = "scc"
	MechanismBCR        = "bcr"
	MechanismDerogation = "derogation"
)

// TransferDecision is the answer to a TransferRequest.
type TransferDecision struct {
	// Restricted is true for a transfer to a third country (GDPR Chapter V).
	Restricted bool `json:"restricted"`
	// Decision is "allowed" or "denied".
	Decision string `json:"decision"`
	// Mechanism is none, adequacy, dpf, scc, bcr or derogation.
	Mechanism string `json:"mechanism"`
	// Reference cites the decision or agreement: an adequacy decision,
	// "scc-acme-inc-2024 (SCC Module 2, TIA TIA-2024-07)", a derogation.
	Reference string `json:"reference"`
	// Reason explains the decision in a sentence; for a denial, why each
	// step failed.
	Reason string `json:"reason"`
}

// Transfer decides a transfer, in the order of GDPR Art. 44-49: a
// non-personal category, a transfer within one country or into the EEA is not
// restricted; else an adequacy decision (for the US: only the importer's
// active DPF certification); else an SCC agreement with that importer in that
// country, in force at now and covering the category; else BCRs of the
// importer's group covering the country; else a derogation flagged on the
// request; else it is denied.
//
// Importer names match case-insensitively, ignoring surrounding space. An SCC
// is in force from its signed date until the start of its expires date (UTC),
// a BCR from approved until the start of expires, a DPF certification through
// the end of its certified_until date (UTC).
//
// Input errors: [ErrUnknownCountry], [ErrUnknownCategory], [ErrBadRequest]
// (a missing field, an unknown derogation).
func (p *Policy) Transfer(req TransferRequest, now time.Time) (TransferDecision, error) {
	from, to, cat, err := p.checkTransfer(req)
	if err != nil {
		return TransferDecision{}, err
	}
	if !cat.Personal {
		return TransferDecision{Decision: DecisionAllowed, Mechanism: MechanismNone,
			Reason: "category " + cat.Name + " is not personal data: not a restricted transfer"}, nil
	}
	if from == to {
		return TransferDecision{Decision: DecisionAllowed, Mechanism: MechanismNone,
			Reason: "the data stays in " + to + ": not a restricted transfer"}, nil
	}
	if jurisdiction.IsEEA(to) {
		reason := "destination " + to + " is in the EEA: not a restricted transfer"
		if jurisdiction.IsEEA(from) {
			reason = from + " and " + to + " are both in the EEA: not a restricted transfer"
		}
		return TransferDecision{Decision: DecisionAllowed, Mechanism: MechanismNone, Reason: reason}, nil
	}

	c := p.compiled()
	now = now.UTC()
	importer := strings.TrimSpace(req.Importer)

	// Art. 45: adequacy; for the US only with the importer's DPF certification.
	a, adequate := jurisdiction.AdequacyFor(to)
	if adequate && !a.DPFOnly {
		return TransferDecision{Restricted: true, Decision: DecisionAllowed, Mechanism: MechanismAdequacy,
			Reference: a.Decision, Reason: adequacyReasons[to]}, nil
	}
	steps := [...]struct {
		typ  MechanismType
		mech string
	}{{TypeDPF, MechanismDPF}, {TypeSCC, MechanismSCC}, {TypeBCR, MechanismBCR}}
	for _, st := range steps {
		if st.typ == TypeDPF && !adequate {
			continue // a DPF certification counts only where adequacy is DPF-only
		}
		for i := range p.Mechanisms {
			m := &p.Mechanisms[i]
			if m.Type == st.typ && check(m, importer, to, cat.Name, now) == fits {
				return TransferDecision{Restricted: true, Decision: DecisionAllowed, Mechanism: st.mech,
					Reference: c.reference[i], Reason: c.reason[i]}, nil
			}
		}
	}

	// Nothing covers it: say why, step by step.
	failed := p.explain(a, adequate, importer, to, cat.Name, now)
	if ref, ok := jurisdiction.Derogation(req.Derogation); ok {
		return TransferDecision{Restricted: true, Decision: DecisionAllowed, Mechanism: MechanismDerogation,
			Reference: ref, Reason: strings.Join(failed, "; ") + "; the request relies on the derogation " + ref}, nil
	}
	failed = append(failed, "no derogation")
	return TransferDecision{Restricted: true, Decision: DecisionDenied, Mechanism: MechanismNone,
		Reason: strings.Join(failed, "; ")}, nil
}

// problem is why a mechanism does not cover a transfer.
type problem int

const (
	fits          problem = iota
	otherImporter         // another importer
	otherCountry          // the importer, but in another country
	notYet                // not yet signed or approved
	ended                 // expired, or certification ended
	otherCategory         // does not cover the category
)

// check tells whether mechanism m covers a transfer to importer in to of
// category at now, and if not, why.
func check(m *Mechanism, importer, to, category string, now time.Time) problem {
	switch m.Type {
	case TypeDPF:
		switch {
		case !sameName(m.Importer.Name, importer):
			return otherImporter
		case m.Importer.Country != to:
			return otherCountry
		case !now.Before(m.CertifiedUntil.AddDate(0, 0, 1)):
			return ended
		}
	case TypeSCC:
		switch {
		case !sameName(m.Importer.Name, importer):
			return otherImporter
		case m.Importer.Country != to:
			return otherCountry
		case now.Before(m.Signed):
			return notYet
		case !now.Before(m.Expires):
			return ended
		}
	case TypeBCR:
		switch {
		case !sameName(m.Group, importer) && !sameName(m.Importer.Name, importer):
			return otherImporter
		case !slices.Contains(m.Countries, to) && m.Importer.Country != to:
			return otherCountry
		case now.Before(m.Approved):
			return notYet
		case !m.Expires.IsZero() && !now.Before(m.Expires):
			return ended
		}
	}
	if !coversCategory(*m, category) {
		return otherCategory
	}
	return fits
}

// explain says, for each step of a transfer no mechanism covers, why.
func (p *Policy) explain(a jurisdiction.Adequacy, adequate bool, importer, to, category string, now time.Time) []string {
	why := func(typ MechanismType) (near, others []string) {
		for i := range p.Mechanisms {
			m := &p.Mechanisms[i]
			if m.Type != typ {
				continue
			}
			switch check(m, importer, to, category, now) {
			case otherImporter:
				if typ == TypeSCC {
					others = append(others, m.ID+" covers "+m.Importer.Name+" in "+m.Importer.Country)
				}
			case otherCountry:
				if typ == TypeBCR {
					near = append(near, m.ID+" does not cover "+to)
				} else {
					near = append(near, m.ID+" covers "+m.Importer.Name+" in "+m.Importer.Country)
				}
			case notYet:
				from := m.Signed
				if typ == TypeBCR {
					from = m.Approved
				}
				near = append(near, m.ID+" applies only from "+day(from))
			case ended:
				if typ == TypeDPF {
					near = append(near, m.ID+" was certified only until "+day(m.CertifiedUntil))
				} else {
					near = append(near, m.ID+" expired on "+day(m.Expires))
				}
			case otherCategory:
				near = append(near, m.ID+" does not cover category "+category)
			}
		}
		return near, others
	}
	var failed []string
	if adequate {
		near, _ := why(TypeDPF)
		failed = append(failed, "the "+to+" adequacy decision ("+a.Decision+") covers only DPF-certified importers, and "+
			quote(importer)+" has no active DPF certification"+detail(near))
	} else {
		failed = append(failed, "no adequacy decision for "+to)
	}
	near, others := why(TypeSCC)
	if len(near) == 0 {
		near = others
	}
	failed = append(failed, "no SCC agreement with importer "+quote(importer)+" in "+to+detail(near))
	near, _ = why(TypeBCR)
	return append(failed, "no BCR"+detail(near))
}

// adequacyReasons are the reasons of adequacy decisions, by country.
var adequacyReasons = func() map[string]string {
	m := map[string]string{}
	for _, a := range jurisdiction.Adequacies() {
		r := "adequacy decision for " + a.Name + " (" + a.Country + "): " + a.Decision
		if a.Scope != "" {
			r += "; it covers " + a.Scope
		}
		m[a.Country] = r
	}
	return m
}()

// checkTransfer validates a request and returns its canonical countries and
// its category.
func (p *Policy) checkTransfer(req TransferRequest) (from, to string, cat Category, err error) {
	fromIn := req.FromCountry
	if strings.TrimSpace(fromIn) == "" {
		fromIn = p.Organization.Country
	}
	if strings.TrimSpace(fromIn) == "" {
		return "", "", cat, fmt.Errorf("from country missing and the policy has no organization country: %w", ErrBadRequest)
	}
	if from, err = checkCountry("from", fromIn); err != nil {
		return "", "", cat, err
	}
	if strings.TrimSpace(req.ToCountry) == "" {
		return "", "", cat, fmt.Errorf("to country missing: %w", ErrBadRequest)
	}
	if to, err = checkCountry("to", req.ToCountry); err != nil {
		return "", "", cat, err
	}
	if req.Category == "" {
		return "", "", cat, fmt.Errorf("category missing: %w", ErrBadRequest)
	}
	cat, ok := p.Categories[req.Category]
	if !ok {
		return "", "", cat, fmt.Errorf("category %q: %w", req.Category, ErrUnknownCategory)
	}
	if strings.TrimSpace(req.Importer) == "" {
		return "", "", cat, fmt.Errorf("importer missing: %w", ErrBadRequest)
	}
	if req.Derogation != "" {
		if _, ok := jurisdiction.Derogation(req.Derogation); !ok {
			return "", "", cat, fmt.Errorf("derogation %q: %w: use one of %s", req.Derogation, ErrBadRequest,
				strings.Join(jurisdiction.Derogations(), ", "))
		}
	}
	return from, to, cat, nil
}

func checkCountry(which, cc string) (string, error) {
	if c, ok := jurisdiction.NormalizeCountry(cc); ok {
		return c, nil
	}
	if h := jurisdiction.CountryHint(cc); h != "" {
		return "", fmt.Errorf("%s country %q: %w (%s)", which, cc, ErrUnknownCountry, h)
	}
	return "", fmt.Errorf("%s country %q: %w", which, cc, ErrUnknownCountry)
}

func sameName(a, b string) bool {
	a = strings.TrimSpace(a)
	return a != "" && strings.EqualFold(a, b)
}

func coversCategory(m Mechanism, category string) bool {
	return len(m.Categories) == 0 || slices.Contains(m.Categories, category)
}

func quote(s string) string { return `"` + s + `"` }

// detail formats the reasons a step failed as " (a, b)"; "" for none.
func detail(why []string) string {
	if len(why) == 0 {
		return ""
	}
	const most = 3
	if len(why) > most {
		why = append(why[:most:most], fmt.Sprintf("%d more", len(why)-most))
	}
	return " (" + strings.Join(why, ", ") + ")"
}
