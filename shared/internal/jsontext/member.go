package jsontext

import "fmt"

// SetMember appends to dst the JSON object obj with its member name set to
// value (JSON text, taken as it is: the caller makes it valid). Every member of that name gets the
// value; without one, the member is inserted before the first member whose
// name sorts after name, so an object with sorted names (as encoding/json
// writes maps) stays sorted. The rest of obj is copied as it is.
func SetMember(dst, obj []byte, name string, value []byte) ([]byte, error) {
	if err := checkName(name); err != nil {
		return dst, err
	}
	s := &Scanner{B: obj}
	if s.Peek() != '{' {
		return dst, s.Syntax("expect an object")
	}
	copied := 0 // obj[:copied] is in dst
	found, inserted := false, false
	members := 0
	member := func() []byte {
		b := append([]byte{}, '"')
		b = append(b, name...) // names we set need no escaping
		b = append(b, '"', ':')
		return append(b, value...)
	}
	err := s.Object(func(k []byte) error {
		members++
		if !found && !inserted && string(k) > name {
			dst = append(dst, obj[copied:s.KeyAt[0]]...)
			dst = append(dst, member()...)
			dst = append(dst, ',')
			copied = s.KeyAt[0]
			inserted = true
		}
		if string(k) != name {
			return s.Skip(1)
		}
		found = true
		s.ws()
		start := s.I
		if err := s.Skip(1); err != nil {
			return err
		}
		dst = append(dst, obj[copied:start]...)
		dst = append(dst, value...)
		copied = s.I
		return nil
	})
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return dst, err
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
	dst = append(dst, member()...)
	return append(dst, obj[end:]...), nil
}

// checkName refuses a member name SetMember would have to escape.
func checkName(name string) error {
	for i := range len(name) {
		if c := name[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return fmt.Errorf("member name %q needs escaping", name)
		}
	}
	return nil
}
