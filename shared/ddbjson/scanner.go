package ddbjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// scanner reads JSON text in one pass with jsontext's decoder, for the
// decoders and converters on the hot path of every stream batch, and adds
// the readers of DynamoDB JSON. It accepts exactly the JSON encoding/json
// accepts: names given twice, and invalid UTF-8 in strings, which decodes
// as U+FFFD. Errors of the input wrap errSyntax.
type scanner struct {
	buf    bytes.Buffer
	dec    jsontext.Decoder
	rawNew bool           // leave new images as they are (DecodeStreamRaw)
	key    jsontext.Value // the last member name read, quoted, as it is in the input
	// names holds the attribute names read, each string once: a batch's
	// items share theirs, so an item costs no allocation a name. It is
	// kept with the scanner in the pool, and emptied when it reaches
	// maxNames (input with ever new names).
	names map[string]string
}

// maxNames bounds a scanner's names.
const maxNames = 4096

// name returns the attribute name k as a string, the same string for the
// same name.
func (s *scanner) name(k []byte) string {
	if n, ok := s.names[string(k)]; ok {
		return n
	}
	n := string(k)
	switch {
	case s.names == nil:
		s.names = make(map[string]string, 64)
	case len(s.names) >= maxNames:
		clear(s.names)
	}
	s.names[n] = n
	return n
}

// errSyntax marks input that is not JSON.
var errSyntax = errors.New("invalid JSON")

// maxDepth bounds nesting, as encoding/json does, so hostile input cannot
// exhaust the stack.
const maxDepth = 10000

// scanners keeps scanners between reads: a new decoder costs more than
// reading a small image.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

var decodeOptions = []jsontext.Options{jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true)}

// newScanner returns a scanner of b; release it when done.
func newScanner(b []byte) *scanner {
	s := scanners.Get().(*scanner)
	// From a bytes.Buffer the decoder reads in place: raw values alias b.
	s.buf = *bytes.NewBuffer(b)
	s.dec.Reset(&s.buf, decodeOptions...)
	s.rawNew, s.key = false, nil
	return s
}

// release returns s to scanners.
func (s *scanner) release() {
	s.buf, s.key = bytes.Buffer{}, nil
	s.dec.Reset(&s.buf)
	scanners.Put(s)
}

// syntax returns an error wrapping errSyntax that says what was expected
// where.
func (s *scanner) syntax(what string) error {
	return fmt.Errorf("%w: %s at offset %d", errSyntax, what, s.dec.InputOffset())
}

// invalid wraps an error of the decoder.
func invalid(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %v", errSyntax, err)
}

// Peek returns the kind of the next token ('n', 'f', 't', '"', '0', '{',
// '}', '[', ']'), or 0 at the end or at an error.
func (s *scanner) Peek() byte { return byte(s.dec.PeekKind()) }

// End checks that nothing but space follows the value.
func (s *scanner) End() error {
	if _, err := s.dec.ReadToken(); err != io.EOF {
		return s.syntax("expect the end of the input")
	}
	return nil
}

// raw reads the next value of kind as it is in the input.
func (s *scanner) raw(kind byte, what string) (jsontext.Value, error) {
	if k := s.Peek(); k != kind {
		if k == 0 {
			_, err := s.dec.ReadValue()
			return nil, invalid(err)
		}
		return nil, s.syntax("expect " + what)
	}
	v, err := s.dec.ReadValue()
	if err != nil {
		return nil, invalid(err)
	}
	return v, nil
}

// RawString reads a string and returns it quoted, as it is in the input.
func (s *scanner) RawString() (jsontext.Value, error) { return s.raw('"', "a string") }

// Str reads a string value.
func (s *scanner) Str() (string, error) {
	v, err := s.RawString()
	if err != nil {
		return "", err
	}
	return unquote(v)
}

// unquote decodes a quoted string the decoder read. Its only error is
// invalid UTF-8, which decodes as U+FFFD, as encoding/json decodes it.
func unquote(v jsontext.Value) (string, error) {
	in := v[1 : len(v)-1]
	if plain(in) {
		return string(in), nil
	}
	b, _ := jsontext.AppendUnquote(nil, v)
	return string(b), nil
}

// plain reports whether a string's text needs no unescaping.
func plain(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Number reads a number and returns its text.
func (s *scanner) Number() ([]byte, error) { return s.raw('0', "a number") }

// Literal reads true, false or null.
func (s *scanner) Literal() (string, error) {
	switch s.Peek() {
	case 't', 'f', 'n':
		v, err := s.dec.ReadValue()
		if err != nil {
			return "", invalid(err)
		}
		return string(v), nil
	}
	return "", s.syntax("expect a value")
}

// Null reads null if it is next, and reports whether it did.
func (s *scanner) Null() bool {
	if s.Peek() != 'n' {
		return false
	}
	_, err := s.dec.ReadToken()
	return err == nil
}

// Skip reads any value.
func (s *scanner) Skip() error {
	if err := s.dec.SkipValue(); err != nil {
		return invalid(err)
	}
	return nil
}

// Object reads an object, calling member for each member with the scanner
// at the member's value; member must read the value. The name aliases the
// input when it needs no unescaping; use it at once.
func (s *scanner) Object(member func(name []byte) error) error {
	if s.Peek() != '{' {
		if s.Peek() == 0 {
			_, err := s.dec.ReadToken()
			return invalid(err)
		}
		return s.syntax("expect '{'")
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return invalid(err)
	}
	for s.Peek() != '}' {
		k, err := s.dec.ReadValue()
		if err != nil {
			return invalid(err)
		}
		s.key = k
		name := k[1 : len(k)-1]
		if !plain(name) {
			u, err := unquote(k)
			if err != nil {
				return err
			}
			name = []byte(u)
		}
		if err := member(name); err != nil {
			return err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return invalid(err)
	}
	return nil
}

// Array reads an array, calling elem with the scanner at each element;
// elem must read the element.
func (s *scanner) Array(elem func() error) error {
	if s.Peek() != '[' {
		if s.Peek() == 0 {
			_, err := s.dec.ReadToken()
			return invalid(err)
		}
		return s.syntax("expect '['")
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return invalid(err)
	}
	for s.Peek() != ']' {
		if err := elem(); err != nil {
			return err
		}
	}
	if _, err := s.dec.ReadToken(); err != nil {
		return invalid(err)
	}
	return nil
}

// mark is where a value starts, for skipRest.
type mark struct {
	depth int
	at    int64
}

func (s *scanner) mark() mark { return mark{s.dec.StackDepth(), s.dec.InputOffset()} }

// skipRest reads what is left of the value that started at m, after an
// error that is not the input's (a malformed attribute value) stopped its
// reading anywhere inside it.
func (s *scanner) skipRest(m mark) error {
	if s.dec.StackDepth() == m.depth {
		if s.dec.InputOffset() == m.at { // not started
			return s.Skip()
		}
		return nil // read whole
	}
	for s.dec.StackDepth() > m.depth {
		switch s.Peek() {
		case '}', ']':
			if _, err := s.dec.ReadToken(); err != nil {
				return invalid(err)
			}
		default:
			if err := s.Skip(); err != nil {
				return err
			}
		}
	}
	return nil
}
