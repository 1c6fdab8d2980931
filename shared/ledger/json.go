package ledger

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
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
	if e.ExposedMS != nil {
		f.name("exposed_ms")
		f.b = strconv.AppendInt(f.b, *e.ExposedMS, 10)
	}
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
// null), and reports whether it did; on false, e holds anything. The
// entry's strings without escapes are substrings of one copy of b.
func decodeFast(b []byte, e *Entry) bool {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	d.buf = *bytes.NewBuffer(b)
	d.dec.Reset(&d.buf)
	dec := &d.dec
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	all := string(b)
	for dec.PeekKind() == '"' {
		name, err := dec.ReadValue()
		if err != nil {
			return false
		}
		v, err := dec.ReadValue()
		if err != nil {
			return false
		}
		switch string(name) {
		case `"seq"`:
			if v.Kind() != '0' {
				return false
			}
			if e.Seq, err = strconv.ParseInt(string(v), 10, 64); err != nil {
				return false
			}
			continue
		case `"time"`:
			// With its quotes, as encoding/json hands it to time.Time.
			if v.Kind() != '"' || e.Time.UnmarshalJSON(v) != nil {
				return false
			}
			continue
		case `"kind"`:
			var k string
			if !str(&k, v, all, dec.InputOffset()) {
				return false
			}
			e.Kind = Kind(k)
			continue
		case `"exposed_ms"`:
			// A number encoding/json would take for an int64 (no fraction,
			// no exponent); anything else, null included, is its to decide.
			if v.Kind() != '0' {
				return false
			}
			ms, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return false
			}
			e.ExposedMS = &ms
			continue
		}
		// A name encoding/json may match to a field regardless of case, or
		// ignore, fails here: its rules decide.
		dst := e.field(name)
		if dst == nil || !str(dst, v, all, dec.InputOffset()) {
			return false
		}
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return false
	}
	_, err := dec.ReadToken()
	return err == io.EOF
}

// decoder is a decoder of decodeFast, kept in decoders between calls: a
// new one costs more than the rest of the decoding.
type decoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// str sets dst to the string v, which ends at offset end of all: a
// substring of all when it has no escapes and is ASCII, else as
// encoding/json decodes it.
func str(dst *string, v jsontext.Value, all string, end int64) bool {
	if v.Kind() != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return json.Unmarshal(v, dst) == nil
		}
	}
	*dst = all[int(end)-len(v)+1 : int(end)-1]
	return true
}

// field returns the string field of e a quoted member name names, or nil.
func (e *Entry) field(name []byte) *string {
	switch string(name) {
	case `"id"`:
		return &e.ID
	case `"region"`:
		return &e.Region
	case `"source"`:
		return &e.Source
	case `"record"`:
		return &e.Record
	case `"subject_ref"`:
		return &e.SubjectRef
	case `"category"`:
		return &e.Category
	case `"from_region"`:
		return &e.FromRegion
	case `"from_country"`:
		return &e.FromCountry
	case `"to_region"`:
		return &e.ToRegion
	case `"to_country"`:
		return &e.ToCountry
	case `"importer"`:
		return &e.Importer
	case `"mechanism"`:
		return &e.Mechanism
	case `"reference"`:
		return &e.Reference
	case `"decision"`:
		return &e.Decision
	case `"policy_version"`:
		return &e.PolicyVersion
	case `"actor"`:
		return &e.Actor
	case `"prev_hash"`:
		return &e.PrevHash
	case `"hash"`:
		return &e.Hash
	}
	return nil
}
