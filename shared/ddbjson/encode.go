package ddbjson

import "fmt"

// AppendImage appends to dst the DynamoDB JSON image of a plain JSON object
// (an item or a key as the embedded store keeps them), converting the text
// directly as FromItem converts values: strings become S, numbers N (their
// digits as they are), booleans BOOL, null NULL, arrays L and objects M.
// Member order is kept.
func AppendImage(dst, plain []byte) ([]byte, error) {
	s := newScanner(plain)
	defer s.release()
	if s.Peek() != '{' {
		return dst, fmt.Errorf("%w: an item is a JSON object", errSyntax)
	}
	dst, err := s.appendMap(dst, 0)
	if err == nil {
		err = s.End()
	}
	return dst, err
}

// appendMap converts an object's members (the braces included).
func (s *scanner) appendMap(dst []byte, depth int) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	err := s.Object(func([]byte) error {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		// The member name as it is in the input, escapes kept.
		dst = append(dst, s.key...)
		dst = append(dst, ':')
		var err error
		dst, err = s.appendAttr(dst, depth+1)
		return err
	})
	return append(dst, '}'), err
}

// appendAttr converts one value to an attribute value.
func (s *scanner) appendAttr(dst []byte, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, s.syntax("nested too deeply")
	}
	switch c := s.Peek(); {
	case c == '"':
		v, err := s.RawString()
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"S":`...)
		dst = append(dst, v...)
		return append(dst, '}'), nil
	case c == '{':
		dst = append(dst, `{"M":`...)
		dst, err := s.appendMap(dst, depth)
		return append(dst, '}'), err
	case c == '[':
		dst = append(dst, `{"L":[`...)
		first := true
		err := s.Array(func() error {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			var err error
			dst, err = s.appendAttr(dst, depth+1)
			return err
		})
		return append(dst, "]}"...), err
	case c == '-' || '0' <= c && c <= '9':
		n, err := s.Number()
		if err != nil {
			return dst, err
		}
		dst = append(dst, `{"N":"`...)
		dst = append(dst, n...)
		return append(dst, `"}`...), nil
	default:
		lit, err := s.Literal()
		if err != nil {
			return dst, err
		}
		if lit == "null" {
			return append(dst, `{"NULL":true}`...), nil
		}
		dst = append(dst, `{"BOOL":`...)
		dst = append(dst, lit...)
		return append(dst, '}'), nil
	}
}
