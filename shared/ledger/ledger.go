package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/record"
)

// Kind is what an entry records.
type Kind string

// The kinds of entries.
const (
	KindTransfer   Kind = "transfer"
	KindDenial     Kind = "denial"
	KindViolation  Kind = "violation"
	KindRelocation Kind = "relocation"
	KindDeletion   Kind = "deletion"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindTransfer, KindDenial, KindViolation, KindRelocation, KindDeletion}

// ErasureReference is the reference of a deletion receipt made on an
// erasure request (GDPR Art. 17); a receipt of a record of an erased
// subject written again and erased again adds ", re-applied".
func ErasureReference(requestID string) string { return "GDPR Art. 17 erasure request " + requestID }

// DecisionFailed is the decision of a relocation entry that records an
// attempt that failed: the misplaced record stays where it is, its
// violation stays open, and the entry's reference says why.
const DecisionFailed = "failed"

// DecisionHeldByObjectLock is the decision of a deletion entry of an object
// that S3 Object Lock kept from deletion: a hold, not a receipt; its
// reference says until when. The receipt follows when the lock ends.
const DecisionHeldByObjectLock = "held_by_object_lock"

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// GenesisHash is the prev_hash of the first entry of every chain.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ErrInvalid marks an entry that cannot go into the ledger.
var ErrInvalid = record.Permanent("invalid ledger entry")

// Entry is one ledger entry. A draft (what functions send to the ledger) has
// Seq 0 and empty PrevHash and Hash; the ledger function fills them when it
// appends. ID is the idempotency key: appending a draft whose ID the chain
// already holds is a no-op.
type Entry struct {
	Seq           int64     `json:"seq"`
	ID            string    `json:"id"`
	Time          time.Time `json:"time"`
	Kind          Kind      `json:"kind"`
	Region        string    `json:"region"`
	Source        string    `json:"source"`
	Record        string    `json:"record"`
	SubjectRef    string    `json:"subject_ref"`
	Category      string    `json:"category"`
	FromRegion    string    `json:"from_region"`
	FromCountry   string    `json:"from_country"`
	ToRegion      string    `json:"to_region"`
	ToCountry     string    `json:"to_country"`
	Importer      string    `json:"importer"`
	Mechanism     string    `json:"mechanism"`
	Reference     string    `json:"reference"`
	Decision      string    `json:"decision"`
	PolicyVersion string    `json:"policy_version"`
	Actor         string    `json:"actor"`
	// ExposedMS is, on a relocation or quarantine, how long the misplaced
	// copy was exposed: milliseconds from its write (the stream record's
	// ApproximateCreationDateTime, the S3 eventTime, Data Written's time)
	// to its deletion or quarantine. Nil when the write time is not known
	// (a backfilled record, an entry of an older release).
	ExposedMS *int64 `json:"exposed_ms,omitempty"`
	PrevHash  string `json:"prev_hash"`
	Hash      string `json:"hash"`
}

// ValidateDraft checks what a function must fill in before sending an entry.
func (e *Entry) ValidateDraft() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("%w: missing id", ErrInvalid)
	case !e.Kind.Valid():
		return fmt.Errorf("%w: kind %q is not one of %v", ErrInvalid, e.Kind, Kinds)
	case e.Region == "":
		return fmt.Errorf("%w: missing region", ErrInvalid)
	case e.Time.IsZero():
		return fmt.Errorf("%w: missing time", ErrInvalid)
	case e.Actor == "":
		return fmt.Errorf("%w: missing actor", ErrInvalid)
	}
	return nil
}

// The canonical encoding's versions. v1 is every entry without ExposedMS,
// byte for byte as before it existed, so entries written before it still
// hash the same; v2 is an entry with ExposedMS, which it encodes after
// Actor. An entry's version follows from its fields alone.
const (
	header   = "residency-ledger-v1\n"
	headerV2 = "residency-ledger-v2\n"
)

// AppendCanonical appends the canonical encoding of e (without Hash) to b.
func (e *Entry) AppendCanonical(b []byte) []byte {
	if e.ExposedMS != nil {
		b = append(b, headerV2...)
	} else {
		b = append(b, header...)
	}
	var num [20]byte
	b = field(b, strconv.AppendInt(num[:0], e.Seq, 10))
	b = fieldString(b, e.ID)
	var ts [40]byte
	b = field(b, e.Time.UTC().AppendFormat(ts[:0], time.RFC3339Nano))
	b = fieldString(b, string(e.Kind))
	b = fieldString(b, e.Region)
	b = fieldString(b, e.Source)
	b = fieldString(b, e.Record)
	b = fieldString(b, e.SubjectRef)
	b = fieldString(b, e.Category)
	b = fieldString(b, e.FromRegion)
	b = fieldString(b, e.FromCountry)
	b = fieldString(b, e.ToRegion)
	b = fieldString(b, e.ToCountry)
	b = fieldString(b, e.Importer)
	b = fieldString(b, e.Mechanism)
	b = fieldString(b, e.Reference)
	b = fieldString(b, e.Decision)
	b = fieldString(b, e.PolicyVersion)
	b = fieldString(b, e.Actor)
	if e.ExposedMS != nil {
		b = field(b, strconv.AppendInt(num[:0], *e.ExposedMS, 10))
	}
	b = fieldString(b, e.PrevHash)
	return b
}

