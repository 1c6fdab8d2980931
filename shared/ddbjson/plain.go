package ddbjson

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// AppendNewImage appends to dst the record's new image as a plain JSON
// object, as json.Marshal writes the item DecodeStream would make of it
// (names sorted at every level), converting the DynamoDB JSON text
// directly. The record must come from DecodeStreamRaw; without a new image
// it appends nothing and reports false. A malformed attribute value is an
// error naming the attribute.
func (r *StreamRecord) AppendNewImage(dst []byte) ([]byte, bool, error) {
	if r.newImage == nil {
		return dst, false, nil
	}
	s := newScanner(r.newImage)
	defer s.release()
	out, err := s.plainMap(dst, 0, true)
	if err != nil {
		return dst, false, fmt.Errorf("new image: %w", err)
	}
	return out, true, nil
}

// member is a converted member of an object: its name and where its
// "name":value text is in the buffer.
type member struct {
	name       string
	start, end int
}

// plainMap converts an object of attribute values (an image, or the map of
// an M). Members are converted into a scratch buffer, then written sorted.
func (s *scanner) plainMap(dst []byte, depth int, image bool) ([]byte, error) {
	if depth > maxDepth {
		return dst, s.syntax("nested too deeply")
	}
	var scratch []byte
	var ms []member
	err := s.Object(func(k []byte) error {
		name := s.name(k)
		m := member{name: name, start: len(scratch)}
		scratch = append(scratch, s.key...)
		scratch = append(scratch, ':')
		var err error
		if scratch, err = s.plainAttr(scratch, depth+1); err != nil {
			if image {
				return fmt.Errorf("attribute %q: %w", name, err)
			}
			return fmt.Errorf(".%s: %w", name, err)
		}
		m.end = len(scratch)
		ms = append(ms, m)
		return nil
	})
	if err != nil {
		return dst, err
	}
	slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	// A name given twice keeps its last value, as decoding does.
	dst = append(dst, '{')
	first := true
	for i, m := range ms {
		if i+1 < len(ms) && ms[i+1].name == m.name {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, scratch[m.start:m.end]...)
	}
	return append(dst, '}'), nil
}

// plainAttr converts one attribute value to the plain JSON of its value.
func (s *scanner) plainAttr(dst []byte, depth int) ([]byte, error) {
	if s.Peek() != '{' {
		return dst, errors.New("malformed attribute value: not an object")
	}
	err := s.oneType(func(t string) error {
		var err error
		dst, err = s.plainTyped(dst, t, depth)
		return err
	})
	return dst, err
}

func (s *scanner) plainTyped(dst []byte, t string, depth int) ([]byte, error) {
	switch t {
	case "S":
		if s.Peek() != '"' {
			return dst, errors.New("malformed attribute value: S must hold a string")
		}
		v, err := s.RawString()
		return append(dst, v...), err
	case "N":
		if s.Peek() != '"' {
			return dst, errors.New("malformed attribute value: N must hold a string")
		}
		n, err := s.num()
		return append(dst, n...), err
	case "BOOL":
		switch s.Peek() {
		case 't', 'f':
			lit, err := s.Literal()
			return append(dst, lit...), err
		}
		return dst, errors.New("malformed attribute value: BOOL must hold a boolean")
	case "NULL":
		return append(dst, "null"...), s.Skip()
	case "B":
		if s.Peek() != '"' {
			return dst, errors.New("malformed attribute value: B must hold a base64 string")
		}
		b, err := s.binary()
		return appendBase64(dst, b), err
	case "SS", "NS", "BS":
		if s.Peek() != '[' {
			return dst, fmt.Errorf("malformed attribute value: %s must hold a list of strings", t)
		}
		dst = append(dst, '[')
		i := 0
		err := s.Array(func() error {
			if s.Peek() != '"' {
				return fmt.Errorf("malformed attribute value: %s must hold a list of strings", t)
			}
			if i > 0 {
				dst = append(dst, ',')
			}
			i++
			switch t {
			case "SS":
				v, err := s.RawString()
				if err != nil {
					return err
				}
				dst = append(dst, v...)
			case "NS":
				n, err := s.num()
				if err != nil {
					return err
				}
				dst = append(dst, n...)
			default:
				b, err := s.binary()
				if err != nil {
					return err
				}
				dst = appendBase64(dst, b)
			}
			return nil
		})
		return append(dst, ']'), err
	case "L":
		if s.Peek() != '[' {
			return dst, errors.New("malformed attribute value: L must hold a list")
		}
		dst = append(dst, '[')
		i := 0
		err := s.Array(func() error {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = s.plainAttr(dst, depth+1); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
			i++
			return nil
		})
		return append(dst, ']'), err
	case "M":
		if s.Peek() != '{' {
			return dst, errors.New("malformed attribute value: M must hold a map")
		}
		return s.plainMap(dst, depth, false)
	}
	return dst, fmt.Errorf("unsupported attribute type %q", t)
}

// appendBase64 appends a base64 string (no character needs escaping).
func appendBase64(dst []byte, b64 string) []byte {
	dst = append(dst, '"')
	dst = append(dst, b64...)
	return append(dst, '"')
}
