package awse2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// s3Calls counts an S3 client's calls by operation.
type s3Calls struct {
	mu  sync.Mutex
	ops map[string]int
	// prefixes are the prefixes ListObjectsV2 was asked for, in order.
	prefixes []string
}

func (c *s3Calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := c.ops
	c.ops = map[string]int{}
	return was
}

func (c *s3Calls) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountS3Calls", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		c.mu.Lock()
		c.ops[middleware.GetOperationName(ctx)]++
		if l, ok := in.Parameters.(*s3.ListObjectsV2Input); ok {
			c.prefixes = append(c.prefixes, aws.ToString(l.Prefix))
		}
		c.mu.Unlock()
		return next.HandleInitialize(ctx, in)
	}), middleware.After)
}

// bucketWorld is the acme-exports bucket of us-east-1 on moto (versioned),
// with the subjects' exports written before Residency watched it: French
// (EU) subjects, misplaced, and American ones; one key written twice, by a
// French subject first and an American one since, whose current version is
// the American's.
type bucketWorld struct {
	*world
	s3c   *s3.Client
	calls *s3Calls
	h     tagger.Handler
	// eu and usKeys are the keys by the subject of their current version.
	eu, usKeys []string
}

const backfillBucket = "acme-exports"

func setupBucket(t *testing.T) *bucketWorld {
	w := setup(t)
	calls := &s3Calls{ops: map[string]int{}}
	s3c := s3.NewFromConfig(mototest.Config(t, us), func(o *s3.Options) { o.APIOptions = append(o.APIOptions, calls.middleware) })
	if _, err := s3c.CreateBucket(w.ctx, &s3.CreateBucketInput{Bucket: aws.String(backfillBucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(w.ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(backfillBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	bw := &bucketWorld{world: w, s3c: s3c, calls: calls}
	put := func(key, subject, country string) {
		_, err := s3c.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(backfillBucket), Key: aws.String(key),
			Body: strings.NewReader(`{"rows":[]}`), Metadata: map[string]string{"subject-id": subject, "subject-country": country}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 7 {
		subject, country := fmt.Sprintf("u-7%03d", i), "US"
		if i%3 == 0 {
			country = "FR"
		}
		key := "users/" + subject + "/export 2025+old.json" // a key S3 URL-encodes in inventories
		put(key, subject, country)
		if country == "FR" {
			bw.eu = append(bw.eu, key)
		} else {
			bw.usKeys = append(bw.usKeys, key)
		}
	}
	twice := "users/u-7100/export.json"
	put(twice, "u-7100", "FR") // an older version: not what the tagger sees
	put(twice, "u-7100", "US")
	bw.usKeys = append(bw.usKeys, twice)
	calls.take()
	bw.h = *w.tagger
	objs := &s3objects.Objects{API: s3c}
	bw.h.Objects, bw.h.Lister, bw.h.Exports = objs, objs, &s3objects.Reader{API: s3c}
	return bw
}

func (bw *bucketWorld) page(p tagger.BackfillPage) (tagger.BackfillPageResult, error) {
	payload, _ := json.Marshal(map[string]any{"backfill": p})
	out, err := lambda.NewHandler(lambdaraw.Handler(bw.h.Invoke)).Invoke(bw.ctx, payload)
	var res tagger.BackfillPageResult
	if err == nil {
		err = json.Unmarshal(out, &res)
	}
	return res, err
}

// pass backfills the bucket from cursor to the end, 2 objects a page.
func (bw *bucketWorld) pass(inv *tagger.Inventory, cursor string) (total tagger.BackfillResult, pages int) {
	t := bw.t
	t.Helper()
	for ; ; pages++ {
		res, err := bw.page(tagger.BackfillPage{Region: us, Bucket: backfillBucket, Inventory: inv, Cursor: cursor, Limit: 2})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		if res.Items > 2 || pages > 20 || res.Bucket != backfillBucket {
			t.Fatalf("expect pages of at most 2 objects of %s that end, got %+v", backfillBucket, res)
		}
		// The cursor is sealed: no key, bucket or token in it, even decoded.
		if raw, _ := base64.RawURLEncoding.DecodeString(res.NextCursor); strings.Contains(res.NextCursor+string(raw), "users/") ||
			strings.Contains(string(raw), "list:") || strings.Contains(string(raw), "inventory:") {
			t.Fatalf("expect a sealed cursor, got %q", res.NextCursor)
		}
		total.Add(res.BackfillResult)
		if cursor = res.NextCursor; cursor == "" {
			return total, pages + 1
		}
	}
}

// catalogued returns the status of each key's catalog entry ("" if none).
func (bw *bucketWorld) catalogued(keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		out[k] = ""
	}
	for _, k := range keys {
		subject := strings.Split(k, "/")[1]
		es, err := bw.store.EntriesBySubject(bw.ctx, us, bw.h.Refs.Subject(subject))
		if err != nil {
			bw.t.Fatal(err)
		}
		for _, e := range es {
			if e.Source == backfillBucket && e.Key["key"] == k {
				out[k] = e.Status
			}
		}
	}
	return out
}

// TestBackfillBucketFromListObjectsV2: the tagger, given ListObjectsV2
// pages of 2 as the state machine sends them, catalogs every object that
// predates it, from its current version's metadata: the French subjects'
// objects are violations on the bus, the key whose current version is an
// American's is compliant; a second pass writes nothing and reads no
// object's metadata.
func TestBackfillBucketFromListObjectsV2(t *testing.T) {
	bw := setupBucket(t)
	all := append(append([]string{}, bw.eu...), bw.usKeys...)

	// WHEN the bucket is backfilled from its listing
	first, pages := bw.pass(nil, "")
	calls := bw.calls.take()

	// THEN each current object is read once: 8 objects in 4 pages, the 3
	// French ones violations
	if first.Items != 8 || pages != 4 || first.Tagged != 8 || first.Unchanged != 0 || first.Violations != 3 || len(first.Failed) != 0 {
		t.Fatalf("expect 8 objects in 4 pages: 8 tagged, 3 violations, got %d pages: %+v", pages, first)
	}
	if calls["ListObjectsV2"] != 4 || calls["HeadObject"] != 8 {
		t.Errorf("expect 4 listings and one HeadObject per object, got %v", calls)
	}
	for k, status := range bw.catalogued(all) {
		want := record.StatusCompliant
		if strings.Contains(strings.Join(bw.eu, "\n"), k) {
			want = record.StatusViolation
		}
		if status != want {
			t.Errorf("expect an object catalogued %s, got %q", want, status)
		}
	}
	got := bw.receive(bw.violations)
	if len(got.Records) != 3 {
		t.Fatalf("expect 3 violations on the bus, got %d", len(got.Records))
	}
	for _, m := range got.Records {
		var ev struct {
			Detail events.ResidencyViolationDetail `json:"detail"`
		}
		if err := json.Unmarshal([]byte(m.Body), &ev); err != nil || ev.Detail.Source != backfillBucket || ev.Detail.HomeRegion == us {
			t.Errorf("expect a violation of the bucket with an EU home, got %+v (%v)", ev.Detail, err)
		}
		if strings.Contains(m.Body, "users/") {
			t.Errorf("expect no object key in the clear on the bus, got %s", m.Body)
		}
	}

	// WHEN it is backfilled again
	second, _ := bw.pass(nil, "")
	calls = bw.calls.take()
	// THEN nothing is written, announced, or read but the listing
	if second.Items != 8 || second.Tagged != 0 || second.Unchanged != 8 || second.Violations != 0 {
		t.Fatalf("expect a second pass to find 8 objects unchanged, got %+v", second)
	}
	if calls["HeadObject"] != 0 || len(calls) != 1 {
		t.Errorf("expect the second pass to list only, got %v", calls)
	}
	if got := bw.receive(bw.violations); len(got.Records) != 0 {
		t.Fatalf("expect no new violation, got %d", len(got.Records))
	}
}

// failingBus fails its first publish: a page that fails after its
// objects' metadata is read and decided, before anything is catalogued.
type failingBus struct {
	tagger.Publisher
	failed bool
}

func (b *failingBus) Publish(ctx context.Context, region string, evs ...events.Out) error {
	if !b.failed {
		b.failed = true
		return errors.New("bus unavailable")
	}
	return b.Publisher.Publish(ctx, region, evs...)
}

// TestBackfillBucketResumedHandlesEachObjectOnce: a backfill stopped after
// its first page, resumed from that page's cursor (the checkpoint), whose
// next page fails once midway and is retried, catalogs each object once
// and announces each violation once: 8 objects, 3 violations, in all.
func TestBackfillBucketResumedHandlesEachObjectOnce(t *testing.T) {
	bw := setupBucket(t)
	all := append(append([]string{}, bw.eu...), bw.usKeys...)

	// GIVEN a first page done, its cursor kept
	firstPage, err := bw.page(tagger.BackfillPage{Region: us, Bucket: backfillBucket, Limit: 2})
	if err != nil || firstPage.NextCursor == "" || firstPage.Items != 2 {
		t.Fatalf("expect a first page of 2 with a cursor, got %+v (%v)", firstPage, err)
	}
	// WHEN the backfill resumes from it, and its next page fails once
	bw.h.Bus = &failingBus{Publisher: bw.h.Bus}
	if _, err := bw.page(tagger.BackfillPage{Region: us, Bucket: backfillBucket, Cursor: firstPage.NextCursor, Limit: 2}); err == nil ||
		!strings.Contains(err.Error(), "bus unavailable") {
		t.Fatalf("expect the page to fail on the bus, got %v", err)
	}
	rest, _ := bw.pass(nil, firstPage.NextCursor)

	// THEN each object is tagged once over the run, and every violation is
	// announced: the failed page's objects were not catalogued, so its
	// retry tagged them
	total := firstPage.BackfillResult
	total.Add(rest)
	if total.Items != 8 || total.Tagged != 8 || total.Unchanged != 0 || total.Violations != 3 {
		t.Fatalf("expect 8 objects tagged once and 3 violations over the resumed run, got %+v", total)
	}
	missing := 0
	for _, status := range bw.catalogued(all) {
		if status == "" {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("expect every object catalogued, %d of %d missing", missing, len(all))
	}
	if got := bw.receive(bw.violations); len(got.Records) != 3 {
		t.Fatalf("expect 3 violations on the bus, got %d", len(got.Records))
	}

	// WHEN a cursor of the listing is given with another bucket's page
	_, wrong := bw.page(tagger.BackfillPage{Region: us, Bucket: backfillBucket, Inventory: &tagger.Inventory{Bucket: "inv", Manifest: "m.json"},
		Cursor: firstPage.NextCursor, Limit: 2})
	var perm *tagger.PermanentError
	if !errors.As(wrong, &perm) || !strings.Contains(wrong.Error(), "cursor is not one") {
		t.Errorf("expect a permanent cursor error, got %v", wrong)
	}
}

// TestBackfillBucketFromAnInventory: an S3 Inventory report of the bucket,
// written by the test as S3 writes one (manifest.json, and CSV data files
// gzipped, keys URL-encoded, every version listed with IsLatest and
// IsDeleteMarker), is backfilled 2 rows a page across its two data files:
// the current versions only, a malformed row failing alone by file and
// row; a second pass writes nothing.
func TestBackfillBucketFromAnInventory(t *testing.T) {
	bw := setupBucket(t)
	const dest = "residency-backfill-test"
	if _, err := bw.s3c.CreateBucket(bw.ctx, &s3.CreateBucketInput{Bucket: aws.String(dest)}); err != nil {
		t.Fatal(err)
	}
	// GIVEN the report: each version of each key as S3 lists it
	versions, err := bw.s3c.ListObjectVersions(bw.ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(backfillBucket)})
	if err != nil || len(versions.Versions) != 9 {
		t.Fatalf("expect 9 versions, got %d (%v)", len(versions.Versions), err)
	}
	var rows []string
	for _, v := range versions.Versions {
		rows = append(rows, fmt.Sprintf(`"%s","%s","%s","%t","false","%d","%s"`, backfillBucket, url.QueryEscape(aws.ToString(v.Key)),
			aws.ToString(v.VersionId), aws.ToBool(v.IsLatest), aws.ToInt64(v.Size), aws.ToTime(v.LastModified).Format("2006-01-02T15:04:05.000Z")))
	}
	rows = append(rows, `"acme-exports","users%2Fu-7999%2Fgone.json","v9","true","true","0","2026-01-01T00:00:00.000Z"`) // a delete marker
	rows = append(rows, `"acme-exports","users%2Fu-7998"`)                                                               // malformed: 2 columns
	const prefix = "inventory/acme-exports/all-versions/"
	files := [][]string{rows[:5], rows[5:]}
	var manifestFiles []map[string]any
	for i, f := range files {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(strings.Join(f, "\n") + "\n"))
		zw.Close()
		key := fmt.Sprintf("%sdata/file-%d.csv.gz", prefix, i)
		if _, err := bw.s3c.PutObject(bw.ctx, &s3.PutObjectInput{Bucket: aws.String(dest), Key: aws.String(key), Body: bytes.NewReader(gz.Bytes())}); err != nil {
			t.Fatal(err)
		}
		manifestFiles = append(manifestFiles, map[string]any{"key": key, "size": gz.Len(), "MD5checksum": "0"})
	}
	manifest, _ := json.Marshal(map[string]any{"sourceBucket": backfillBucket, "destinationBucket": "arn:aws:s3:::" + dest, "version": "2016-11-30",
		"creationTimestamp": "1764720000000", "fileFormat": "CSV", "fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate",
		"files": manifestFiles})
	manifestKey := prefix + "2026-12-02T01-00Z/manifest.json"
	if _, err := bw.s3c.PutObject(bw.ctx, &s3.PutObjectInput{Bucket: aws.String(dest), Key: aws.String(manifestKey), Body: bytes.NewReader(manifest)}); err != nil {
		t.Fatal(err)
	}
	inv := &tagger.Inventory{Bucket: dest, Manifest: manifestKey}
	bw.calls.take()

	// WHEN the bucket is backfilled from the report
	first, pages := bw.pass(inv, "")
	calls := bw.calls.take()
	// THEN the 8 current objects are tagged, the 3 French ones violations,
	// the older version and the delete marker skipped, the malformed row
	// failed as file:row without its content; nothing is listed
	if first.Items != 9 || first.Tagged != 8 || first.Violations != 3 || len(first.Failed) != 1 {
		t.Fatalf("expect 9 rows read in %d pages: 8 tagged, 3 violations, 1 failed, got %+v", pages, first)
	}
	if f := first.Failed[0]; f.Record != prefix+"data/file-1.csv.gz:"+fmt.Sprint(len(files[1])) || strings.Contains(f.Reason, "u-7998") ||
		!strings.Contains(f.Reason, "not a row of the manifest's 7 columns") {
		t.Errorf("expect the last row of the second file failed by position, got %+v", f)
	}
	if calls["ListObjectsV2"] != 0 || calls["HeadObject"] != 8 {
		t.Errorf("expect no listing and one HeadObject per current object, got %v", calls)
	}
	if got := bw.receive(bw.violations); len(got.Records) != 3 {
		t.Fatalf("expect 3 violations on the bus, got %d", len(got.Records))
	}
	// WHEN it is backfilled again (from the report, then from the listing)
	again, _ := bw.pass(inv, "")
	listed, _ := bw.pass(nil, "")
	// THEN nothing is written
	if again.Tagged != 0 || again.Unchanged != 8 || listed.Tagged != 0 || listed.Unchanged != 8 || bw.calls.take()["HeadObject"] != 0 {
		t.Fatalf("expect the second passes to find 8 objects unchanged, got %+v and %+v", again, listed)
	}

	// WHEN the manifest names another bucket, or is not CSV
	for name, c := range map[string]struct{ body, want string }{
		"another bucket": {`{"sourceBucket":"other","fileFormat":"CSV","fileSchema":"Bucket, Key","files":[]}`, `lists bucket "other"`},
		"parquet":        {`{"sourceBucket":"acme-exports","fileFormat":"Parquet","fileSchema":"Bucket, Key","files":[]}`, "only CSV inventories"},
		"no key":         {`{"sourceBucket":"acme-exports","fileFormat":"CSV","fileSchema":"Bucket, Size","files":[]}`, "no Key column"},
		"not json":       {`<xml/>`, "not an S3 Inventory manifest.json"},
	} {
		t.Run(name, func(t *testing.T) {
			key := prefix + strings.ReplaceAll(name, " ", "-") + "/manifest.json"
			if _, err := bw.s3c.PutObject(bw.ctx, &s3.PutObjectInput{Bucket: aws.String(dest), Key: aws.String(key), Body: strings.NewReader(c.body)}); err != nil {
				t.Fatal(err)
			}
			// THEN the page fails as a PermanentError saying why
			_, err := bw.page(tagger.BackfillPage{Region: us, Bucket: backfillBucket, Inventory: &tagger.Inventory{Bucket: dest, Manifest: key}, Limit: 2})
			var perm *tagger.PermanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("expect a permanent error saying %q, got %v", c.want, err)
			}
		})
	}
}

// TestBackfillBucketListsEachWatchedPrefix: a bucket watched under two
// prefixes (and a third that one of them covers) is listed under each
// watched prefix in turn, never as a whole (the tagger may list the
// watched prefixes only); an object outside them is not read.
func TestBackfillBucketListsEachWatchedPrefix(t *testing.T) {
	bw := setupBucket(t)
	p := *bw.h.Policy
	src, _ := p.SourceByName(backfillBucket)
	archive, nested := *src, *src
	archive.Prefix, nested.Prefix = "archive/", "users/archive/"
	p.Sources = append(append([]policy.Source{}, p.Sources...), archive, nested)
	bw.h.Policy = &p
	for _, k := range []string{"archive/u-7200/export.json", "tmp/scratch.bin"} {
		if _, err := bw.s3c.PutObject(bw.ctx, &s3.PutObjectInput{Bucket: aws.String(backfillBucket), Key: aws.String(k), Body: strings.NewReader("{}"),
			Metadata: map[string]string{"subject-id": "u-7200", "subject-country": "US"}}); err != nil {
			t.Fatal(err)
		}
	}
	bw.calls.take()
	bw.calls.prefixes = nil

	// WHEN the bucket is backfilled from its listing
	res, pages := bw.pass(nil, "")

	// THEN archive/ then users/ are listed, 9 objects tagged, tmp/ unread
	if got := slices.Compact(bw.calls.prefixes); !slices.Equal(got, []string{"archive/", "users/"}) {
		t.Errorf("expect the listing under archive/ then users/, got %v", bw.calls.prefixes)
	}
	if res.Items != 9 || res.Tagged != 9 || res.Violations != 3 || len(res.Failed) != 0 {
		t.Fatalf("expect 9 objects tagged in %d pages, 3 violations, got %+v", pages, res)
	}
	if calls := bw.calls.take(); calls["HeadObject"] != 9 {
		t.Errorf("expect one HeadObject per watched object, got %v", calls)
	}
}
