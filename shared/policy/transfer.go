package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// TransferRequest asks whether personal data of Category may go from
// Exporter to Importer in ToCountry.
type TransferRequest struct {
	// FromCountry is where the data is stored (the country of the region
	// that holds it). It is checked and kept, but it does not decide: an
	// onward transfer from data stored outside the exporter's regime is
	// restricted too (GDPR Art. 44).
	FromCountry string
	// Exporter names the organization or one of the policy's entities; ""
	// is the organization.
	Exporter  string
	ToCountry string
	Importer  string
	Category  string
	// Derogation optionally flags a derogation by name (see
	// jurisdiction.Derogations), used only when no adequacy finding or
	// safeguard covers the transfer.
	Derogation string
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
	MechanismUKIDTA     = "uk_idta"
	MechanismUKAddendum = "uk_addendum"
	MechanismBCR        = "bcr"
	MechanismDerogation = "derogation"
)

// TransferDecision is the answer to a TransferRequest.
type TransferDecision struct {
	// Restricted is true for a transfer the exporter's regime restricts:
	// to an importer outside its area (GDPR Chapter V and its UK and Swiss
	// counterparts).
	Restricted bool `json:"restricted"`
	// Decision is "allowed" or "denied".
	Decision string `json:"decision"`
	// Mechanism is none, adequacy, dpf, scc, uk_idta, uk_addendum, bcr or
	// derogation.
	Mechanism string `json:"mechanism"`
	// Reference cites the instrument the transfer rests on: an adequacy
	// finding, or a mechanism's id with its instrument ("scc-acme-inc-2024
	// (Commission Implementing Decision (EU) 2021/914, Module 2 (controller
	// to processor); TIA TIA-2024-07)"), a derogation's article.
	Reference string `json:"reference"`
	// Reason explains the decision in a sentence; for a denial, why each
	// step failed.
	Reason string `json:"reason"`
	// Exporter is the exporter's name; Regime the law it is subject to
	// ("EU GDPR", "UK GDPR", "Swiss FADP").
	Exporter string `json:"exporter"`
	Regime   string `json:"regime"`
	// FromCountry is where the data is stored, as requested; it is kept
	// for the record and does not make a transfer unrestricted.
	FromCountry string `json:"from_country,omitempty"`
}

// transfer is a checked request.
type transfer struct {
	exporter Party
	regime   jurisdiction.Regime
	from, to string
	importer string
	facts    Importer // what the policy says of the importer
	category string
	now      time.Time
}

// Transfer decides a transfer in the order of GDPR Art. 44-49 (and of their
// UK GDPR and FADP counterparts), under the regime of the exporter: the
// organization, or the entity the request names. A non-personal category, or
// an importer inside the regime's area, is not a restricted transfer; else an
// adequacy finding of that regime in force at now (a partial one only for an
// importer the policy declares in its scope; for the US only the importer's
// active certification under the framework the regime recognises); else
// standard clauses signed by that exporter with that importer in that
// country, in force and covering the category (EU SCCs for EU and Swiss
// exporters, but not for an importer itself subject to the GDPR under Art.
// 3(2); the ICO's IDTA or Addendum for UK exporters); else BCRs approved
// under the regime; else a derogation flagged on the request; else denied.
//
// Names match case-insensitively, ignoring surrounding space. Clauses are in
// force from their signed date until the start of their expires date (UTC),
// a BCR from approved until the start of expires, a DPF certification through
// the end of its certified_until date, an adequacy finding as its
// jurisdiction entry says.
//
// Input errors: [ErrUnknownCountry], [ErrUnknownCategory],
// [ErrUnknownExporter], [ErrNoRegime], [ErrBadRequest] (a missing field, an
// unknown derogation).
func (p *Policy) Transfer(req TransferRequest, now time.Time) (TransferDecision, error) {
	t, cat, err := p.checkTransfer(req)
	if err != nil {
		return TransferDecision{}, err
	}
	t.now = now.UTC()
	d := TransferDecision{Decision: DecisionAllowed, Mechanism: MechanismNone, Exporter: t.exporter.Name, Regime: string(t.regime), FromCountry: t.from}
	if !cat.Personal {
		d.Reason = "category " + cat.Name + " is not personal data: not a restricted transfer"
		return d, nil
	}
	if t.regime.Covers(t.to) {
		d.Reason = "exporter " + t.exporter.Name + " (" + t.exporter.Country + ") and the importer in " + t.to + " are both in " +
			t.regime.Area() + " (" + string(t.regime) + "): not a restricted transfer"
		if t.from != "" && !t.regime.Covers(t.from) {
			d.Reason += ", although the data is stored in " + t.from
		}
		return d, nil
	}
	d.Restricted = true
	c := p.compiled()
	ri := regimeIndex(t.regime)

	// Art. 45: adequacy, partial ones only for importers declared in scope,
	// the US only for certified importers.
	a, adequate := jurisdiction.AdequacyAt(t.regime, t.to, t.now)
	switch {
	case adequate && a.Framework == "" && (a.Scope == "" || t.facts.AdequacyScope == a.Scope):
		d.Mechanism, d.Reference, d.Reason = MechanismAdequacy, a.Decision, adequacyReason(a, t)
		return d, nil
	case adequate && a.Framework != "":
		if i := p.find(TypeDPF, t); i >= 0 {
			d.Mechanism, d.Reference, d.Reason = MechanismDPF, c.reference[i][ri], c.reason[i][ri]
			return d, nil
		}
	}
	// Art. 46: standard clauses; Art. 47: BCRs.
	for _, typ := range clauseTypes(t.regime) {
		if i := p.find(typ, t); i >= 0 {
			d.Mechanism, d.Reference, d.Reason = mechanismOf(typ), c.reference[i][ri], c.reason[i][ri]
			return d, nil
		}
	}
	if i := p.find(TypeBCR, t); i >= 0 {
		d.Mechanism, d.Reference, d.Reason = MechanismBCR, c.reference[i][ri], c.reason[i][ri]
		return d, nil
	}

	// Nothing covers it: say why, step by step.
	failed := p.explain(a, adequate, t)
	if ref, ok := jurisdiction.Derogation(t.regime, req.Derogation); ok {
		d.Mechanism, d.Reference = MechanismDerogation, ref
		d.Reason = strings.Join(failed, "; ") + "; the request relies on the derogation " + ref
		return d, nil
	}
	d.Decision = DecisionDenied
	d.Reason = strings.Join(append(failed, "no derogation"), "; ")
	return d, nil
}

