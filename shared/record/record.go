package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrPermanent is the kind of every failure that retrying cannot mend: an
// input that is invalid (each package's ErrInvalid is of this kind) stays
// invalid however often it is delivered. A handler acknowledges such an
// input and keeps it as a dead letter with its reason, instead of failing it
// for a retry as it fails a throttle; tested with errors.Is.
var ErrPermanent = errors.New("permanent failure")

// Permanent returns a new sentinel error of kind ErrPermanent with message
// msg: errors.Is(err, ErrPermanent) holds for it and for every error that
// wraps it.
func Permanent(msg string) error { return &permanent{msg} }

type permanent struct{ msg string }

func (e *permanent) Error() string        { return e.msg }
func (e *permanent) Is(target error) bool { return target == ErrPermanent }

// Errors shared by every store adapter, tested with errors.Is.
var (
	// ErrInvalid marks a record, key or attribute that cannot be understood
	// (of kind ErrPermanent).
	ErrInvalid = Permanent("invalid record")
	// ErrNotFound: the record, object or entry does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConditionFailed: a conditional write found the record changed.
	ErrConditionFailed = errors.New("condition failed")
)

// Object is what Residency reads of an S3 object: its user metadata (keys
// without the x-amz-meta- prefix, lower case) and when it was written.
type Object struct {
	Region       string            `json:"region"`
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	Metadata     map[string]string `json:"metadata"`
	LastModified time.Time         `json:"last_modified"`
}

// Item is a record as plain JSON: attribute name to value (not DynamoDB JSON).
type Item map[string]any

// Key is the primary key of a record: attribute name to value.
type Key map[string]any

// appendJSONString appends s as encoding/json writes it: as it is, quoted,
// when it holds only characters json.Marshal leaves alone (printable ASCII
// but for the quote, the backslash, < > and &), else by json.Marshal. Keys
// are encoded on every lookup: the fast path matters, and the bytes must
// not change (FuzzKeyString).
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// String returns the canonical encoding of the key: a JSON object with its
// attributes in sorted order. Equal keys give equal strings, so the result
// serves as a map or database key.
func (k Key) String() string {
	if len(k) == 0 {
		return "{}"
	}
	var names [4]string
	sorted := names[:0]
	for n := range k {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	b := make([]byte, 0, 64)
	b = append(b, '{')
	for i, n := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, n)
		b = append(b, ':')
		if v, ok := k[n].(string); ok {
			b = appendJSONString(b, v)
			continue
		}
		vb, err := json.Marshal(k[n])
		if err != nil {
			vb, _ = json.Marshal(fmt.Sprint(k[n]))
		}
		b = append(b, vb...)
	}
	b = append(b, '}')
	return string(b)
}

// ParseKey decodes a canonical key string written by Key.String.
func ParseKey(s string) (Key, error) {
	var k Key
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber() // DynamoDB numbers have up to 38 digits: keep them exact
	if err := d.Decode(&k); err != nil {
		return nil, fmt.Errorf("%w: stored key is not JSON: %v", ErrInvalid, err)
	}
	if _, err := d.Token(); k == nil || err != io.EOF {
		return nil, fmt.Errorf("%w: stored key is not one JSON object", ErrInvalid)
	}
	return k, nil
}

// KeyOf extracts the key attributes named in names from an item. It fails,
// naming the attribute, when one is missing or is not a string or number.
func KeyOf(item Item, names []string) (Key, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no key attributes configured", ErrInvalid)
	}
	k := make(Key, len(names))
	for _, n := range names {
		v, ok := item[n]
		if !ok || v == nil {
			return nil, fmt.Errorf("%w: key attribute %q missing", ErrInvalid, n)
		}
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil, fmt.Errorf("%w: key attribute %q is empty", ErrInvalid, n)
			}
		case float64, json.Number, int, int64:
		default:
			return nil, fmt.Errorf("%w: key attribute %q must be a string or number, got %T", ErrInvalid, n, v)
		}
		k[n] = v
	}
	return k, nil
}

// String returns the named attribute as a string: strings as they are,
// numbers in decimal. Missing, null or other types give "".
func (it Item) String(name string) string {
	if name == "" {
		return ""
	}
	switch v := it[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.Number:
		return v.String()
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

// Time returns the named attribute as a time (RFC 3339 string or epoch
// seconds). A missing attribute gives the zero time and no error.
func (it Item) Time(name string) (time.Time, error) {
	if name == "" {
		return time.Time{}, nil
	}
	v, ok := it[name]
	if !ok || v == nil {
		return time.Time{}, nil
	}
	t, err := ParseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("attribute %q: %w", name, err)
	}
	return t, nil
}

// ParseTime accepts the timestamp forms of the platform contract: an RFC 3339
// string, or epoch seconds as a number or a numeric string.
func ParseTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return time.Time{}, fmt.Errorf("%w: empty timestamp", ErrInvalid)
		}
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return t.UTC(), nil
		}
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return epoch(f)
		}
		return time.Time{}, fmt.Errorf("%w: timestamp %q is neither RFC 3339 nor epoch seconds", ErrInvalid, x)
	case float64:
		return epoch(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: timestamp %q: %v", ErrInvalid, x, err)
		}
		return epoch(f)
	case int64:
		return epoch(float64(x))
	case int:
		return epoch(float64(x))
	case time.Time:
		return x.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%w: timestamp of type %T", ErrInvalid, v)
}

