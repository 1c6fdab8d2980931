package trigger

import (
	"errors"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := map[string]struct {
		payload string
		want    Kind
	}{
		"stream":             {`{"Records":[{"eventSource":"aws:dynamodb"}]}`, DynamoDBStream},
		"s3":                 {`{"Records":[{"eventSource":"aws:s3"}]}`, S3},
		"sqs":                {`{"Records":[{"eventSource":"aws:sqs"}]}`, SQS},
		"eventbridge":        {`{"detail-type":"Record Ingest","source":"com.acme","detail":{}}`, EventBridge},
		"scheduler":          {`{"detail-type":"Scheduled Event","source":"aws.scheduler","detail":{}}`, Schedule},
		"rule":               {`{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}`, Schedule},
		"http api v2":        {`{"version":"2.0","rawPath":"/v1/report","requestContext":{"http":{"method":"GET"}}}`, HTTP},
		"backfill page":      {`{"backfill":{"region":"us-east-1","table":"users","segment":0,"segments":4}}`, Backfill},
		"backfill completed": {`{"backfill_completed":{"region":"us-east-1","source":"users","mode":"scan"}}`, BackfillCompleted},
		"sns unknown":        {`{"Records":[{"EventSource":"aws:sns"}]}`, ""},
		"empty object":       {`{}`, ""},
		"not json":           {`[1,2`, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Detect([]byte(c.payload))
			if c.want == "" {
				if !errors.Is(err, ErrUnknown) {
					t.Fatalf("expect ErrUnknown, got %v, %v", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("expect %s, got %s (%v)", c.want, got, err)
			}
		})
	}
}