// clauseTypes are the standard clauses an exporter under r signs.
func clauseTypes(r jurisdiction.Regime) []MechanismType {
	if r == jurisdiction.RegimeUK {
		return []MechanismType{TypeUKAddendum, TypeUKIDTA}
	}
	return []MechanismType{TypeSCC}
}

func mechanismOf(t MechanismType) string {
	switch t {
	case TypeUKIDTA:
		return MechanismUKIDTA
	case TypeUKAddendum:
		return MechanismUKAddendum
	}
	return string(t)
}

// find returns the index of the first mechanism of type typ that covers t,
// or -1.
func (p *Policy) find(typ MechanismType, t transfer) int {
	for i := range p.Mechanisms {
		if m := &p.Mechanisms[i]; m.Type == typ && check(m, t) == fits {
			return i
		}
	}
	return -1
}

// problem is why a mechanism does not cover a transfer.
type problem int

const (
	fits          problem = iota
	otherImporter         // another importer
	otherCountry          // the importer, but in another country
	otherExporter         // clauses signed by another exporter
	otherRegime           // a DPF certification or BCR that the exporter's regime does not recognise
	importerArt32         // EU SCCs, but the importer is subject to the GDPR (Art. 3(2))
	notYet                // not yet signed or approved
	ended                 // expired, or certification ended
	otherCategory         // does not cover the category
)

// check tells whether mechanism m covers transfer t, and if not, why.
func check(m *Mechanism, t transfer) problem {
	switch {
	case m.Type == TypeDPF:
		switch {
		case !sameName(m.Importer.Name, t.importer):
			return otherImporter
		case m.Importer.Country != t.to:
			return otherCountry
		case t.regime == jurisdiction.RegimeUK && !m.UKExtension, t.regime == jurisdiction.RegimeCH && !m.SwissUS:
			return otherRegime
		case !t.now.Before(m.CertifiedUntil.AddDate(0, 0, 1)):
			return ended
		}
	case m.Type.clauses():
		switch {
		case !sameName(m.Importer.Name, t.importer):
			return otherImporter
		case !sameName(m.Exporter.Name, t.exporter.Name):
			return otherExporter
		case m.Importer.Country != t.to:
			return otherCountry
		case m.Type == TypeSCC && t.regime == jurisdiction.RegimeEU && t.facts.GDPRArt32:
			return importerArt32
		case t.now.Before(m.Signed):
			return notYet
		case !t.now.Before(m.Expires):
			return ended
		}
	case m.Type == TypeBCR:
		switch {
		case !sameName(m.Group, t.importer) && !sameName(m.Importer.Name, t.importer):
			return otherImporter
		case !slices.Contains(m.Countries, t.to) && m.Importer.Country != t.to:
			return otherCountry
		case !slices.Contains(m.Regimes, t.regime):
			return otherRegime
		case t.now.Before(m.Approved):
			return notYet
		case !m.Expires.IsZero() && !t.now.Before(m.Expires):
			return ended
		}
	}
	if !coversCategory(*m, t.category) {
		return otherCategory
	}
	return fits
}