func field(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

func fieldString(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// AppendField appends v to b as a canonical field: its length as a 4-byte
// big-endian number, then its bytes. Signed digests use the same encoding.
func AppendField(b []byte, v string) []byte { return fieldString(b, v) }

// ComputeHash returns the hex SHA-256 of e's canonical encoding. buf is
// scratch space that may be reused across calls (it may be nil).
func (e *Entry) ComputeHash(buf []byte) (string, []byte) {
	buf = e.AppendCanonical(buf[:0])
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:]), buf
}

// Head is the newest entry of a chain: its seq and hash. The zero Head is an
// empty chain.
type Head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// PrevHash returns the hash the next entry must name as prev_hash.
func (h Head) PrevHash() string {
	if h.Seq == 0 {
		return GenesisHash
	}
	return h.Hash
}

// Link turns a draft into the next entry after head: it sets Seq, PrevHash
// and Hash, normalizes Time to UTC, and returns the new head.
func Link(head Head, draft Entry) (Entry, Head) {
	e := draft
	e.Seq = head.Seq + 1
	e.Time = e.Time.UTC()
	e.PrevHash = head.PrevHash()
	e.Hash, _ = e.ComputeHash(nil)
	return e, Head{Seq: e.Seq, Hash: e.Hash}
}

// BreakError describes the first place a chain does not verify.
type BreakError struct {
	Region string
	Seq    int64
	Reason string
}

func (b *BreakError) Error() string {
	return fmt.Sprintf("ledger %s: seq %d: %s", b.Region, b.Seq, b.Reason)
}

// Verifier checks one region's chain entry by entry, in seq order, without
// holding it in memory. The zero value is not ready: use NewVerifier.
type Verifier struct {
	region  string
	head    Head
	buf     []byte
	err     *BreakError
	anchors map[int64]anchor
	maxSeq  int64 // the highest anchored seq
	maxBy   string
	// tree rebuilds the chain's Merkle tree from the entries when a signed
	// tree head is anchored (AnchorTree) and verification starts at the
	// first entry.
	tree  *frontier
	roots map[int64]anchor // signed roots by tree size
}

// anchor is a hash an outside witness (a signed digest) vouches for.
type anchor struct{ hash, by string }

// NewVerifier starts verifying region's chain from its first entry.
func NewVerifier(region string) *Verifier {
	return &Verifier{region: region, buf: make([]byte, 0, 512)}
}

// NewVerifierAfter verifies region's chain from the entry after head, which
// is taken as verified (a signed digest vouches for it).
func NewVerifierAfter(region string, head Head) *Verifier {
	v := NewVerifier(region)
	v.head = head
	return v
}

// Anchor requires the entry at seq to have hash: by (e.g. "the digest of
// 2026-11-22T10:00:00Z") vouches for it. Close reports an anchored entry
// the chain no longer reaches, so a truncated tail does not pass.
func (v *Verifier) Anchor(seq int64, hash, by string) {
	if v.anchors == nil {
		v.anchors = map[int64]anchor{}
	}
	v.anchors[seq] = anchor{hash, by}
	if seq >= v.maxSeq {
		v.maxSeq, v.maxBy = seq, by
	}
}

// AnchorTree requires the chain's Merkle tree at size entries to have root
// (a signed tree head): by vouches for it. The verifier then rebuilds the
// tree from the entries as it reads them, so an entry rewritten at or
// before size shows even when the chain was re-hashed from it on. It
// applies only to a verifier that starts at the first entry.
func (v *Verifier) AnchorTree(size int64, root tlog.Hash, by string) {
	if v.head.Seq != 0 || size < 1 {
		return
	}
	if v.tree == nil {
		v.tree, v.roots = &frontier{}, map[int64]anchor{}
	}
	v.roots[size] = anchor{string(root[:]), by}
	if size >= v.maxSeq {
		v.maxSeq, v.maxBy = size, by
	}
}

