package s3objects_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

func TestMain(m *testing.M) { os.Exit(mototest.Run(m)) }

const region = "eu-west-1"

// bucket makes a watched bucket in region on moto and returns its client.
func bucket(t *testing.T, name string) *s3.Client {
	t.Helper()
	c := s3.NewFromConfig(mototest.Config(t, region), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.CreateBucket(mototest.Context(t), &s3.CreateBucketInput{Bucket: aws.String(name),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHeadObjectReadsUserMetadata(t *testing.T) {
	ctx := mototest.Context(t)
	c := bucket(t, "acme-exports-head")
	objs := &s3objects.Objects{API: c}
	cases := map[string]struct {
		key  string
		meta map[string]string
		want map[string]string
	}{
		"lower-case names": {
			key:  "users/u-2002/export-2026-11.json",
			meta: map[string]string{"subject-id": "u-2002", "subject-country": "GB"},
			want: map[string]string{"subject-id": "u-2002", "subject-country": "GB"},
		},
		"names in any case come back lower-case": {
			key:  "users/u-2003/export 2026-11+final.json", // a key S3 events form-encode
			meta: map[string]string{"Subject-Id": "u-2003", "SUBJECT-COUNTRY": "DE", "Category": "events"},
			want: map[string]string{"subject-id": "u-2003", "subject-country": "DE", "category": "events"},
		},
		"no metadata": {key: "users/none.json", meta: nil, want: map[string]string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := time.Now().Add(-time.Minute)
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-exports-head"), Key: aws.String(tc.key),
				Body: strings.NewReader(`{"rows":[]}`), Metadata: tc.meta})
			if err != nil {
				t.Fatal(err)
			}
			got, err := objs.HeadObject(ctx, region, "acme-exports-head", tc.key)
			if err != nil {
				t.Fatalf("expect the object's metadata, got %v", err)
			}
			if d := cmp.Diff(tc.want, got.Metadata); d != "" {
				t.Errorf("metadata (-want +got):\n%s", d)
			}
			if got.Region != region || got.Bucket != "acme-exports-head" || got.Key != tc.key {
				t.Errorf("expect the object named as asked, got %s s3://%s/%s", got.Region, got.Bucket, got.Key)
			}
			if got.LastModified.Before(before) || got.LastModified.After(time.Now().Add(time.Minute)) {
				t.Errorf("expect the last-modified time of the write, got %v", got.LastModified)
			}
		})
	}
}

func TestMissingObjects(t *testing.T) {
	ctx := mototest.Context(t)
	c := bucket(t, "acme-exports-missing")
	objs := &s3objects.Objects{API: c}

	if _, err := objs.HeadObject(ctx, region, "acme-exports-missing", "users/gone.json"); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect record.ErrNotFound for a missing object, got %v", err)
	}

	// Deletes are idempotent: an object deleted twice, or never there.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme-exports-missing"), Key: aws.String("users/u-1.json"),
		Body: strings.NewReader("{}")}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := objs.DeleteObject(ctx, region, "acme-exports-missing", "users/u-1.json"); err != nil {
			t.Fatalf("delete %d: expect no error, got %v", i+1, err)
		}
	}
	if _, err := objs.HeadObject(ctx, region, "acme-exports-missing", "users/u-1.json"); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect the object gone, got %v", err)
	}
}

// TestDeleteObjectDeletesEveryVersion: on a versioned bucket (enabled, or
// suspended after versions were made) a deletion leaves no version and no
// delete marker of the object, and says how many went; another object
// whose key starts with the same characters is left alone.
func TestDeleteObjectDeletesEveryVersion(t *testing.T) {
	for name, c := range map[string]struct {
		status s3types.BucketVersioningStatus
		want   int
	}{
		// Three puts, and a delete marker the platform's own delete made.
		"enabled": {s3types.BucketVersioningStatusEnabled, 4},
		// Suspended after three puts, then a fourth, the "null" version. S3
		// keeps the three older versions beside it; moto keeps only the
		// newest, so the count is not checked here (-1), only that nothing
		// is left.
		"suspended": {s3types.BucketVersioningStatusSuspended, -1},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := mototest.Context(t)
			b := "acme-exports-versions-" + strings.ToLower(string(c.status))
			cl := bucket(t, b)
			version := func(s s3types.BucketVersioningStatus) {
				if _, err := cl.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
					VersioningConfiguration: &s3types.VersioningConfiguration{Status: s}}); err != nil {
					t.Fatal(err)
				}
			}
			version(s3types.BucketVersioningStatusEnabled)
			for _, k := range []string{"users/u-1.json", "users/u-1.json", "users/u-1.json", "users/u-1.json.bak"} {
				if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("{}")}); err != nil {
					t.Fatal(err)
				}
			}
			version(c.status)
			if c.status == s3types.BucketVersioningStatusEnabled {
				_, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("users/u-1.json")})
				if err != nil {
					t.Fatal(err)
				}
			} else if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("users/u-1.json"), Body: strings.NewReader("{}")}); err != nil {
				t.Fatal(err)
			}
			objs := &s3objects.Objects{API: cl}
			n, err := objs.DeleteObject(ctx, region, b, "users/u-1.json")
			if err != nil || (c.want >= 0 && n != c.want) || n < 1 {
				t.Fatalf("expect %d versions and markers deleted, got %d (%v)", c.want, n, err)
			}
			out, err := cl.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b)})
			if err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, v := range out.Versions {
				left = append(left, aws.ToString(v.Key))
			}
			for _, m := range out.DeleteMarkers {
				left = append(left, "marker "+aws.ToString(m.Key))
			}
			if d := cmp.Diff([]string{"users/u-1.json.bak"}, left); d != "" {
				t.Fatalf("versions left (-want +got):\n%s", d)
			}
			if n, err := objs.DeleteObject(ctx, region, b, "users/u-1.json"); err != nil || n != 0 {
				t.Fatalf("expect a second deletion to find nothing, got %d (%v)", n, err)
			}
		})
	}
}