// adequacyLabel names a regime's adequacy findings: "EU adequacy decision".
func adequacyLabel(r jurisdiction.Regime) string {
	switch r {
	case jurisdiction.RegimeUK:
		return "UK adequacy regulations"
	case jurisdiction.RegimeCH:
		return "Swiss adequacy listing"
	}
	return "EU adequacy decision"
}

// place names a finding's country: "Brazil (BR)", "the United States
// (US)", or the code alone.
func place(a jurisdiction.Adequacy) string {
	switch a.Country {
	case "":
		return a.Country
	case "US", "GB", "KR", "FO":
		return "the " + a.Name + " (" + a.Country + ")"
	}
	if a.Name == "" {
		return a.Country
	}
	return a.Name + " (" + a.Country + ")"
}

// verb conjugates a verb for a regime's adequacyLabel: "covers", or
// "cover" for the UK's regulations.
func verb(r jurisdiction.Regime, v string) string {
	if r == jurisdiction.RegimeUK {
		return v
	}
	if strings.HasSuffix(v, "y") {
		return strings.TrimSuffix(v, "y") + "ies"
	}
	return v + "s"
}

func adequacyReason(a jurisdiction.Adequacy, t transfer) string {
	r := adequacyLabel(t.regime) + " for " + place(a) + ": " + a.Decision + ", in force from " + day(a.From)
	if !a.Until.IsZero() {
		r += " until " + day(a.Until)
	}
	if a.Scope != "" {
		r += "; it covers " + a.ScopeText + ", and the policy declares " + quote(t.importer) + " in that scope (adequacy_scope " + a.Scope + ")"
	}
	return r
}

// explain says, for each step of a transfer no mechanism covers, why.
func (p *Policy) explain(a jurisdiction.Adequacy, adequate bool, t transfer) []string {
	// near are the mechanisms that nearly cover the transfer; others,
	// said only when none does, those of the exporter for other importers
	// and those of other exporters for this importer.
	why := func(types ...MechanismType) (near, others []string) {
		for i := range p.Mechanisms {
			m := &p.Mechanisms[i]
			if !slices.Contains(types, m.Type) {
				continue
			}
			switch check(m, t) {
			case otherImporter:
				if m.Type.clauses() && sameName(m.Exporter.Name, t.exporter.Name) {
					others = append(others, m.ID+" covers "+m.Importer.Name+" in "+m.Importer.Country)
				}
			case otherCountry:
				if m.Type == TypeBCR {
					near = append(near, m.ID+" does not cover "+t.to)
				} else {
					near = append(near, m.ID+" covers "+m.Importer.Name+" in "+m.Importer.Country)
				}
			case otherExporter:
				others = append(others, m.ID+" is signed by "+m.Exporter.Name+", not "+t.exporter.Name)
			case otherRegime:
				if m.Type == TypeDPF {
					near = append(near, m.ID+" does not cover the "+string(usFramework(t.regime)))
				} else {
					near = append(near, m.ID+" is not approved under the "+string(t.regime))
				}
			case importerArt32:
				near = append(near, m.ID+": the SCCs of Decision (EU) 2021/914 cannot serve importer "+quote(t.importer)+
					", whose processing the policy marks subject to the GDPR under Art. 3(2) (gdpr_art3_2; recital 7 and Art. 1 of the decision)")
			case notYet:
				from := m.Signed
				if m.Type == TypeBCR {
					from = m.Approved
				}
				near = append(near, m.ID+" applies only from "+day(from))
			case ended:
				if m.Type == TypeDPF {
					near = append(near, m.ID+" was certified only until "+day(m.CertifiedUntil))
				} else {
					near = append(near, m.ID+" expired on "+day(m.Expires))
				}
			case otherCategory:
				near = append(near, m.ID+" does not cover category "+t.category)
			}
		}
		return near, others
	}
	label := adequacyLabel(t.regime)
	var failed []string
	switch history := jurisdiction.AdequacyHistory(t.regime, t.to); {
	case adequate && a.Framework != "":
		near, _ := why(TypeDPF)
		failed = append(failed, "the "+label+" for "+place(a)+" ("+a.Decision+") "+verb(t.regime, "cover")+" only importers certified under the "+
			string(a.Framework)+", and "+quote(t.importer)+" has no active certification under it"+detail(near))
	case adequate:
		failed = append(failed, "the "+label+" for "+place(a)+" ("+a.Decision+") "+verb(t.regime, "cover")+" only "+a.ScopeText+
			", and the policy does not declare importer "+quote(t.importer)+" in that scope (importers: adequacy_scope: "+a.Scope+")")
	case len(history) == 0:
		failed = append(failed, "no "+label+" for "+t.to)
	case t.now.Before(history[0].From):
		failed = append(failed, "the "+label+" for "+place(history[0])+" ("+history[0].Decision+") "+verb(t.regime, "apply")+" only from "+day(history[0].From))
	default:
		last := history[len(history)-1]
		failed = append(failed, "the "+label+" for "+place(last)+" ("+last.Decision+") expired on "+day(last.Until))
	}
	types := clauseTypes(t.regime)
	near, others := why(types...)
	if len(near) == 0 {
		near = others
	}
	failed = append(failed, "no "+clausesName(t.regime)+" between exporter "+quote(t.exporter.Name)+" and importer "+quote(t.importer)+" in "+t.to+detail(near))
	near, _ = why(TypeBCR)
	return append(failed, "no BCR approved under the "+string(t.regime)+detail(near))
}

