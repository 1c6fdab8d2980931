package policy

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"time"
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
	Table  string
	Bucket string
	Prefix string
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

// Name returns the table name, or else the bucket name.
func (s *Source) Name() string {
	if s.Table != "" {
		return s.Table
	}
	return s.Bucket
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
	// TypeBCR is a group's approved Binding Corporate Rules (GDPR Art. 47).
	TypeBCR MechanismType = "bcr"
)

// Mechanism is a transfer mechanism the organisation can rely on. Which
// fields are set depends on Type; dates are UTC midnight, zero when absent.
type Mechanism struct {
	ID   string
	Type MechanismType
	// Module is the SCC module, 1-4 (SCC only).
	Module   int
	Exporter Party // SCC: defaults to the policy's organization
	Importer Party // SCC, DPF; BCR: optional group member
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
	// Approved is the BCR approval date.
	Approved time.Time
	// TIA is the reference of the SCC's transfer impact assessment.
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
	// Version is recorded on every tag and ledger entry.
	Version string
	// Organization is the default exporter; zero if the policy has none.
	Organization Party
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

// SourceByName returns the first source whose table or bucket is name.
func (p *Policy) SourceByName(name string) (*Source, bool) {
	for i := range p.Sources {
		if p.Sources[i].Name() == name {
			return &p.Sources[i], true
		}
	}
	return nil, false
}

// SourceForObject returns the source watching an S3 object: the source of
// that bucket with the longest prefix the key starts with.
func (p *Policy) SourceForObject(bucket, key string) (*Source, bool) {
	var best *Source
	for i := range p.Sources {
		s := &p.Sources[i]
		if s.Bucket != bucket || s.Bucket == "" || !strings.HasPrefix(key, s.Prefix) {
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
