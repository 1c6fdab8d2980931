package report

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/residency-dev/residency/shared/ledger"
)

// appendEntryJSON appends e as encoding/json's MarshalIndent(e, "    ", "  ")
// writes it, byte for byte, without reflection: the JSON report writes a
// million of them. TestRenderMatchesBuild and FuzzEntryJSON hold it to
// encoding/json.
func appendEntryJSON(b []byte, e *ledger.Entry) []byte {
	const field = "\n      \""
	b = append(b, '{')
	b = append(b, field+`seq": `...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = appendField(b, `id": `, e.ID)
	b = append(b, ","+field+`time": "`...)
	b = e.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, `kind": `, string(e.Kind))
	b = appendField(b, `region": `, e.Region)
	b = appendField(b, `source": `, e.Source)
	b = appendField(b, `record": `, e.Record)
	b = appendField(b, `subject_ref": `, e.SubjectRef)
	b = appendField(b, `category": `, e.Category)
	b = appendField(b, `from_region": `, e.FromRegion)
	b = appendField(b, `from_country": `, e.FromCountry)
	b = appendField(b, `to_region": `, e.ToRegion)
	b = appendField(b, `to_country": `, e.ToCountry)
	b = appendField(b, `importer": `, e.Importer)
	b = appendField(b, `mechanism": `, e.Mechanism)
	b = appendField(b, `reference": `, e.Reference)
	b = appendField(b, `decision": `, e.Decision)
	b = appendField(b, `policy_version": `, e.PolicyVersion)
	b = appendField(b, `actor": `, e.Actor)
	b = appendField(b, `prev_hash": `, e.PrevHash)
	b = appendField(b, `hash": `, e.Hash)
	return append(b, "\n    }"...)
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ",\n      \""...)
	b = append(b, name...)
	return appendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping (its
// default): <, > and & as \u003c..., control characters escaped, invalid
// UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
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