func clausesName(r jurisdiction.Regime) string {
	if r == jurisdiction.RegimeUK {
		return "UK IDTA or Addendum"
	}
	return "SCC agreement"
}

// usFramework is the data privacy framework regime r recognises.
func usFramework(r jurisdiction.Regime) jurisdiction.Framework {
	switch r {
	case jurisdiction.RegimeUK:
		return jurisdiction.FrameworkUKExtension
	case jurisdiction.RegimeCH:
		return jurisdiction.FrameworkSwissUS
	}
	return jurisdiction.FrameworkDPF
}

// checkTransfer validates a request: its exporter and regime, its
// countries, category and importer.
func (p *Policy) checkTransfer(req TransferRequest) (t transfer, cat Category, err error) {
	switch name := strings.TrimSpace(req.Exporter); {
	case name != "":
		exp, ok := p.exporterNamed(name)
		if !ok {
			return t, cat, fmt.Errorf("exporter %q: %w (%s)", name, ErrUnknownExporter, p.exporterNames())
		}
		t.exporter = exp
	case p.Organization.Country == "":
		return t, cat, fmt.Errorf("exporter missing and the policy has no organization: %w", ErrBadRequest)
	default:
		t.exporter = p.Organization
	}
	var ok bool
	if t.regime, ok = jurisdiction.RegimeOf(t.exporter.Country); !ok {
		return t, cat, fmt.Errorf("exporter %s in %s: %w: %s", t.exporter.Name, t.exporter.Country, ErrNoRegime, regimeHelp)
	}
	if strings.TrimSpace(req.FromCountry) != "" {
		if t.from, err = checkCountry("from", req.FromCountry); err != nil {
			return t, cat, err
		}
	}
	if strings.TrimSpace(req.ToCountry) == "" {
		return t, cat, fmt.Errorf("to country missing: %w", ErrBadRequest)
	}
	if t.to, err = checkCountry("to", req.ToCountry); err != nil {
		return t, cat, err
	}
	if req.Category == "" {
		return t, cat, fmt.Errorf("category missing: %w", ErrBadRequest)
	}
	if cat, ok = p.Categories[req.Category]; !ok {
		return t, cat, fmt.Errorf("category %q: %w", req.Category, ErrUnknownCategory)
	}
	t.category = cat.Name
	if t.importer = strings.TrimSpace(req.Importer); t.importer == "" {
		return t, cat, fmt.Errorf("importer missing: %w", ErrBadRequest)
	}
	t.facts = p.importer(t.importer, t.to)
	if req.Derogation != "" {
		if _, ok := jurisdiction.Derogation(t.regime, req.Derogation); !ok {
			return t, cat, fmt.Errorf("derogation %q: %w: use one of %s", req.Derogation, ErrBadRequest,
				strings.Join(jurisdiction.Derogations(), ", "))
		}
	}
	return t, cat, nil
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
	return a != "" && strings.EqualFold(a, strings.TrimSpace(b))
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
