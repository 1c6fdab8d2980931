package record

import (
	"encoding/json"
	"slices"
)

// AppendJSON appends the item's JSON to dst, the same bytes json.Marshal
// writes (names sorted at every level, HTML characters escaped), without
// reflecting on the values a decoded item holds (strings, json.Number,
// booleans, null, []any, map[string]any); any other value is marshalled
// by encoding/json. The embedded store writes every item it stores with
// it (FuzzItemAppendJSON holds it to json.Marshal).
func (it Item) AppendJSON(dst []byte) ([]byte, error) {
	if it == nil {
		return append(dst, "null"...), nil
	}
	return appendJSONObject(dst, it)
}

func appendJSONObject(dst []byte, m map[string]any) ([]byte, error) {
	var names [16]string
	sorted := names[:0]
	for n := range m {
		sorted = append(sorted, n)
	}
	slices.Sort(sorted)
	dst = append(dst, '{')
	var err error
	for i, n := range sorted {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, n)
		dst = append(dst, ':')
		if dst, err = appendJSONValue(dst, m[n]); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func appendJSONValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendJSONString(dst, v), nil
	case bool:
		if v {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case nil:
		return append(dst, "null"...), nil
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		return appendJSONObject(dst, v)
	case []any:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '[')
		var err error
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendJSONValue(dst, e); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	// json.Number (validated as encoding/json validates it), and anything
	// else.
	b, err := json.Marshal(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}
