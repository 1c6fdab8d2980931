package policy

import (
	_ "embed"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/jurisdiction"
)

// Example is the example policy of DESIGN Appendix A, comments included. It
// is the policy `residency` falls back to when no policy file is given.
//
//go:embed example.yaml
var Example []byte

// exampleFile names the embedded example in errors.
const exampleFile = "example.yaml"

// MustExample parses [Example]. It panics only if the embedded file is
// broken, which the package's tests rule out.
func MustExample() *Policy {
	p, err := Parse(exampleFile, Example)
	if err != nil {
		panic("policy: embedded example is invalid: " + err.Error())
	}
	return p
}

// Role is a party's role in processing: [Controller] or [Processor].
type Role string

// Roles, as GDPR Art. 4(7) and 4(8) define them.
const (
	Controller Role = "controller"
	Processor  Role = "processor"
)

// Party is an exporter or importer of personal data.
type Party struct {
	Name    string
	Role    Role   // "" when the policy does not say (DPF, BCR)
	Country string // ISO 3166-1 alpha-2
}

// Action is what to do with a record stored outside its allowed regions.
type Action string

// Actions. A rule's on_violation is one of relocate, quarantine or alert;
// [ActionNone] is what a decision says when there is nothing to do.
const (
	ActionNone       Action = "none"
	ActionRelocate   Action = "relocate"
	ActionQuarantine Action = "quarantine"
	ActionAlert      Action = "alert"
)

// Rule is a residency rule: the data of Subjects lives in Home and may be
// stored only in Allowed (any region when AnyAllowed).
type Rule struct {
	// Subjects are ISO 3166-1 alpha-2 codes or the groups EEA, EU and ANY.
	Subjects []string
	Home     string
	// Allowed are the allowed regions; empty when AnyAllowed.
	Allowed    []string
	AnyAllowed bool
	// OnViolation defaults to ActionRelocate.
	OnViolation Action
	// Line is the rule's line in the policy file.
	Line int
}

// Trigger is the event a retention period runs from.
type Trigger string

// Retention triggers.
const (
	FromCreated      Trigger = "created"
	FromLastActivity Trigger = "last_activity"
	FromContractEnd  Trigger = "contract_end"
)

// Category is a data category. Personal categories have a retention period;
// non-personal ones are not subject to residency rules or retention.
type Category struct {
	Name      string
	Personal  bool
	Retention Duration
	From      Trigger // FromCreated when the policy does not say
	Line      int
}

// Source is a watched DynamoDB table or S3 bucket (and key prefix), with the
// names of the attributes (or object metadata keys) that hold the subject,
// category and timestamps of a record.
type Source struct {
	Table string
	// Bucket is the source's one bucket (the single bucket: form), in
	// whichever region it was created; Buckets, set instead, names the
	// source's bucket in each region (the buckets: form, region -> bucket
	// name), so that a misplaced object can be moved to its home region's
	// bucket. S3 bucket names are global: each region's bucket has a name
	// of its own.
	Bucket  string
	Buckets map[string]string
	Prefix  string
	// Key are the table's key attributes; empty for buckets.
	Key            []string
	SubjectID      string
	SubjectCountry string
	// Category is the fixed category of every record; CategoryAttr, when
	// set instead, names the attribute that holds each record's category.
	Category     string
	CategoryAttr string
	CreatedAt    string
	LastActivity string
	Contract     string
	// TTLAttribute names the table's DynamoDB TTL attribute, if the
	// platform enabled TTL on the table: the tagger sets it TTLBackstop
	// after each record's retain-until, a backstop behind the sweep.
	TTLAttribute string
	Line         int
}

// TTLBackstop is how long after its retain-until a record's TTL attribute
// expires it. DynamoDB deletes expired items "typically within a few days"
// (Amazon DynamoDB Developer Guide, "Time to Live"), best-effort and with
// no receipt: the retention sweep is the deadline, and TTL only catches what
// a sweep that stopped running would leave.
const TTLBackstop = 3 * 24 * time.Hour

// TTL returns the epoch seconds a source's TTL attribute gets for a record
// retained until retainUntil (RFC 3339), or 0 when it has no retention (the
// attribute is removed).
func TTL(retainUntil string) int64 {
	t, err := time.Parse(time.RFC3339, retainUntil)
	if err != nil {
		return 0
	}
	return t.Add(TTLBackstop).Unix()
}

// NameIn returns the source's name in region: the table name, or the
// bucket it watches there ("" when a buckets: source has none there; the
// single bucket: form names its one bucket).
func (s *Source) NameIn(region string) string {
	if s.Table != "" {
		return s.Table
	}
	if s.Bucket != "" {
		return s.Bucket
	}
	b, _ := s.BucketIn(region)
	return b
}

