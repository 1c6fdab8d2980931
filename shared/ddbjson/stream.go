package ddbjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/residency-dev/residency/shared/record"
)

// StreamRecord is one record of a DynamoDB Streams event, with its images
// already plain items.
type StreamRecord struct {
	EventID        string
	EventName      string // INSERT | MODIFY | REMOVE
	EventSource    string
	AWSRegion      string
	EventSourceARN string
	SequenceNumber string
	// CreatedAt is ApproximateCreationDateTime.
	CreatedAt time.Time
	// UserIdentity is who made the change when it was not an application
	// ({"type": "Service", "principalId": "dynamodb.amazonaws.com"} for a
	// deletion by DynamoDB TTL); zero otherwise.
	UserIdentity UserIdentity
	Keys         record.Key  // nil when the record has none
	NewImage     record.Item // nil when the record has none
	// oldImage is the old image's DynamoDB JSON, decoded by OldImage.
	oldImage []byte
	// newImage is the new image's DynamoDB JSON when DecodeStreamRaw left
	// NewImage to AppendNewImage.
	newImage []byte
	// Err is why the record's attribute values cannot be read (nil when
	// they can): the record fails alone, the rest of the batch is read.
	Err error
}

// UserIdentity is a stream record's userIdentity.
type UserIdentity struct {
	Type, PrincipalID string
}

// ByTTL reports whether the change is a deletion by DynamoDB's time to live.
func (r *StreamRecord) ByTTL() bool {
	return r.EventName == "REMOVE" && r.UserIdentity.Type == "Service" && r.UserIdentity.PrincipalID == "dynamodb.amazonaws.com"
}

// OldImage decodes the record's old image (nil when it has none).
func (r *StreamRecord) OldImage() (record.Item, error) {
	if r.oldImage == nil {
		return nil, nil
	}
	s := newScanner(r.oldImage)
	defer s.release()
	it, err := s.image()
	if err != nil {
		return nil, fmt.Errorf("old image: %w", err)
	}
	return it, nil
}

// FromEvent converts a record decoded by aws-lambda-go.
func FromEvent(rec *events.DynamoDBEventRecord) StreamRecord {
	r := StreamRecord{
		EventID: rec.EventID, EventName: rec.EventName, EventSource: rec.EventSource, AWSRegion: rec.AWSRegion,
		EventSourceARN: rec.EventSourceArn, SequenceNumber: rec.Change.SequenceNumber, CreatedAt: rec.Change.ApproximateCreationDateTime.Time,
	}
	if u := rec.UserIdentity; u != nil {
		r.UserIdentity = UserIdentity{Type: u.Type, PrincipalID: u.PrincipalID}
	}
	var err error
	if r.Keys, err = ToKey(rec.Change.Keys); err != nil {
		r.Err = fmt.Errorf("keys: %w", err)
		return r
	}
	if r.NewImage, err = ToItem(rec.Change.NewImage); err != nil {
		r.Err = fmt.Errorf("new image: %w", err)
		return r
	}
	if rec.Change.OldImage != nil {
		if r.oldImage, err = json.Marshal(rec.Change.OldImage); err != nil {
			r.Err = fmt.Errorf("old image: %w", err)
		}
	}
	return r
}

// ErrMalformed marks a stream payload that is not a DynamoDB Streams event.
var ErrMalformed = errors.New("malformed stream event")

// DecodeStream decodes a DynamoDB Streams event ({"Records": [...]}), as
// Lambda delivers it, in one pass. Member names match as encoding/json
// matches them (exact, else case-insensitive); unknown members are
// ignored. A payload that is not JSON, or whose records or their envelope
// fields have the wrong shape, is an error wrapping ErrMalformed; a record
// whose attribute values are malformed is returned with Err set, so that it
// fails alone.
func DecodeStream(payload []byte) ([]StreamRecord, error) {
	s := newScanner(payload)
	defer s.release()
	return decodeStream(s, len(payload))
}

// DecodeStreamRaw is DecodeStream for a reader that stores new images: it
// leaves each NewImage nil and keeps its DynamoDB JSON (aliasing payload)
// for AppendNewImage, which checks its attribute values.
func DecodeStreamRaw(payload []byte) ([]StreamRecord, error) {
	s := newScanner(payload)
	defer s.release()
	s.rawNew = true
	return decodeStream(s, len(payload))
}

