package ledger

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/residency-dev/residency/shared/internal/jsontext"
)

// Every receipt of a sweep crosses the ledger queue as JSON, encoded by the
// sender and decoded by the ledger function: encoding/json's reflection
// cost more than the rest of the decoding. AppendJSON and DecodeJSON do
// the same without reflection for the entries functions send (every field
// present, plain strings, UTC times) and hand anything else to
// encoding/json, so their results are encoding/json's, byte for byte and
// value for value (FuzzAppendJSON and FuzzDecodeJSON check it).

// AppendJSON appends the JSON encoding of e to b, exactly as json.Marshal
// encodes an Entry.
func (e *Entry) AppendJSON(b []byte) ([]byte, error) {
	ok, size := plain(e)
	if y := e.Time.Year(); e.Time.Location() != time.UTC || y < 0 || y > 9999 || !ok {
		j, err := json.Marshal(e)
		return append(b, j...), err
	}
	b = slices.Grow(b, size+320) // the names, punctuation, seq and time
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = appendField(b, `,"id":`, e.ID)
	b = append(b, `,"time":"`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, `,"kind":`, string(e.Kind))
	b = appendField(b, `,"region":`, e.Region)
	b = appendField(b, `,"source":`, e.Source)
	b = appendField(b, `,"record":`, e.Record)
	b = appendField(b, `,"subject_ref":`, e.SubjectRef)
	b = appendField(b, `,"category":`, e.Category)
	b = appendField(b, `,"from_region":`, e.FromRegion)
	b = appendField(b, `,"from_country":`, e.FromCountry)
	b = appendField(b, `,"to_region":`, e.ToRegion)
	b = appendField(b, `,"to_country":`, e.ToCountry)
	b = appendField(b, `,"importer":`, e.Importer)
	b = appendField(b, `,"mechanism":`, e.Mechanism)
	b = appendField(b, `,"reference":`, e.Reference)
	b = appendField(b, `,"decision":`, e.Decision)
	b = appendField(b, `,"policy_version":`, e.PolicyVersion)
	b = appendField(b, `,"actor":`, e.Actor)
	b = appendField(b, `,"prev_hash":`, e.PrevHash)
	b = appendField(b, `,"hash":`, e.Hash)
	return append(b, '}'), nil
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, name...)
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// plain reports whether every string of e is printable ASCII that
// encoding/json writes as it is (it escapes '"', '\\', and '<', '>', '&'
// for HTML), and their total length.
func plain(e *Entry) (ok bool, size int) {
	for _, s := range [...]string{e.ID, string(e.Kind), e.Region, e.Source, e.Record, e.SubjectRef, e.Category, e.FromRegion,
		e.FromCountry, e.ToRegion, e.ToCountry, e.Importer, e.Mechanism, e.Reference, e.Decision, e.PolicyVersion, e.Actor,
		e.PrevHash, e.Hash} {
		size += len(s)
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return false, 0
			}
		}
	}
	return true, size
}

// DecodeJSON decodes an entry exactly as json.Unmarshal decodes into an
// Entry, errors included.
func DecodeJSON(b []byte) (Entry, error) {
	var e Entry
	if decodeFast(b, &e) {
		return e, nil
	}
	e = Entry{}
	err := json.Unmarshal(b, &e)
	return e, err
}

// decodeFast decodes b into e when b is one object whose members are all
// fields of Entry by their exact names with values of their own types (no
// null), and reports whether it did; on false, e holds anything.
func decodeFast(b []byte, e *Entry) bool {
	s := jsontext.Scanner{B: b}
	ok := true
	str := func(dst *string) error {
		v, err := s.Str()
		*dst = v
		return err
	}
	err := s.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "seq":
			var n []byte
			if n, err = s.Number(); err == nil {
				e.Seq, err = strconv.ParseInt(string(n), 10, 64)
			}
		case "time":
			var raw []byte
			if raw, _, err = s.RawString(); err == nil {
				// With its quotes, as encoding/json hands it to time.Time.
				err = e.Time.UnmarshalJSON(s.B[s.I-len(raw)-2 : s.I])
			}
		case "id":
			err = str(&e.ID)
		case "kind":
			var k string
			err = str(&k)
			e.Kind = Kind(k)
		case "region":
			err = str(&e.Region)
		case "source":
			err = str(&e.Source)
		case "record":
			err = str(&e.Record)
		case "subject_ref":
			err = str(&e.SubjectRef)
		case "category":
			err = str(&e.Category)
		case "from_region":
			err = str(&e.FromRegion)
		case "from_country":
			err = str(&e.FromCountry)
		case "to_region":
			err = str(&e.ToRegion)
		case "to_country":
			err = str(&e.ToCountry)
		case "importer":
			err = str(&e.Importer)
		case "mechanism":
			err = str(&e.Mechanism)
		case "reference":
			err = str(&e.Reference)
		case "decision":
			err = str(&e.Decision)
		case "policy_version":
			err = str(&e.PolicyVersion)
		case "actor":
			err = str(&e.Actor)
		case "prev_hash":
			err = str(&e.PrevHash)
		case "hash":
			err = str(&e.Hash)
		default:
			// A name encoding/json may match to a field regardless of
			// case, or ignore: its rules decide.
			ok = false
		}
		if !ok || err != nil {
			ok = false
			return jsontext.ErrSyntax // stop; encoding/json decides
		}
		return nil
	})
	return ok && err == nil && s.End() == nil
}
