package local

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/record"
)

// objects is the routers' S3 on the local store. As on AWS, where the
// platform's ObjectCreated notifications of the watched buckets invoke the
// tagger, an object the router writes into a watched bucket (a relocated
// copy) is announced to the tagger of that bucket's region, which catalogs
// it there; the quarantine buckets are watched by nobody.
type objects struct{ s *Stack }

var _ router.Objects = objects{}

func (o objects) GetObject(ctx context.Context, region, bucket, key string) (record.ObjectContent, error) {
	return o.s.Store.ObjectContent(ctx, region, bucket, key)
}

func (o objects) PutObject(ctx context.Context, region, bucket, key string, c record.ObjectContent, ifAbsent bool) error {
	if err := o.s.Store.PutObjectContent(ctx, region, bucket, key, c, ifAbsent); err != nil {
		return err
	}
	if _, ok := o.s.Policy.SourceForObject(bucket, key); ok {
		o.s.created = append(o.s.created, lambdaevents.S3EventRecord{EventVersion: "2.1", EventSource: "aws:s3", AWSRegion: region,
			EventTime: o.s.Now().UTC(), EventName: "ObjectCreated:Put",
			S3: lambdaevents.S3Entity{Bucket: lambdaevents.S3Bucket{Name: bucket, Arn: "arn:aws:s3:::" + bucket},
				Object: lambdaevents.S3Object{Key: url.QueryEscape(key), Size: int64(len(c.Body)), Sequencer: o.s.id("seq")}}})
	}
	return nil
}

func (o objects) ObjectChecksum(ctx context.Context, region, bucket, key string) (string, error) {
	return o.s.Store.ObjectChecksum(ctx, region, bucket, key)
}

func (o objects) DeleteObject(ctx context.Context, region, bucket, key string) (int, error) {
	n, err := o.s.Store.DeleteObject(ctx, region, bucket, key)
	if err != nil && !errors.Is(err, record.ErrNotFound) {
		return n, err
	}
	return n, nil // as S3: deleting what is not there deletes nothing
}

// deliverCreated hands the tagger of each region the ObjectCreated
// notifications of the objects written there, one event per object.
func (s *Stack) deliverCreated(ctx context.Context) bool {
	if len(s.created) == 0 {
		return false
	}
	recs := s.created
	s.created = nil
	for _, r := range recs {
		payload, err := json.Marshal(lambdaevents.S3Event{Records: []lambdaevents.S3EventRecord{r}})
		if err != nil {
			s.Failed(ctx, "tagger", r.AWSRegion, "S3 event", err)
			continue
		}
		h, err := s.handler("tagger", r.AWSRegion)
		if err == nil {
			_, err = s.invoke(ctx, "tagger", h, payload)
		}
		if err != nil {
			s.Failed(ctx, "tagger", r.AWSRegion, "S3 event", err)
		}
	}
	return true
}
