package ledger

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/residency-dev/residency/shared/internal/jsontext"
)

// Every receipt of a sweep crosses the ledger queue as JSON, encoded by the
// sender and decoded by the ledger function, and the JSON report writes
// every entry it reports: encoding/json's reflection cost more than the
// rest of the work. AppendJSON, AppendJSONIndent and DecodeJSON do the same
// without reflection for the entries functions send (every field present,
// UTC times) and hand anything else to encoding/json, so their results are
// encoding/json's, byte for byte and value for value (FuzzAppendJSON,
// FuzzAppendJSONIndent and FuzzDecodeJSON check it).

// AppendJSON appends the JSON encoding of e to b, exactly as json.Marshal
// encodes an Entry.
func (e *Entry) AppendJSON(b []byte) ([]byte, error) {
	return e.appendJSON(b, false, "", "")
}

// AppendJSONIndent appends e to b as json.MarshalIndent(e, prefix, indent)
// writes it, byte for byte: the JSON report writes a million of them.
func (e *Entry) AppendJSONIndent(b []byte, prefix, indent string) ([]byte, error) {
	return e.appendJSON(b, true, prefix, indent)
}

func (e *Entry) appendJSON(b []byte, indented bool, prefix, indent string) ([]byte, error) {
	if y := e.Time.Year(); e.Time.Location() != time.UTC || y < 0 || y > 9999 {
		var j []byte
		var err error
		if indented {
			j, err = json.MarshalIndent(e, prefix, indent)
		} else {
			j, err = json.Marshal(e)
		}
		return append(b, j...), err
	}
	f := fields{b: slices.Grow(b, 640), indented: indented, prefix: prefix, indent: indent}
	f.b = append(f.b, '{')
	f.name("seq")
	f.b = strconv.AppendInt(f.b, e.Seq, 10)
	f.str("id", e.ID)
	f.name("time")
	f.b = append(f.b, '"')
	f.b = e.Time.AppendFormat(f.b, time.RFC3339Nano)
	f.b = append(f.b, '"')
	f.str("kind", string(e.Kind))
	f.str("region", e.Region)
	f.str("source", e.Source)
	f.str("record", e.Record)
	f.str("subject_ref", e.SubjectRef)
	f.str("category", e.Category)
	f.str("from_region", e.FromRegion)
	f.str("from_country", e.FromCountry)
	f.str("to_region", e.ToRegion)
	f.str("to_country", e.ToCountry)
	f.str("importer", e.Importer)
	f.str("mechanism", e.Mechanism)
	f.str("reference", e.Reference)
	f.str("decision", e.Decision)
	f.str("policy_version", e.PolicyVersion)
	f.str("actor", e.Actor)
	f.str("prev_hash", e.PrevHash)
	f.str("hash", e.Hash)
	if indented {
		f.b = append(f.b, '\n')
		f.b = append(f.b, prefix...)
	}
	return append(f.b, '}'), nil
}

// fields writes an object's members as encoding/json does, compact or
// indented.
type fields struct {
	b              []byte
	indented, more bool
	prefix, indent string
}

func (f *fields) name(n string) {
	if f.more {
		f.b = append(f.b, ',')
	}
	f.more = true
	if f.indented {
		f.b = append(f.b, '\n')
		f.b = append(f.b, f.prefix...)
		f.b = append(f.b, f.indent...)
	}
	f.b = append(f.b, '"')
	f.b = append(f.b, n...)
	f.b = append(f.b, '"', ':')
	if f.indented {
		f.b = append(f.b, ' ')
	}
}

func (f *fields) str(n, v string) {
	f.name(n)
	f.b = appendString(f.b, v)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping (its
// default): <, > and & as \u003c..., control characters escaped, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
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
