package tagger

import "testing"

func TestStreamARNParts(t *testing.T) {
	cases := map[string]struct{ arn, table, region string }{
		"commercial":        {"arn:aws:dynamodb:eu-central-1:123456789012:table/users/stream/2026-11-01T00:00:00.000", "users", "eu-central-1"},
		"sovereign cloud":   {"arn:aws-eusc:dynamodb:eusc-de-east-1:123456789012:table/users/stream/2026-11-01T00:00:00.000", "users", "eusc-de-east-1"},
		"china":             {"arn:aws-cn:dynamodb:cn-north-1:123456789012:table/orders/stream/2026-11-01T00:00:00.000", "orders", "cn-north-1"},
		"not a stream":      {"arn:aws:s3:::bucket", "", ""},
		"not an ARN at all": {"users", "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tableOf(c.arn); got != c.table {
				t.Errorf("expect table %q, got %q", c.table, got)
			}
			if got := regionOf(c.arn); got != c.region {
				t.Errorf("expect region %q, got %q", c.region, got)
			}
		})
	}
}
