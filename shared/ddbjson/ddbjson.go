package ddbjson

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/record"
)

// ToItem converts a stream image to a plain item.
func ToItem(image map[string]events.DynamoDBAttributeValue) (record.Item, error) {
	if image == nil {
		return nil, nil
	}
	it := make(record.Item, len(image))
	for name, av := range image {
		v, err := toValue(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		it[name] = v
	}
	return it, nil
}

// ToKey converts a stream record's Keys to a record key.
func ToKey(keys map[string]events.DynamoDBAttributeValue) (record.Key, error) {
	it, err := ToItem(keys)
	return record.Key(it), err
}

func toValue(av events.DynamoDBAttributeValue) (v any, err error) {
	defer func() {
		// aws-lambda-go panics on accessing a value of another type; a
		// malformed record must fail alone instead.
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed attribute value: %v", r)
		}
	}()
	switch av.DataType() {
	case events.DataTypeString:
		return av.String(), nil
	case events.DataTypeNumber:
		return json.Number(av.Number()), nil
	case events.DataTypeBoolean:
		return av.Boolean(), nil
	case events.DataTypeNull:
		return nil, nil
	case events.DataTypeBinary:
		return base64.StdEncoding.EncodeToString(av.Binary()), nil
	case events.DataTypeStringSet:
		out := make([]any, 0, len(av.StringSet()))
		for _, s := range av.StringSet() {
			out = append(out, s)
		}
		return out, nil
	case events.DataTypeNumberSet:
		out := make([]any, 0, len(av.NumberSet()))
		for _, s := range av.NumberSet() {
			out = append(out, json.Number(s))
		}
		return out, nil
	case events.DataTypeBinarySet:
		out := make([]any, 0, len(av.BinarySet()))
		for _, b := range av.BinarySet() {
			out = append(out, base64.StdEncoding.EncodeToString(b))
		}
		return out, nil
	case events.DataTypeList:
		out := make([]any, 0, len(av.List()))
		for i, e := range av.List() {
			x, err := toValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, x)
		}
		return out, nil
	case events.DataTypeMap:
		m := make(map[string]any, len(av.Map()))
		for k, e := range av.Map() {
			x, err := toValue(e)
			if err != nil {
				return nil, fmt.Errorf(".%s: %w", k, err)
			}
			m[k] = x
		}
		return m, nil
	}
	return nil, fmt.Errorf("unsupported attribute type %v", av.DataType())
}

// FromItem converts a plain item to a stream image.
func FromItem(it record.Item) (map[string]events.DynamoDBAttributeValue, error) {
	if it == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(it))
	for name, v := range it {
		av, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		out[name] = av
	}
	return out, nil
}

// FromKey converts a record key to a stream record's Keys.
func FromKey(k record.Key) (map[string]events.DynamoDBAttributeValue, error) {
	return FromItem(record.Item(k))
}

func fromValue(v any) (events.DynamoDBAttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return events.NewNullAttribute(), nil
	case string:
		return events.NewStringAttribute(x), nil
	case json.Number:
		return events.NewNumberAttribute(x.String()), nil
	case float64:
		return events.NewNumberAttribute(json.Number(fmt.Sprint(x)).String()), nil
	case int:
		return events.NewNumberAttribute(fmt.Sprint(x)), nil
	case int64:
		return events.NewNumberAttribute(fmt.Sprint(x)), nil
	case bool:
		return events.NewBooleanAttribute(x), nil
	case []any:
		l := make([]events.DynamoDBAttributeValue, 0, len(x))
		for i, e := range x {
			av, err := fromValue(e)
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, av)
		}
		return events.NewListAttribute(l), nil
	case map[string]any:
		m := make(map[string]events.DynamoDBAttributeValue, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			av, err := fromValue(x[k])
			if err != nil {
				return events.DynamoDBAttributeValue{}, fmt.Errorf(".%s: %w", k, err)
			}
			m[k] = av
		}
		return events.NewMapAttribute(m), nil
	case record.Item:
		return fromValue(map[string]any(x))
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported value of type %T", v)
}
