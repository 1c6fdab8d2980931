package awse2e

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
)

// s3World is the world with the example policy's buckets: each region's
// bucket of the exports source (versioned, as the platform keeps them),
// the tagger reading us-east-1's objects and the router moving objects
// through each region's own client, as their Lambda mains build them.
type s3World struct {
	*world
	s3 map[string]*s3.Client
}

func setupS3(t *testing.T, buckets map[string]string) *s3World {
	w := &s3World{world: setup(t), s3: map[string]*s3.Client{}}
	objs := &s3objects.Objects{Regions: map[string]s3objects.S3API{}}
	for _, r := range []string{us, eu, "eu-west-1"} {
		c := s3.NewFromConfig(mototest.Config(t, r), func(o *s3.Options) { o.UsePathStyle = true })
		w.s3[r] = c
		objs.Regions[r] = c
	}
	objs.API = w.s3[us]
	for r, b := range buckets {
		w.bucket(r, b, true)
	}
	w.tagger.Objects = &s3objects.Objects{API: w.s3[us]}
	w.router.Objects = objs
	return w
}

func (w *s3World) bucket(region, name string, versioned bool) {
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if region != us {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := w.s3[region].CreateBucket(w.ctx, in); err != nil {
		w.t.Fatal(err)
	}
	if versioned {
		if _, err := w.s3[region].PutBucketVersioning(w.ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			w.t.Fatal(err)
		}
	}
}

// putExport writes a subject's export to us-east-1's bucket twice (two
// versions: the platform rewrote it), with metadata and tags.
func (w *s3World) putExport(key, subject, country, body string) {
	for _, b := range []string{`{"draft":true}`, body} {
		_, err := w.s3[us].PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String("acme-exports-us"), Key: aws.String(key), Body: strings.NewReader(b),
			Metadata: map[string]string{"subject-id": subject, "subject-country": country}, ContentType: aws.String("application/json"),
			Tagging: aws.String("team=growth&kind=export")})
		if err != nil {
			w.t.Fatal(err)
		}
	}
}

// violation runs the tagger on the S3 notification of key and returns the
// violation the bus delivered.
func (w *s3World) violation(key string) string {
	if _, err := lambda.NewHandler(lambdaraw.Handler(w.tagger.Invoke)).Invoke(w.ctx, s3Event("acme-exports-us", key)); err != nil {
		w.t.Fatalf("expect the object tagged, got %v", err)
	}
	got := w.receive(w.violations)
	if len(got.Records) != 1 {
		w.t.Fatalf("expect one violation, got %d", len(got.Records))
	}
	return got.Records[0].Body
}

func (w *s3World) route(body string) error {
	_, err := lambda.NewHandler(w.router.Invoke).Invoke(w.ctx, []byte(body))
	return err
}

