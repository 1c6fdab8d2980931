package dynamostore

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/record"
)

// fromItem converts a plain JSON item to DynamoDB attribute values. Numbers
// (json.Number) stay exact.
func fromItem(it record.Item) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(it))
	for k, v := range it {
		av, err := fromValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromKey(k record.Key) (map[string]types.AttributeValue, error) {
	return fromItem(record.Item(k))
}

func fromValue(v any) (types.AttributeValue, error) {
	switch x := v.(type) {
	case nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case string:
		return &types.AttributeValueMemberS{Value: x}, nil
	case json.Number:
		return &types.AttributeValueMemberN{Value: x.String()}, nil
	case float64:
		return &types.AttributeValueMemberN{Value: strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case int:
		return &types.AttributeValueMemberN{Value: strconv.Itoa(x)}, nil
	case int64:
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(x, 10)}, nil
	case bool:
		return &types.AttributeValueMemberBOOL{Value: x}, nil
	case []any:
		l := make([]types.AttributeValue, 0, len(x))
		for i, e := range x {
			av, err := fromValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case map[string]any:
		m, err := fromItem(x)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case record.Item:
		return fromValue(map[string]any(x))
	}
	return nil, fmt.Errorf("unsupported value of type %T", v)
}

// toItem converts DynamoDB attribute values to a plain JSON item.
func toItem(m map[string]types.AttributeValue) (record.Item, error) {
	if m == nil {
		return nil, nil
	}
	out := make(record.Item, len(m))
	for k, av := range m {
		v, err := toValue(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

func toValue(av types.AttributeValue) (any, error) {
	switch x := av.(type) {
	case *types.AttributeValueMemberS:
		return x.Value, nil
	case *types.AttributeValueMemberN:
		return json.Number(x.Value), nil
	case *types.AttributeValueMemberBOOL:
		return x.Value, nil
	case *types.AttributeValueMemberNULL:
		return nil, nil
	case *types.AttributeValueMemberB:
		return base64.StdEncoding.EncodeToString(x.Value), nil
	case *types.AttributeValueMemberSS:
		out := make([]any, len(x.Value))
		for i, s := range x.Value {
			out[i] = s
		}
		return out, nil
	case *types.AttributeValueMemberNS:
		out := make([]any, len(x.Value))
		for i, s := range x.Value {
			out[i] = json.Number(s)
		}
		return out, nil
	case *types.AttributeValueMemberBS:
		out := make([]any, len(x.Value))
		for i, b := range x.Value {
			out[i] = base64.StdEncoding.EncodeToString(b)
		}
		return out, nil
	case *types.AttributeValueMemberL:
		out := make([]any, len(x.Value))
		for i, e := range x.Value {
			v, err := toValue(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = v
		}
		return out, nil
	case *types.AttributeValueMemberM:
		m, err := toItem(x.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any(m), nil
	}
	return nil, fmt.Errorf("unsupported attribute value %T", av)
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func nv(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func str(m map[string]types.AttributeValue, k string) string {
	if v, ok := m[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func num(m map[string]types.AttributeValue, k string) int64 {
	if v, ok := m[k].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}
