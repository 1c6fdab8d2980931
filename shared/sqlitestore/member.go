package sqlitestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/record"
)

// Editing an item's JSON text in place: setting its residency tag and TTL
// without decoding and encoding the whole item.

// errSyntax marks a stored item that is not a JSON object.
var errSyntax = errors.New("invalid JSON")

// setMember appends to dst the JSON object obj with its member name set to
// value (JSON text, taken as it is: the caller makes it valid). Every
// member of that name gets the value; without one, the member is inserted
// before the first member whose name sorts after name, so an object with
// sorted names (as encoding/json writes maps) stays sorted. The rest of obj
// is copied as it is.
func setMember(dst, obj []byte, name string, value []byte) ([]byte, error) {
	return setMembers(dst, obj, []member{{name: name, value: value}})
}

// member is a member setMembers sets.
type member struct {
	name  string
	value []byte
	// found: obj has a member of the name; inserted: it was inserted.
	found, inserted bool
}

// setMembers is setMember of each of ms (in order of their names, which
// differ) in one pass over obj: the same object as setting them one after
// the other.
func setMembers(dst, obj []byte, ms []member) ([]byte, error) {
	for i := range ms {
		// The errors name copies: ms's values stay the caller's (on its
		// stack, where they are).
		if err := checkName(ms[i].name); err != nil {
			return dst, fmt.Errorf("member name %q needs escaping", strings.Clone(ms[i].name))
		}
		if i > 0 && ms[i-1].name >= ms[i].name {
			return dst, fmt.Errorf("members %q and %q are not in order", strings.Clone(ms[i-1].name), strings.Clone(ms[i].name))
		}
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
	appendMember := func(dst []byte, m *member) []byte {
		dst = append(dst, '"')
		dst = append(dst, m.name...) // names we set need no escaping
		dst = append(dst, '"', ':')
		return append(dst, m.value...)
	}
	// Room for the object with the members added, at most.
	room := len(obj)
	for _, m := range ms {
		room += len(m.name) + len(m.value) + 4
	}
	dst = slices.Grow(dst, room)
	copied := 0 // obj[:copied] is in dst
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
		for i := range ms {
			if m := &ms[i]; !m.found && !m.inserted && string(key) > m.name {
				dst = append(dst, obj[copied:keyStart]...)
				dst = append(appendMember(dst, m), ',')
				copied = keyStart
				m.inserted = true
			}
		}
		v, err := dec.ReadValue()
		if err != nil {
			return syntax(err)
		}
		for i := range ms {
			if m := &ms[i]; string(key) == m.name {
				m.found = true
				end := int(dec.InputOffset())
				dst = append(dst, obj[copied:end-len(v)]...)
				dst = append(dst, m.value...)
				copied = end
				break
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return syntax(err)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return syntax(errors.New("expect the end of the input"))
	}
	// The members neither there nor inserted go at the end, before the
	// closing brace.
	end := len(obj) - 1
	for obj[end] != '}' {
		end--
	}
	for i := range ms {
		if m := &ms[i]; !m.found && !m.inserted {
			dst = append(dst, obj[copied:end]...)
			copied = end
			if members > 0 {
				dst = append(dst, ',')
			}
			dst = appendMember(dst, m)
			members++
		}
	}
	return append(dst, obj[copied:]...), nil
}

// decoder is a decoder of setMember, kept in decoders between calls: a
// new one costs more than the rest of the work.
type decoder struct {
	buf bytes.Buffer
	dec jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// errNeedsEscaping is a member name setMember would have to escape.
var errNeedsEscaping = errors.New("member name needs escaping")

// checkName refuses a member name setMember would have to escape.
func checkName(name string) error {
	for i := range len(name) {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return errNeedsEscaping
		}
	}
	return nil
}

// TagItem appends to dst the plain JSON item with w's residency tag (and
// its TTL attribute, if w names one) set, as UpdateTags would store it: for
// a write not yet in the table (an export's item, loaded in the same
// transaction as its tag), so that it is written once.
func TagItem(dst, item []byte, w record.TagWrite) ([]byte, error) {
	tag, err := w.Tag.JSON()
	if err != nil {
		return dst, err
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	out, room, err := tagged(dst, *bp, item, tag, w)
	*bp = room
	if err != nil {
		return dst, fmt.Errorf("item is not a JSON object: %w", err)
	}
	return out, nil
}

// scratch holds the buffers of TagItem's intermediate items.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// tagged appends to dst the JSON object item with tag (the JSON text of
// w's residency tag) set, and, if w names a TTL attribute, that set to
// w.TTL (or removed when it is 0): what UpdateTags and TagItem store. The
// tag and a TTL are set in one pass over item; a TTL removed takes a step
// through room, which tagged returns, grown, for the next call.
func tagged(dst, room, item, tag []byte, w record.TagWrite) (out, roomOut []byte, err error) {
	if w.TTLAttribute == "" {
		out, err = setMember(dst, item, record.TagAttribute, tag)
		return out, room, err
	}
	var digits [20]byte
	epoch := strconv.AppendInt(digits[:0], w.TTL, 10)
	if w.TTL != 0 && w.TTLAttribute != record.TagAttribute {
		ms := [2]member{{name: record.TagAttribute, value: tag}, {name: w.TTLAttribute, value: epoch}}
		if ms[1].name < ms[0].name {
			ms[0], ms[1] = ms[1], ms[0]
		}
		out, err = setMembers(dst, item, ms[:])
		return out, room, err
	}
	if room, err = setMember(room[:0], item, record.TagAttribute, tag); err != nil {
		return dst, room, err
	}
	if w.TTL != 0 { // a TTL attribute named as the tag: it wins, as set last
		out, err = setMember(dst, room, w.TTLAttribute, epoch)
		return out, room, err
	}
	out, err = withoutMember(dst, room, w.TTLAttribute)
	return out, room, err
}

// withoutMember appends to dst the JSON object obj without its member
// name, decoded and encoded again as the store writes items (obj as it is
// when it has none).
func withoutMember(dst, obj []byte, name string) ([]byte, error) {
	it, err := ddbjson.DecodePlain(obj)
	if err != nil {
		return dst, err
	}
	if _, ok := it[name]; !ok {
		return append(dst, obj...), nil
	}
	delete(it, name)
	return it.AppendJSON(dst)
}
