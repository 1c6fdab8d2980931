package jsontext

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Scanner reads JSON text in one pass, without reflection, for the decoders
// and converters on the hot path of every stream batch. It accepts exactly
// the JSON encoding/json accepts (RFC 8259); strings decode as encoding/json
// decodes them (invalid UTF-8 becomes U+FFFD). Errors of the input wrap
// ErrSyntax.
type Scanner struct {
	B []byte // the input
	I int    // the offset of the next byte to read
	// KeyAt is where the last member name read starts and ends in B,
	// quotes included.
	KeyAt [2]int
}

// ErrSyntax marks input that is not JSON.
var ErrSyntax = errors.New("invalid JSON")

// Syntax returns an error wrapping ErrSyntax that says what was expected
// where.
func (s *Scanner) Syntax(what string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrSyntax, what, s.I)
}

func (s *Scanner) ws() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek returns the next non-space byte, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Expect reads the byte c, after any space.
func (s *Scanner) Expect(c byte) error {
	if s.Peek() != c {
		return s.Syntax(fmt.Sprintf("expect %q", c))
	}
	s.I++
	return nil
}

// End checks that nothing but space follows the value.
func (s *Scanner) End() error {
	if s.Peek() != 0 || s.I != len(s.B) {
		return s.Syntax("expect the end of the input")
	}
	return nil
}

// RawString reads a string and returns its text between the quotes, and
// whether it must be unescaped (it holds an escape or non-ASCII bytes).
func (s *Scanner) RawString() (raw []byte, plain bool, err error) {
	if s.Peek() != '"' {
		return nil, false, s.Syntax("expect a string")
	}
	start := s.I + 1
	plain = true
	for j := start; j < len(s.B); j++ {
		switch c := s.B[j]; {
		case c == '"':
			s.I = j + 1
			return s.B[start:j], plain, nil
		case c == '\\':
			plain = false
			j++
			if j >= len(s.B) {
				s.I = j
				return nil, false, s.Syntax("unterminated string")
			}
			switch s.B[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s.B) || !isHex(s.B[j+1]) || !isHex(s.B[j+2]) || !isHex(s.B[j+3]) || !isHex(s.B[j+4]) {
					s.I = j
					return nil, false, s.Syntax("invalid \\u escape")
				}
				j += 4
			default:
				s.I = j
				return nil, false, s.Syntax("invalid escape")
			}
		case c < 0x20:
			s.I = j
			return nil, false, s.Syntax("control character in string")
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	s.I = len(s.B)
	return nil, false, s.Syntax("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Str reads a string value.
func (s *Scanner) Str() (string, error) {
	raw, plain, err := s.RawString()
	if err != nil {
		return "", err
	}
	if plain || utf8.Valid(raw) && !hasBackslash(raw) {
		return string(raw), nil
	}
	var out string
	// The quotes around raw are in the input.
	if err := json.Unmarshal(s.B[s.I-len(raw)-2:s.I], &out); err != nil {
		return "", fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return out, nil
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// Key reads an object member's name and the colon after it. The result
// aliases the input when the name needs no unescaping; use it at once.
func (s *Scanner) Key() ([]byte, error) {
	s.ws()
	s.KeyAt[0] = s.I
	raw, plain, err := s.RawString()
	if err != nil {
		return nil, err
	}
	s.KeyAt[1] = s.I
	if !plain {
		start := s.I
		var k string
		if err := json.Unmarshal(s.B[start-len(raw)-2:start], &k); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
		}
		raw = []byte(k)
	}
	if err := s.Expect(':'); err != nil {
		return nil, err
	}
	return raw, nil
}

// Number reads a number and returns its text.
func (s *Scanner) Number() ([]byte, error) {
	s.ws()
	start, j := s.I, s.I
	n := len(s.B)
	if j < n && s.B[j] == '-' {
		j++
	}
	switch {
	case j < n && s.B[j] == '0':
		j++
	case j < n && '1' <= s.B[j] && s.B[j] <= '9':
		for j < n && '0' <= s.B[j] && s.B[j] <= '9' {
			j++
		}
	default:
		return nil, s.Syntax("expect a number")
	}
	if j < n && s.B[j] == '.' {
		j++
		if j >= n || s.B[j] < '0' || s.B[j] > '9' {
			s.I = j
			return nil, s.Syntax("expect a digit")
		}
		for j < n && '0' <= s.B[j] && s.B[j] <= '9' {
			j++
		}
	}
	if j < n && (s.B[j] == 'e' || s.B[j] == 'E') {
		j++
		if j < n && (s.B[j] == '+' || s.B[j] == '-') {
			j++
		}
		if j >= n || s.B[j] < '0' || s.B[j] > '9' {
			s.I = j
			return nil, s.Syntax("expect a digit")
		}
		for j < n && '0' <= s.B[j] && s.B[j] <= '9' {
			j++
		}
	}
	s.I = j
	return s.B[start:j], nil
}

// Literal reads true, false or null.
func (s *Scanner) Literal() (string, error) {
	s.ws()
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.B)-s.I >= len(lit) && string(s.B[s.I:s.I+len(lit)]) == lit {
			s.I += len(lit)
			return lit, nil
		}
	}
	return "", s.Syntax("expect a value")
}

// Null reads null if it is next, and reports whether it did.
func (s *Scanner) Null() bool {
	if s.Peek() == 'n' && len(s.B)-s.I >= 4 && string(s.B[s.I:s.I+4]) == "null" {
		s.I += 4
		return true
	}
	return false
}

// MaxDepth bounds nesting, as encoding/json does, so hostile input cannot
// exhaust the stack.
const MaxDepth = 10000

// Skip reads any value; depth is the nesting the value is at.
func (s *Scanner) Skip(depth int) error {
	if depth > MaxDepth {
		return s.Syntax("nested too deeply")
	}
	switch c := s.Peek(); {
	case c == '"':
		_, _, err := s.RawString()
		return err
	case c == '{':
		return s.Object(func(key []byte) error { return s.Skip(depth + 1) })
	case c == '[':
		return s.Array(func() error { return s.Skip(depth + 1) })
	case c == '-' || '0' <= c && c <= '9':
		_, err := s.Number()
		return err
	default:
		_, err := s.Literal()
		return err
	}
}

// Object reads an object, calling member for each member with the Scanner
// at the member's value; member must read the value.
func (s *Scanner) Object(member func(key []byte) error) error {
	if err := s.Expect('{'); err != nil {
		return err
	}
	if s.Peek() == '}' {
		s.I++
		return nil
	}
	for {
		k, err := s.Key()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.I++
		case '}':
			s.I++
			return nil
		default:
			return s.Syntax("expect ',' or '}'")
		}
	}
}

// Array reads an array, calling elem with the Scanner at each element;
// elem must read the element.
func (s *Scanner) Array(elem func() error) error {
	if err := s.Expect('['); err != nil {
		return err
	}
	if s.Peek() == ']' {
		s.I++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.Peek() {
		case ',':
			s.I++
		case ']':
			s.I++
			return nil
		default:
			return s.Syntax("expect ',' or ']'")
		}
	}
}