// Add checks the next entry. It returns the first break found, and keeps
// returning it for every later entry.
func (v *Verifier) Add(e *Entry) error {
	if v.err != nil {
		return v.err
	}
	fail := func(seq int64, format string, args ...any) error {
		v.err = &BreakError{Region: v.region, Seq: seq, Reason: fmt.Sprintf(format, args...)}
		return v.err
	}
	want := v.head.Seq + 1
	switch {
	case e.Seq != want:
		// A gap or reordering: the entry that should be here is missing.
		return fail(want, "expected seq %d, found seq %d (entry missing or out of order)", want, e.Seq)
	case e.Region != v.region:
		return fail(e.Seq, "entry belongs to chain %q", e.Region)
	case e.PrevHash != v.head.PrevHash():
		return fail(e.Seq, "prev_hash does not match the hash of seq %d", v.head.Seq)
	}
	// Hash into stack buffers: verification allocates nothing per entry.
	v.buf = e.AppendCanonical(v.buf[:0])
	sum := sha256.Sum256(v.buf)
	var hx [2 * sha256.Size]byte
	hex.Encode(hx[:], sum[:])
	if string(hx[:]) != e.Hash {
		return fail(e.Seq, "hash mismatch: the entry was altered")
	}
	if a, ok := v.anchors[e.Seq]; ok && a.hash != e.Hash {
		return fail(e.Seq, "hash differs from the one %s signed: the chain was rewritten up to here", a.by)
	}
	if v.tree != nil {
		leaf := tlog.RecordHash(sum[:])
		if err := v.tree.add(e.Seq-1, leaf); err != nil {
			return fail(e.Seq, "tree: %v", err)
		}
		if a, ok := v.roots[e.Seq]; ok {
			root, err := v.tree.root(e.Seq)
			if err != nil {
				return fail(e.Seq, "tree: %v", err)
			}
			if string(root[:]) != a.hash {
				return fail(e.Seq, "the tree of the first %d entries is not the one %s signed: an entry at or before seq %d was rewritten", e.Seq, a.by, e.Seq)
			}
		}
	}
	v.head = Head{Seq: e.Seq, Hash: e.Hash}
	return nil
}

// Close ends the chain: when an anchor names a seq beyond the last entry,
// the newest entries were removed, and Close returns the break at the first
// missing seq. Like Add, it returns the first break found.
func (v *Verifier) Close() error {
	if v.err != nil {
		return v.err
	}
	if v.maxSeq > v.head.Seq {
		v.err = &BreakError{Region: v.region, Seq: v.head.Seq + 1, Reason: fmt.Sprintf(
			"the chain ends at seq %d but %s signed it up to seq %d: the newest entries were removed (truncated tail)",
			v.head.Seq, v.maxBy, v.maxSeq)}
		return v.err
	}
	return nil
}

// Head returns the last verified entry's seq and hash.
func (v *Verifier) Head() Head { return v.head }

// Err returns the first break, or nil.
func (v *Verifier) Err() error {
	if v.err == nil {
		return nil
	}
	return v.err
}

// ID makes a deterministic idempotency key from the parts that identify what
// an entry records, so a redelivered event yields the same ID and the ledger
// keeps one entry. The hash is not keyed: the parts must be keyed references
// (the rec_ and sub_ HMAC references), regions, names and the platform's
// request ids, never a record key or a subject id, which a reader of the
// ledger could otherwise recover by guessing.
func ID(kind Kind, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var sum [sha256.Size]byte
	return string(kind[:3]) + "_" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// CSVHeader lists the entry fields in column order for CSV output;
// exposed_ms, added last, is the last column.
var CSVHeader = strings.Split("seq,id,time,kind,region,source,record,subject_ref,category,from_region,from_country,to_region,to_country,importer,mechanism,reference,decision,policy_version,actor,prev_hash,hash,exposed_ms", ",")

// CSVRow returns e's fields in CSVHeader order (exposed_ms, the last
// column so that the columns before it keep their places, empty when not
// measured).
func (e *Entry) CSVRow() []string {
	exposed := ""
	if e.ExposedMS != nil {
		exposed = strconv.FormatInt(*e.ExposedMS, 10)
	}
	return []string{strconv.FormatInt(e.Seq, 10), e.ID, e.Time.UTC().Format(time.RFC3339Nano), string(e.Kind), e.Region,
		e.Source, e.Record, e.SubjectRef, e.Category, e.FromRegion, e.FromCountry, e.ToRegion, e.ToCountry,
		e.Importer, e.Mechanism, e.Reference, e.Decision, e.PolicyVersion, e.Actor, e.PrevHash, e.Hash, exposed}
}

// Exposure returns a pointer to d in whole milliseconds, for ExposedMS; a
// negative d (the write's clock ahead of ours) counts as 0.
func Exposure(d time.Duration) *int64 {
	ms := max(d.Milliseconds(), 0)
	return &ms
}

// Query selects entries for a report. Zero fields select everything.
type Query struct {
	From, To time.Time // To is exclusive
	Kinds    []Kind
	Region   string
}