// epoch bounds: years 1970..9999, so a millisecond value is not read as seconds.
const maxEpoch = 253402300799

func epoch(f float64) (time.Time, error) {
	if math.IsNaN(f) || f < 0 || f > maxEpoch {
		return time.Time{}, fmt.Errorf("%w: epoch seconds %v out of range (0..%d; milliseconds are not accepted)", ErrInvalid, f, maxEpoch)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// Tag status values.
const (
	StatusCompliant   = "compliant"
	StatusViolation   = "violation"
	StatusRelocated   = "relocated"
	StatusQuarantined = "quarantined"
)

// TagAttribute is the attribute name of the residency tag on a record.
const TagAttribute = "residency"

// Tag is the residency tag written onto a record.
type Tag struct {
	OriginRegion  string `json:"origin_region"`
	Jurisdiction  string `json:"jurisdiction"`
	HomeRegion    string `json:"home_region"`
	Status        string `json:"status"`
	PolicyVersion string `json:"policy_version"`
	TaggedAt      string `json:"tagged_at"`
	RetainUntil   string `json:"retain_until,omitempty"`
}

// TagWrite is one tag to write onto the record under Key. With a
// TTLAttribute, the write also sets that attribute to TTL (epoch seconds),
// or removes it when TTL is 0.
type TagWrite struct {
	Key          Key
	Tag          Tag
	TTLAttribute string
	TTL          int64
}

// Delete is one record to delete: the one under Key, and with RetainUntil,
// only if its tag still carries that retain_until (a record that changed
// since it was found due is re-evaluated, not deleted).
type Delete struct {
	Key         Key
	RetainUntil string
}

// Put is one item to write: Item under Key, and with IfAbsent, only where no
// item is (a relocation never overwrites a record at home).
type Put struct {
	Key      Key
	Item     Item
	IfAbsent bool
}

// SameAs reports whether two tags carry the same decision, ignoring when
// they were written. A record whose tag is the same as the one Residency
// would write needs no write: that is how the tagger ignores its own echo.
func (t Tag) SameAs(o Tag) bool {
	t.TaggedAt, o.TaggedAt = "", ""
	return t == o
}

// Map returns the tag as a plain JSON attribute value.
func (t Tag) Map() map[string]any {
	m := map[string]any{
		"origin_region":  t.OriginRegion,
		"jurisdiction":   t.Jurisdiction,
		"home_region":    t.HomeRegion,
		"status":         t.Status,
		"policy_version": t.PolicyVersion,
		"tagged_at":      t.TaggedAt,
	}
	if t.RetainUntil != "" {
		m["retain_until"] = t.RetainUntil
	}
	return m
}

// JSON is the tag as stored in an item: json.Marshal(t.Map()) to the byte,
// its members sorted by name as encoding/json sorts a map's, without
// building and sorting the map (a tag write on every record).
func (t Tag) JSON() ([]byte, error) {
	// The fields in the order of their names.
	return json.Marshal(struct {
		HomeRegion    string `json:"home_region"`
		Jurisdiction  string `json:"jurisdiction"`
		OriginRegion  string `json:"origin_region"`
		PolicyVersion string `json:"policy_version"`
		RetainUntil   string `json:"retain_until,omitempty"`
		Status        string `json:"status"`
		TaggedAt      string `json:"tagged_at"`
	}{t.HomeRegion, t.Jurisdiction, t.OriginRegion, t.PolicyVersion, t.RetainUntil, t.Status, t.TaggedAt})
}

// TagOf reads the residency tag from an item; ok is false when it has none.
func TagOf(item Item) (Tag, bool) {
	m, ok := item[TagAttribute].(map[string]any)
	if !ok {
		return Tag{}, false
	}
	s := func(k string) string { v, _ := m[k].(string); return v }
	return Tag{
		OriginRegion:  s("origin_region"),
		Jurisdiction:  s("jurisdiction"),
		HomeRegion:    s("home_region"),
		Status:        s("status"),
		PolicyVersion: s("policy_version"),
		TaggedAt:      s("tagged_at"),
		RetainUntil:   s("retain_until"),
	}, true
}

// FormatTime is the one timestamp format Residency writes: RFC 3339, UTC,
// second precision.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