func decodeStream(s *scanner, size int) ([]StreamRecord, error) {
	// A record of an image or two takes some hundreds of bytes.
	recs := make([]StreamRecord, 0, min(size/256, 10000))
	err := s.Object(func(k []byte) error {
		if !fieldIs(k, "Records") {
			return s.Skip()
		}
		if s.Null() {
			recs = nil
			return nil
		}
		recs = recs[:0]
		return s.Array(func() error {
			if s.Null() {
				recs = append(recs, StreamRecord{})
				return nil
			}
			r, err := s.streamRecord()
			if err != nil {
				return fmt.Errorf("record %d: %w", len(recs), err)
			}
			recs = append(recs, r)
			return nil
		})
	})
	if err == nil {
		err = s.End()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return recs, nil
}

// fieldIs matches a member name as encoding/json does.
func fieldIs(k []byte, name string) bool {
	if string(k) == name {
		return true
	}
	if len(k) != len(name) {
		return false
	}
	for i := range len(k) {
		a, b := k[i], name[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// optString reads a string member; null leaves it as it is.
func (s *scanner) optString(dst *string) error {
	if s.Null() {
		return nil
	}
	v, err := s.Str()
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func (s *scanner) streamRecord() (StreamRecord, error) {
	var r StreamRecord
	err := s.Object(func(k []byte) error {
		switch {
		case fieldIs(k, "eventID"):
			return s.optString(&r.EventID)
		case fieldIs(k, "eventName"):
			return s.optString(&r.EventName)
		case fieldIs(k, "eventSource"):
			return s.optString(&r.EventSource)
		case fieldIs(k, "awsRegion"):
			return s.optString(&r.AWSRegion)
		case fieldIs(k, "eventSourceARN"):
			return s.optString(&r.EventSourceARN)
		case fieldIs(k, "dynamodb"):
			if s.Null() {
				return nil
			}
			return s.change(&r)
		case fieldIs(k, "userIdentity"):
			if s.Null() {
				return nil
			}
			return s.Object(func(k []byte) error {
				switch {
				case fieldIs(k, "type"):
					return s.optString(&r.UserIdentity.Type)
				case fieldIs(k, "principalId"):
					return s.optString(&r.UserIdentity.PrincipalID)
				}
				return s.Skip()
			})
		}
		return s.Skip()
	})
	return r, err
}

func (s *scanner) change(r *StreamRecord) error {
	// As for every member, the last Keys or NewImage given is the one read.
	var keysErr, newErr error
	err := s.Object(func(k []byte) error {
		switch {
		case fieldIs(k, "SequenceNumber"):
			return s.optString(&r.SequenceNumber)
		case fieldIs(k, "ApproximateCreationDateTime"):
			if s.Null() {
				r.CreatedAt = time.Unix(0, 0) // as aws-lambda-go reads null
				return nil
			}
			n, err := s.Number()
			if err != nil {
				return err
			}
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil || math.IsInf(f, 0) {
				return fmt.Errorf("the creation time (ApproximateCreationDateTime) %s is not a number of seconds", n)
			}
			sec := int64(f)
			r.CreatedAt = time.Unix(sec, int64((f-float64(sec))*1e9))
			return nil
		case s.rawNew && fieldIs(k, "NewImage"):
			r.newImage = nil
			if s.Null() {
				return nil
			}
			if s.Peek() != '{' {
				return s.syntax("expect '{'") // as image would
			}
			v, err := s.dec.ReadValue()
			if err != nil {
				return invalid(err)
			}
			r.newImage = v
			return nil
		case fieldIs(k, "Keys"), fieldIs(k, "NewImage"):
			isKeys := fieldIs(k, "Keys")
			m := s.mark()
			it, err := s.image()
			if errors.Is(err, errSyntax) {
				return err
			}
			if err != nil {
				// Not JSON's fault: skip the value, the record fails alone.
				if serr := s.skipRest(m); serr != nil {
					return serr
				}
				it = nil
			}
			if isKeys {
				r.Keys, keysErr = record.Key(it), err
			} else {
				r.NewImage, newErr = it, err
			}
			return nil
		case fieldIs(k, "OldImage"):
			if s.Null() {
				r.oldImage = nil
				return nil
			}
			v, err := s.dec.ReadValue()
			if err != nil {
				return invalid(err)
			}
			r.oldImage = v
			return nil
		}
		return s.Skip()
	})
	switch {
	case keysErr != nil:
		r.Err = fmt.Errorf("keys: %w", keysErr)
	case newErr != nil:
		r.Err = fmt.Errorf("new image: %w", newErr)
	default:
		r.Err = nil
	}
	return err
}

// image reads a map of attribute values as a plain item (nil for null). A
// syntax error wraps errSyntax; any other error is the item's.
func (s *scanner) image() (record.Item, error) {
	if s.Null() {
		return nil, nil
	}
	it := make(record.Item, 16) // most images have a few to a dozen attributes
	var bad error
	err := s.Object(func(k []byte) error {
		name := s.name(k)
		m := s.mark()
		v, err := s.attr(0)
		if errors.Is(err, errSyntax) {
			return err
		}
		if err != nil {
			if serr := s.skipRest(m); serr != nil {
				return serr
			}
			if bad == nil {
				bad = fmt.Errorf("attribute %q: %w", name, err)
			}
			return nil
		}
		it[name] = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	return it, bad
}

// attr reads one attribute value ({"S": "..."}, {"N": "..."}, ...) as the
// plain value ToItem makes of it. The first error that is not a syntax
// error is returned with the scanner anywhere inside the value: the caller
// skips it from its start.
func (s *scanner) attr(depth int) (any, error) {
	if depth > maxDepth {
		return nil, s.syntax("nested too deeply")
	}
	if s.Peek() != '{' {
		if err := s.Skip(); err != nil {
			return nil, err
		}
		return nil, errors.New("malformed attribute value: not an object")
	}
	var v any
	err := s.oneType(func(t string) error {
		var err error
		v, err = s.typed(t, depth)
		return err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// oneType reads the object of an attribute value, {"S": ...}, calling fn
// with its type name and the scanner at the value; the object must have one
// member, no more and no fewer.
func (s *scanner) oneType(fn func(t string) error) error {
	n := 0
	err := s.Object(func(k []byte) error {
		n++
		if n > 1 {
			return errors.New("malformed attribute value: more than one type")
		}
		return fn(s.name(k))
	})
	if err == nil && n == 0 {
		err = errors.New("malformed attribute value: no type")
	}
	return err
}

func (s *scanner) typed(t string, depth int) (any, error) {
	switch t {
	case "S":
		if s.Peek() != '"' {
			return nil, errors.New("malformed attribute value: S must hold a string")
		}
		return s.Str()
	case "N":
		if s.Peek() != '"' {
			return nil, errors.New("malformed attribute value: N must hold a string")
		}
		return s.num()
	case "BOOL":
		switch s.Peek() {
		case 't', 'f':
			lit, err := s.Literal()
			return lit == "true", err
		}
		return nil, errors.New("malformed attribute value: BOOL must hold a boolean")
	case "NULL":
		// aws-lambda-go reads any value as null.
		return nil, s.Skip()
	case "B":
		if s.Peek() != '"' {
			return nil, errors.New("malformed attribute value: B must hold a base64 string")
		}
		return s.binary()
	case "SS", "NS", "BS":
		if s.Peek() != '[' {
			return nil, fmt.Errorf("malformed attribute value: %s must hold a list of strings", t)
		}
		out := []any{}
		err := s.Array(func() error {
			if s.Peek() != '"' {
				return fmt.Errorf("malformed attribute value: %s must hold a list of strings", t)
			}
			var v any
			var err error
			switch t {
			case "SS":
				v, err = s.Str()
			case "NS":
				v, err = s.num()
			default:
				v, err = s.binary()
			}
			out = append(out, v)
			return err
		})
		return out, err
	case "L":
		if s.Peek() != '[' {
			return nil, errors.New("malformed attribute value: L must hold a list")
		}
		out := []any{}
		err := s.Array(func() error {
			v, err := s.attr(depth + 1)
			if err != nil {
				return fmt.Errorf("[%d]: %w", len(out), err)
			}
			out = append(out, v)
			return nil
		})
		return out, err
	case "M":
		if s.Peek() != '{' {
			return nil, errors.New("malformed attribute value: M must hold a map")
		}
		out := map[string]any{}
		err := s.Object(func(k []byte) error {
			name := s.name(k)
			v, err := s.attr(depth + 1)
			if err != nil {
				return fmt.Errorf(".%s: %w", name, err)
			}
			out[name] = v
			return nil
		})
		return out, err
	}
	return nil, fmt.Errorf("unsupported attribute type %q", t)
}

// binary reads a base64 string as ToItem writes binary values: decoded,
// then encoded again (standard encoding, padded).
func (s *scanner) binary() (string, error) {
	v, err := s.Str()
	if err != nil {
		return "", err
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return "", fmt.Errorf("malformed attribute value: binary: %v", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// num reads the string of an N attribute value: a number in JSON's syntax
// (a plain item could not hold another).
func (s *scanner) num() (json.Number, error) {
	n, err := s.Str()
	if err != nil {
		return "", err
	}
	if !isNumber(n) {
		return "", fmt.Errorf("malformed attribute value: %q is not a number", n)
	}
	return json.Number(n), nil
}

func isNumber(n string) bool {
	if n == "" || n[0] != '-' && (n[0] < '0' || n[0] > '9') || n[len(n)-1] < '0' || n[len(n)-1] > '9' {
		return false
	}
	return jsontext.Value(n).IsValid()
}