// Name returns the table name, or else the bucket name (of the buckets:
// form, the first in region order).
func (s *Source) Name() string {
	if s.Table != "" {
		return s.Table
	}
	if s.Bucket != "" {
		return s.Bucket
	}
	if names := s.BucketNames(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// IsBucket reports whether the source is an S3 bucket source (either form).
func (s *Source) IsBucket() bool { return s.Bucket != "" || len(s.Buckets) > 0 }

// BucketNames returns the source's bucket names: its one bucket, or its
// bucket of each region in the order of the regions' names.
func (s *Source) BucketNames() []string {
	if s.Bucket != "" {
		return []string{s.Bucket}
	}
	out := make([]string, 0, len(s.Buckets))
	for _, r := range slices.Sorted(maps.Keys(s.Buckets)) {
		out = append(out, s.Buckets[r])
	}
	return out
}

// HasBucket reports whether name is one of the source's buckets.
func (s *Source) HasBucket(name string) bool {
	if name == "" {
		return false
	}
	if s.Bucket == name {
		return true
	}
	for _, b := range s.Buckets {
		if b == name {
			return true
		}
	}
	return false
}

// BucketIn returns the source's bucket in region: only the buckets: form
// says where its buckets are (a single bucket: lives in one region, which
// the policy does not name).
func (s *Source) BucketIn(region string) (string, bool) {
	b, ok := s.Buckets[region]
	return b, ok
}

// RegionOfBucket returns the region the buckets: form names for bucket.
func (s *Source) RegionOfBucket(bucket string) (string, bool) {
	for r, b := range s.Buckets {
		if b == bucket {
			return r, true
		}
	}
	return "", false
}

// MechanismType is the kind of a transfer mechanism.
type MechanismType string

// Mechanism types.
const (
	// TypeSCC is a Standard Contractual Clauses agreement, Commission
	// Implementing Decision (EU) 2021/914 (GDPR Art. 46(2)(c)).
	TypeSCC MechanismType = "scc"
	// TypeDPF is an importer's EU-US Data Privacy Framework certification,
	// Commission Implementing Decision (EU) 2023/1795 (GDPR Art. 45).
	TypeDPF MechanismType = "dpf"
	// TypeBCR is a group's approved Binding Corporate Rules (GDPR Art. 47,
	// UK GDPR Art. 47, FADP Art. 16(2)(e)).
	TypeBCR MechanismType = "bcr"
	// TypeUKIDTA is the ICO's International Data Transfer Agreement, for
	// exporters under the UK GDPR (DPA 2018 s.119A).
	TypeUKIDTA MechanismType = "uk_idta"
	// TypeUKAddendum is the ICO's International Data Transfer Addendum to
	// the EU SCCs, for exporters under the UK GDPR (DPA 2018 s.119A).
	TypeUKAddendum MechanismType = "uk_addendum"
)

// clauses reports whether mechanisms of type t are standard clauses signed
// between an exporter and an importer: in force from Signed until the start
// of Expires, with a transfer impact assessment.
func (t MechanismType) clauses() bool {
	return t == TypeSCC || t == TypeUKIDTA || t == TypeUKAddendum
}

// Mechanism is a transfer mechanism the organisation can rely on. Which
// fields are set depends on Type; dates are UTC midnight, zero when absent.
type Mechanism struct {
	ID   string
	Type MechanismType
	// Module is the SCC module, 1-4 (SCC and UK Addendum).
	Module   int
	Exporter Party // SCC, UK IDTA, UK Addendum: defaults to the policy's organization
	Importer Party // SCC, UK IDTA, UK Addendum, DPF; BCR: optional group member
	// Group is the corporate group bound by the BCR (BCR only).
	Group string
	// Countries the BCR covers (BCR only; empty: see Importer).
	Countries []string
	// Signed and Expires bound an SCC agreement: in force from Signed until
	// the start of Expires. Expires is also an optional BCR end date.
	Signed  time.Time
	Expires time.Time
	// CertifiedUntil is the last day of a DPF certification.
	CertifiedUntil time.Time
	// UKExtension and SwissUS say a DPF certification also covers the UK
	// Extension to the EU-U.S. DPF and the Swiss-U.S. DPF (DPF only).
	UKExtension bool
	SwissUS     bool
	// Regimes are the regimes whose authorities approved the BCR (BCR only;
	// the EU GDPR when the policy does not say).
	Regimes []jurisdiction.Regime
	// Approved is the BCR approval date.
	Approved time.Time
	// TIA is the reference of the transfer impact assessment (SCC Clause 14;
	// the ICO's transfer risk assessment for the UK IDTA and Addendum).
	TIA string
	// Reference is the BCR approval reference.
	Reference string
	// Categories limits the mechanism to these data categories; empty: all.
	Categories []string
	Line       int
}

// Policy is a parsed, validated policy file. Obtain it from [Load], [Parse]
// or [MustExample]; treat it as read-only (its decisions use lookups compiled
// by Parse). It is safe for concurrent use.
type Policy struct {
	// File is the file name the policy was parsed from.
	File string
	// SHA256 is the SHA-256 of the bytes the policy was parsed from (the
	// file as loaded; for [MustExample], the embedded [Example]), in hex:
	// what `sha256sum` prints for the file. A report carries it, so an
	// auditor can tell which policy file it was made under.
	SHA256 string
	// Version is recorded on every tag and ledger entry.
	Version string
	// Organization is the default exporter; zero if the policy has none.
	Organization Party
	// Entities are the group's other exporters, which a transfer request
	// may name instead of the organization.
	Entities []Party
	// Importers are facts about importers that transfer decisions need.
	Importers []Importer
	// Hosting is the cloud provider that holds the records of the regions
	// outside the exporter's regime; nil if the policy names none.
	Hosting *Hosting
	// Regions are the AWS regions of the deployment.
	Regions []string
	// Rules are the residency rules (the file's "residency" list), in
	// order: the first matching rule wins. (Named Rules because the
	// Residency method takes the name.)
	Rules []Rule
	// UnknownSubject is "strictest" (treat as EEA) or "reject".
	UnknownSubject string
	Categories     map[string]Category
	Sources        []Source
	Mechanisms     []Mechanism

	c *compiled
}

// Importer holds what the law needs to know about an importer besides its
// name and country.
type Importer struct {
	Name    string
	Country string
	// AdequacyScope declares the importer within the scope of a partial
	// adequacy decision for its country (jurisdiction.ScopePIPEDA, ...).
	AdequacyScope string
	// GDPRArt32 says the importer's processing is itself subject to the
	// GDPR under Art. 3(2), so the SCCs of Decision (EU) 2021/914 do not
	// apply to it (the decision's recital 7 and Art. 1).
	GDPRArt32 bool
	Line      int
}

// Hosting is the provider of the deployment's regions: storing records of
// an exporter in a region outside its regime's area discloses them to the
// provider there, a transfer in its own right.
type Hosting struct {
	Name    string
	Country string
	// Mechanism is the id of the mechanism the hosting rests on.
	Mechanism string
	Line      int
}

// Unknown-subject policies.
const (
	UnknownStrictest = "strictest"
	UnknownReject    = "reject"
)

// Load reads and parses the policy file at path. Validation errors name the
// file as path; an I/O error is wrapped with the path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load policy %s: %w", path, err)
	}
	return Parse(path, data)
}

