package sqlitestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// errSyntax marks a stored item that is not a JSON object.
var errSyntax = errors.New("invalid JSON")

// setMember appends to dst the JSON object obj with its member name set to
// value (JSON text, taken as it is: the caller makes it valid). Every
// member of that name gets the value; without one, the member is inserted
// before the first member whose name sorts after name, so an object with
// sorted names (as encoding/json writes maps) stays sorted. The rest of obj
// is copied as it is.
func setMember(dst, obj []byte, name string, value []byte) ([]byte, error) {
	if err := checkName(name); err != nil {
		return dst, err
	}
	d := decoders.Get().(*decoder)
	defer func() {
		d.buf = bytes.Buffer{}
		d.dec.Reset(&d.buf)
		decoders.Put(d)
	}()
	// From a bytes.Buffer the decoder reads in place: offsets are obj's.
	d.buf = *bytes.NewBuffer(obj)
	d.dec.Reset(&d.buf, decodeOptions...)
	dec := &d.dec
	syntax := func(err error) ([]byte, error) { return dst, fmt.Errorf("%w: %v", errSyntax, err) }
	if tok, err := dec.ReadToken(); err != nil {
		return syntax(err)
	} else if tok.Kind() != '{' {
		return syntax(errors.New("expect an object"))
	}
	member := func(dst []byte) []byte {
		dst = append(dst, '"')
		dst = append(dst, name...) // names we set need no escaping
		dst = append(dst, '"', ':')
		return append(dst, value...)
	}
	// Room for the object with the member added, at most.
	dst = slices.Grow(dst, len(obj)+len(name)+len(value)+4)
	copied := 0 // obj[:copied] is in dst
	found, inserted := false, false
	members := 0
	for dec.PeekKind() != '}' {
		k, err := dec.ReadValue()
		if err != nil {
			return syntax(err)
		}
		keyStart := int(dec.InputOffset()) - len(k)
		members++
		key := k[1 : len(k)-1]
		if bytes.IndexByte(key, '\\') >= 0 || !utf8.Valid(key) {
			key, _ = jsontext.AppendUnquote(nil, k) // invalid UTF-8 decodes as U+FFFD
		}
		if !found && !inserted && string(key) > name {
			dst = append(dst, obj[copied:keyStart]...)
			dst = member(dst)
			dst = append(dst, ',')
			copied = keyStart
			inserted = true
		}
		v, err := dec.ReadValue()
		if err != nil {
			return syntax(err)
		}
		if string(key) != name {
			continue
		}
		found = true
		end := int(dec.InputOffset())
		dst = append(dst, obj[copied:end-len(v)]...)
		dst = append(dst, value...)
		copied = end
	}
	if _, err := dec.ReadToken(); err != nil {
		return syntax(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return syntax(errors.New("expect the end of the input"))
	}
	if found || inserted {
		return append(dst, obj[copied:]...), nil
	}
	// At the end: before the closing brace.
	end := len(obj) - 1
	for obj[end] != '}' {
		end--
	}
	dst = append(dst, obj[copied:end]...)
	if members > 0 {
		dst = append(dst, ',')
	}
	dst = member(dst)
	return append(dst, obj[end:]...), nil
}

// decoder is a decoder of setMember, kept in decoders between calls: a
// new one costs more than the rest of the work.
type decoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// checkName refuses a member name setMember would have to escape.
func checkName(name string) error {
	for i := range len(name) {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return fmt.Errorf("member name %q needs escaping", name)
		}
	}
	return nil
}