// versions lists what is left of key in a bucket: versions and markers.
func (w *s3World) versions(region, bucket, key string) int {
	out, err := w.s3[region].ListObjectVersions(w.ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(out.Versions) + len(out.DeleteMarkers)
}

// object reads an object back with its tags and stored checksum.
func (w *s3World) object(region, bucket, key string) (body string, meta, tags map[string]string, sum string) {
	out, err := w.s3[region].GetObject(w.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		w.t.Fatalf("expect s3://%s/%s in %s, got %v", bucket, key, region, err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	tg, err := w.s3[region].GetObjectTagging(w.ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		w.t.Fatal(err)
	}
	tags = map[string]string{}
	for _, t := range tg.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return string(b), out.Metadata, tags, aws.ToString(out.ChecksumSHA256)
}

func (w *s3World) kinds() []string {
	var out []string
	for _, e := range w.chain() {
		out = append(out, string(e.Kind)+":"+e.Decision+":"+e.ToRegion)
	}
	return out
}

// noPersonalData fails if a subject id or an object key is in the ledger.
func (w *s3World) noPersonalData(subject, key string) {
	b, _ := json.Marshal(w.chain())
	for _, s := range []string{subject, key, strings.TrimSuffix(key, ".json")} {
		if strings.Contains(string(b), s) {
			w.t.Fatalf("expect no %q in the ledger, got %s", s, b)
		}
	}
}

// A French subject's export written to the US bucket moves to the source's
// bucket in eu-central-1, with its metadata, tags and checksum, and every
// version of it leaves us-east-1; a redelivery changes nothing.
func TestMisplacedObjectIsRelocatedAcrossRegions(t *testing.T) {
	w := setupS3(t, map[string]string{us: "acme-exports-us", eu: "acme-exports-eu"})
	key, body := "users/u-3001/export 2026-11.json", `{"rows":[{"user":"u-3001","plan":"pro"}]}`
	w.putExport(key, "u-3001", "FR", body)
	v := w.violation(key)

	// WHEN the router gets the violation
	if err := w.route(v); err != nil {
		t.Fatalf("expect the object relocated, got %v", err)
	}
	w.flushLedger()

	// THEN the object is at home with its bytes, metadata, tags and SHA-256
	got, meta, tags, sum := w.object(eu, "acme-exports-eu", key)
	if got != body || sum != record.Checksum([]byte(body)) {
		t.Fatalf("expect the newest version's bytes and their SHA-256 %s at home, got %q %q", record.Checksum([]byte(body)), got, sum)
	}
	wantMeta := map[string]string{"subject-id": "u-3001", "subject-country": "FR", "residency-origin-region": us,
		"residency-source-bucket": "acme-exports-us", "residency-status": record.StatusRelocated, "residency-created-at": meta["residency-created-at"]}
	if _, err := time.Parse(time.RFC3339, meta["residency-created-at"]); err != nil {
		t.Errorf("expect the misplaced object's write time kept, got %q", meta["residency-created-at"])
	}
	if d := cmp.Diff(wantMeta, meta); d != "" {
		t.Errorf("metadata at home (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"team": "growth", "kind": "export"}, tags); d != "" {
		t.Errorf("tags at home (-want +got):\n%s", d)
	}
	// AND no version or delete marker of it is left in us-east-1
	if n := w.versions(us, "acme-exports-us", key); n != 0 {
		t.Fatalf("expect every version gone from us-east-1, got %d left", n)
	}
	// AND the ledger holds the violation and the relocation, by reference
	if d := cmp.Diff([]string{"violation:relocate:" + eu, "relocation:relocated:" + eu}, w.kinds()); d != "" {
		t.Fatalf("ledger (-want +got):\n%s", d)
	}
	entries := w.chain()
	if r := entries[1]; r.Source != "acme-exports-us" || r.Record != entries[0].Record || r.Region != us ||
		!strings.Contains(r.Reference, "to s3://acme-exports-eu, SHA-256 verified; 2 misplaced object versions deleted") {
		t.Errorf("expect the relocation of the violation's record, to acme-exports-eu, 2 versions deleted, got %+v", r)
	}
	w.noPersonalData("u-3001", key)
	h, err := report.Summarize(w.ctx, w.store, report.Query{}, report.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if vs := h.Summary.Violations; vs.Remediated != 1 || vs.Open != 0 {
		t.Fatalf("expect the violation remediated in the report, got %+v", vs)
	}

	// WHEN the violation is delivered again
	if err := w.route(v); err != nil {
		t.Fatalf("expect a redelivery to succeed, got %v", err)
	}
	w.flushLedger()
	// THEN nothing changes
	if n := len(w.chain()); n != 2 {
		t.Fatalf("expect the ledger unchanged at 2 entries, got %d", n)
	}
	if n := w.versions(eu, "acme-exports-eu", key); n != 1 {
		t.Fatalf("expect one copy at home, got %d versions", n)
	}
}

// A relocation whose write at home fails (here the home bucket does not
// exist) keeps the misplaced object, and the report shows the violation
// open with the reason, without the object's key.
func TestFailedObjectRelocationStaysOpenWithItsReason(t *testing.T) {
	w := setupS3(t, map[string]string{us: "acme-exports-us"}) // no acme-exports-eu
	key := "users/u-3002/export.json"
	w.putExport(key, "u-3002", "DE", `{"rows":[]}`)
	v := w.violation(key)

	err := w.route(v)
	w.flushLedger()
	if err == nil || !strings.Contains(err.Error(), "copy to s3://acme-exports-eu") {
		t.Fatalf("expect the copy's failure (for a retry), got %v", err)
	}
	if strings.Contains(err.Error(), "u-3002") {
		t.Fatalf("expect no key or subject in the error, got %v", err)
	}
	if n := w.versions(us, "acme-exports-us", key); n != 2 {
		t.Fatalf("expect the misplaced object kept with its 2 versions, got %d", n)
	}
	h, err := report.Summarize(w.ctx, w.store, report.Query{}, report.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	vs := h.Summary.Violations
	if vs.Open != 1 || len(vs.List) != 1 {
		t.Fatalf("expect one open violation, got %+v", vs)
	}
	if r := vs.List[0].Reason; !strings.Contains(r, "relocated to s3://acme-exports-eu in eu-central-1 failed; the misplaced object is kept") ||
		!strings.Contains(r, "NoSuchBucket") {
		t.Fatalf("expect the reason of the failure in the report, got %q", r)
	}
	w.noPersonalData("u-3002", key)

	// A retry that fails the same way adds no second failure entry.
	w.route(v)
	w.flushLedger()
	if d := cmp.Diff([]string{"violation:relocate:" + eu, "relocation:" + ledger.DecisionFailed + ":" + eu}, w.kinds()); d != "" {
		t.Fatalf("ledger (-want +got):\n%s", d)
	}

	// WHEN the home bucket exists and the event is retried
	w.bucket(eu, "acme-exports-eu", true)
	if err := w.route(v); err != nil {
		t.Fatalf("expect the retry to relocate, got %v", err)
	}
	w.flushLedger()
	h, _ = report.Summarize(w.ctx, w.store, report.Query{}, report.Options{Now: time.Now()})
	if vs := h.Summary.Violations; vs.Open != 0 || vs.Remediated != 1 {
		t.Fatalf("expect the violation remediated by the retry, got %+v", vs)
	}
}

// Under a quarantine rule the object goes to the home region's quarantine
// bucket, under its bucket's name, and leaves the US bucket.
func TestMisplacedObjectIsQuarantined(t *testing.T) {
	w := setupS3(t, map[string]string{us: "acme-exports-us", eu: "acme-exports-eu"})
	p := quarantinePolicy(t)
	w.tagger.Policy, w.router.Policy = p, p
	w.bucket(eu, "residency-quarantine-"+eu, true) // the router's default prefix, as the stack names it without the account
	key, body := "users/u-3003/export.json", `{"rows":[1]}`
	w.putExport(key, "u-3003", "IT", body)
	v := w.violation(key)

	for i := range 2 { // and its redelivery
		if err := w.route(v); err != nil {
			t.Fatalf("delivery %d: expect the object quarantined, got %v", i+1, err)
		}
		w.flushLedger()
	}
	got, meta, _, sum := w.object(eu, "residency-quarantine-"+eu, "acme-exports-us/"+key)
	if got != body || sum != record.Checksum([]byte(body)) || meta["residency-status"] != record.StatusQuarantined {
		t.Fatalf("expect the object in quarantine, marked, got %q %q %v", got, sum, meta)
	}
	if n := w.versions(us, "acme-exports-us", key); n != 0 {
		t.Fatalf("expect every version gone from us-east-1, got %d", n)
	}
	if n := w.versions(eu, "acme-exports-eu", key); n != 0 {
		t.Fatalf("expect nothing in the source's home bucket, got %d", n)
	}
	if d := cmp.Diff([]string{"violation:quarantine:" + eu, "relocation:quarantined:" + eu}, w.kinds()); d != "" {
		t.Fatalf("ledger (-want +got):\n%s", d)
	}
	w.noPersonalData("u-3003", key)
}