// HasRegion reports whether r is one of the deployment's regions.
func (p *Policy) HasRegion(r string) bool {
	for _, x := range p.Regions {
		if x == r {
			return true
		}
	}
	return false
}

// Category returns the category of that name.
func (p *Policy) Category(name string) (Category, bool) {
	c, ok := p.Categories[name]
	return c, ok
}

// SourceByName returns the first source whose table, or one of whose
// buckets (in any region), is name.
func (p *Policy) SourceByName(name string) (*Source, bool) {
	for i := range p.Sources {
		if s := &p.Sources[i]; s.Table == name || (s.Table == "" && s.HasBucket(name)) {
			return s, true
		}
	}
	return nil, false
}

// SourceForObject returns the source watching an S3 object: the source of
// that bucket (its one bucket, or its bucket of any region) with the
// longest prefix the key starts with.
func (p *Policy) SourceForObject(bucket, key string) (*Source, bool) {
	var best *Source
	for i := range p.Sources {
		s := &p.Sources[i]
		if s.Table != "" || !s.HasBucket(bucket) || !strings.HasPrefix(key, s.Prefix) {
			continue
		}
		if best == nil || len(s.Prefix) > len(best.Prefix) {
			best = s
		}
	}
	return best, best != nil
}

// RetainUntil returns when a record of category may be kept until: its
// retention period added to the time of the category's trigger (created,
// last activity or contract end). It returns false when the category is
// unknown or not personal, has no retention, or its trigger time is zero
// (e.g. a contract that has not ended).
func (p *Policy) RetainUntil(category string, created, lastActivity, contractEnd time.Time) (time.Time, bool) {
	c, ok := p.Categories[category]
	if !ok || !c.Personal || c.Retention.IsZero() {
		return time.Time{}, false
	}
	var from time.Time
	switch c.From {
	case FromCreated, "":
		from = created
	case FromLastActivity:
		from = lastActivity
	case FromContractEnd:
		from = contractEnd
	}
	if from.IsZero() {
		return time.Time{}, false
	}
	return c.Retention.AddTo(from), true
}
