package awse2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/residency-dev/residency/functions/tagger"
	"github.com/residency-dev/residency/shared/awsadapter/s3objects"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/record"
)

// ddbCounter counts a DynamoDB client's calls as an SDK middleware: the
// operations, the read units Scan reports (it asks for them with
// ReturnConsumedCapacity), and the writes to each table.
type ddbCounter struct {
	mu       sync.Mutex
	ops      map[string]int
	scanRCU  float64
	scanned  int
	writes   map[string]int // table -> items written
	gets     map[string]int // table -> keys asked for by BatchGetItem and GetItem
	reported bool           // a Scan reported its consumed capacity
}

func newCounter() *ddbCounter {
	return &ddbCounter{ops: map[string]int{}, writes: map[string]int{}, gets: map[string]int{}}
}

// take returns the counts so far and starts again from zero.
func (c *ddbCounter) take() *ddbCounter {
	c.mu.Lock()
	defer c.mu.Unlock()
	was := &ddbCounter{ops: c.ops, writes: c.writes, gets: c.gets, scanRCU: c.scanRCU, scanned: c.scanned, reported: c.reported}
	c.ops, c.writes, c.gets, c.scanRCU, c.scanned, c.reported = map[string]int{}, map[string]int{}, map[string]int{}, 0, 0, false
	return was
}

func (c *ddbCounter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountCalls", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		if s, ok := in.Parameters.(*dynamodb.ScanInput); ok {
			s.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
		}
		out, md, err := next.HandleInitialize(ctx, in)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ops[middleware.GetOperationName(ctx)]++
		switch p := in.Parameters.(type) {
		case *dynamodb.UpdateItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.PutItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.DeleteItemInput:
			c.writes[aws.ToString(p.TableName)]++
		case *dynamodb.GetItemInput:
			c.gets[aws.ToString(p.TableName)]++
		case *dynamodb.BatchGetItemInput:
			for table, ka := range p.RequestItems {
				c.gets[table] += len(ka.Keys)
			}
		case *dynamodb.BatchWriteItemInput:
			for table, reqs := range p.RequestItems {
				c.writes[table] += len(reqs)
			}
		}
		if so, ok := out.Result.(*dynamodb.ScanOutput); ok && err == nil {
			c.scanned += len(so.Items)
			if so.ConsumedCapacity != nil && so.ConsumedCapacity.CapacityUnits != nil {
				c.reported = true
				c.scanRCU += *so.ConsumedCapacity.CapacityUnits
			}
		}
		return out, md, err
	}), middleware.After)
}

// putBackfillUsers puts the users a backfill test finds in the table:
// USER#<prefix>-0 to -4, US subjects but the one at misplaced (an EEA
// subject in us-east-1), and USER#<prefix>-bad with no user_id. The puts'
// own stream records are read and dropped: not a backfill test's concern.
func (w *world) putBackfillUsers(prefix string, misplaced int) {
	for i := range 5 {
		country := "US"
		if i == misplaced {
			country = "FR"
		}
		w.put(map[string]string{"pk": fmt.Sprintf("USER#%s-%d", prefix, i), "sk": "PROFILE", "user_id": fmt.Sprintf("%s-%d", prefix, i), "country": country,
			"created_at": "2026-10-01T00:00:00Z"})
	}
	w.put(map[string]string{"pk": "USER#" + prefix + "-bad", "sk": "PROFILE", "country": "US"})
	w.streamBatch()
}

// TestBackfillPagesOnDynamoDB: the tagger, given backfill pages as the
// state machine sends them, scans the users table on moto in two segments,
// a page of 2 at a time following next_cursor, and tags every record that
// was there before it watched the table: the misplaced one is announced as
// a violation, a malformed one fails alone by reference, and a second pass
// writes nothing.
func TestBackfillPagesOnDynamoDB(t *testing.T) {
	w := setup(t)
	w.putBackfillUsers("b", 2)
	// The tagger's store, on clients that count their calls.
	count := newCounter()
	clients := map[string]dynamostore.API{}
	for _, r := range []string{us, eu} {
		clients[r] = dynamodb.NewFromConfig(mototest.Config(t, r), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, count.middleware) })
	}
	counted := dynamostore.New(us, clients)
	w.tagger.Tables, w.tagger.Catalog, w.tagger.Contracts, w.tagger.Scanner = counted, counted, counted, counted

	pass := func() (total tagger.BackfillPageResult) {
		t.Helper()
		for seg := range 2 {
			cursor := ""
			for page := 0; ; page++ {
				payload, _ := json.Marshal(map[string]any{"backfill": tagger.BackfillPage{Region: "us-east-1", Table: "users",
					Segment: seg, Segments: 2, Cursor: cursor, Limit: 2}})
				var res tagger.BackfillPageResult
				if err := json.Unmarshal(w.invoke(w.tagger.Invoke, payload), &res); err != nil {
					t.Fatal(err)
				}
				if res.Items > 2 || page > 10 {
					t.Fatalf("expect pages of at most 2 that end, got %+v", res)
				}
				// The cursor is sealed: no record key in it, even decoded.
				if raw, _ := base64.RawURLEncoding.DecodeString(res.NextCursor); strings.Contains(res.NextCursor+string(raw), "USER#") {
					t.Fatalf("expect a sealed cursor, got %q", res.NextCursor)
				}
				total.Items += res.Items
				total.Tagged += res.Tagged
				total.Unchanged += res.Unchanged
				total.Violations += res.Violations
				total.Failed = append(total.Failed, res.Failed...)
				if cursor = res.NextCursor; cursor == "" {
					break
				}
			}
		}
		return total
	}
	first := pass()
	firstCount := count.take()
	if first.Items != 6 || first.Tagged != 5 || first.Violations != 1 || len(first.Failed) != 1 ||
		!strings.HasPrefix(first.Failed[0].Record, "rec_") || !strings.Contains(first.Failed[0].Reason, `"user_id" missing`) {
		t.Fatalf("expect 6 records: 5 tagged, 1 violation, 1 failed by reference, got %+v", first)
	}
	out, err := w.ddb[us].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#b-2"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil || out.Item[record.TagAttribute] == nil {
		t.Fatalf("expect the misplaced record tagged in place, got %v (%v)", out.Item, err)
	}
	second := pass()
	secondCount := count.take()
	if second.Tagged != 0 || second.Unchanged != 5 || second.Violations != 0 {
		t.Fatalf("expect a second pass to write nothing, got %+v", second)
	}
	// Reads and writes per item. The first pass writes each tag once
	// (UpdateItem on users) and a catalog entry; the second, whose tags are
	// all current, writes nothing at all. Scan reads every item once.
	if firstCount.scanned != 6 || firstCount.writes["users"] != 5 {
		t.Errorf("expect 6 items scanned and 5 tags written by the first pass, got %d scanned, writes %v", firstCount.scanned, firstCount.writes)
	}
	if secondCount.scanned != 6 || len(secondCount.writes) != 0 || secondCount.ops["UpdateItem"]+secondCount.ops["PutItem"]+secondCount.ops["BatchWriteItem"] != 0 {
		t.Errorf("expect the second pass to scan 6 items and write none, got %d scanned, writes %v, calls %v", secondCount.scanned, secondCount.writes, secondCount.ops)
	}
	if secondCount.reported && secondCount.scanRCU > float64(secondCount.scanned) {
		t.Errorf("expect at most one read unit per item scanned, got %.1f for %d", secondCount.scanRCU, secondCount.scanned)
	}
	// Besides the scan, each page looks its subjects up on the erased list
	// (BatchGetItem of the catalog table, strongly consistent): one key an
	// item, which DynamoDB charges a read unit each, found or not; and it
	// checks that the catalog holds the records whose tags were current
	// (a key each, eventually consistent: half a read unit), so that a page
	// that failed between its tags and its catalog is mended on its retry.
	if secondCount.gets["residency-catalog"] != 2*(secondCount.scanned-1) { // the malformed record has no subject, and no tag
		t.Errorf("expect one erased-list key and one catalog key per item with a subject, got %v", secondCount.gets)
	}
	for name, c := range map[string]*ddbCounter{"first": firstCount, "second": secondCount} {
		t.Logf("%s pass: %d items scanned, %.1f scan read units (reported: %v), keys read by table %v, calls %v, items written by table %v",
			name, c.scanned, c.scanRCU, c.reported, c.gets, c.ops, c.writes)
	}
}

// TestBackfillPagesFromAnExportOnS3: the users table (PITR on) exported by
// moto with ExportTableToPointInTime to S3 (moto writes one DYNAMODB_JSON
// data file and no manifests: it is found with ListObjectsV2 under the
// export prefix) is backfilled through the tagger's export pages, 2 items a
// page, following the sealed line cursor: the misplaced record is a
// violation, a record without a subject fails by reference; then the same
// file with a bad line and a blank line added: the bad line fails alone as
// file:line with its reason and nothing of its content, the rest is
// unchanged (nothing written).
func TestBackfillPagesFromAnExportOnS3(t *testing.T) {
	w := setup(t)
	w.putBackfillUsers("e", 3)

	// GIVEN an export of the table, written by moto to the backfill bucket
	const bucket, prefix = "residency-backfill-test", "exports/users"
	s3c := s3.NewFromConfig(mototest.Config(t, us))
	if _, err := s3c.CreateBucket(w.ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ddb[us].UpdateContinuousBackups(w.ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("users"),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	dataFile := w.export(s3c, bucket, prefix+"/1")
	h := *w.tagger
	h.Exports = &s3objects.Reader{API: s3c}

	page := func(key, cursor string) (tagger.BackfillPageResult, error) {
		payload, _ := json.Marshal(map[string]any{"backfill": tagger.BackfillPage{Region: us, Table: "users",
			Export: &tagger.ExportFile{Bucket: bucket, Key: key}, Cursor: cursor, Limit: 2}})
		out, err := lambda.NewHandler(lambdaraw.Handler(h.Invoke)).Invoke(w.ctx, payload)
		var res tagger.BackfillPageResult
		if err == nil {
			err = json.Unmarshal(out, &res)
		}
		return res, err
	}
	pass := func(key string) (total tagger.BackfillResult, pages int) {
		t.Helper()
		cursor := ""
		for ; ; pages++ {
			res, err := page(key, cursor)
			if err != nil {
				t.Fatalf("page %d: %v", pages, err)
			}
			if res.Items > 2 || pages > 10 || res.Export == nil || res.Export.Key != key {
				t.Fatalf("expect pages of at most 2 of %s that end, got %+v", key, res)
			}
			if raw, _ := base64.RawURLEncoding.DecodeString(res.NextCursor); strings.Contains(res.NextCursor+string(raw), "export:") {
				t.Fatalf("expect a sealed cursor, got %q", res.NextCursor)
			}
			total.Add(res.BackfillResult)
			if cursor = res.NextCursor; cursor == "" {
				return total, pages + 1
			}
		}
	}

	// WHEN the tagger backfills the data file a page of 2 at a time
	first, pages := pass(dataFile)
	// THEN every item is read once, in 3 pages: 5 tagged, the French one a
	// violation, the one without a subject failed by reference
	if first.Items != 6 || pages != 3 || first.Tagged != 5 || first.Violations != 1 || len(first.Failed) != 1 ||
		!strings.HasPrefix(first.Failed[0].Record, "rec_") || !strings.Contains(first.Failed[0].Reason, `"user_id" missing`) {
		t.Fatalf("expect 6 items in 3 pages: 5 tagged, 1 violation, 1 failed by reference, got %d pages: %+v", pages, first)
	}
	out, err := w.ddb[us].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String("users"),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "USER#e-3"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil || out.Item[record.TagAttribute] == nil {
		t.Fatalf("expect the misplaced record tagged in place, got %v (%v)", out.Item, err)
	}
	if got := w.receive(w.violations); len(got.Records) != 1 {
		t.Fatalf("expect one violation on the bus, got %d", len(got.Records))
	}

	// GIVEN a second export, taken after the first backfill (its items
	// carry their tags), with a bad line (third) and a blank line added
	second := w.export(s3c, bucket, prefix+"/2")
	obj, err := s3c.GetObject(w.ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(second)})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	plainLines, err := io.ReadAll(zr)
	obj.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(plainLines), "\n")
	lines = slices.Insert(lines, 2, `{"Item":{"pk":{"S":"USER#e-9"},"sk":{"S":"PROFILE"},"email":{"Q":"e-9@example.com"}}}`+"\n", "\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.Join(lines, "")))
	zw.Close()
	edited := path.Dir(second) + "/edited.json.gz"
	if _, err := s3c.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(edited), Body: bytes.NewReader(gz.Bytes())}); err != nil {
		t.Fatal(err)
	}

	// WHEN it is backfilled
	again, pages := pass(edited)
	// THEN the bad line fails alone, by file and line, with its reason and
	// none of its content; the rest is unchanged, and nothing is written
	var bad []tagger.BackfillFailure
	for _, f := range again.Failed {
		if !strings.HasPrefix(f.Record, "rec_") {
			bad = append(bad, f)
		}
	}
	if again.Items != 7 || pages != 4 || again.Tagged != 0 || again.Unchanged != 5 || again.Violations != 0 || len(again.Failed) != 2 || len(bad) != 1 {
		t.Fatalf("expect 7 items in 4 pages: 5 unchanged, 2 failed, nothing tagged, got %d pages: %+v", pages, again)
	}
	if bad[0].Record != edited+":3" || !strings.Contains(bad[0].Reason, `attribute "email": not a DynamoDB JSON attribute value`) ||
		strings.Contains(bad[0].Reason, "e-9") {
		t.Fatalf("expect %s:3 failed for its attribute, without its content, got %+v", edited, bad[0])
	}
	if got := w.receive(w.violations); len(got.Records) != 0 {
		t.Fatalf("expect no new violation, got %d", len(got.Records))
	}

	// WHEN a cursor of one data file is given for another, or a data file
	// is missing
	res, err := page(dataFile, "")
	if err != nil || res.NextCursor == "" {
		t.Fatalf("expect a first page with a cursor, got %+v (%v)", res, err)
	}
	_, wrongFile := page(edited, res.NextCursor)
	_, missing := page(path.Dir(dataFile)+"/gone.json.gz", "")
	// THEN each fails as a PermanentError (the state machine does not retry
	// it), saying why
	var perm *tagger.PermanentError
	if !errors.As(wrongFile, &perm) || !strings.Contains(wrongFile.Error(), "cursor is not one this deployment's tagger returned for this data file") {
		t.Errorf("expect a permanent cursor error, got %v", wrongFile)
	}
	if !errors.As(missing, &perm) || !strings.Contains(missing.Error(), "gone.json.gz") || !errors.Is(missing, record.ErrNotFound) {
		t.Errorf("expect a permanent not-found error naming the data file, got %v", missing)
	}
}

// export exports us-east-1's users table (PITR on) to bucket under prefix
// with ExportTableToPointInTime, waits for moto to complete it, and returns
// the key of its data file: moto writes one and no manifests, so it is
// found with ListObjectsV2 under the export's prefix.
func (w *world) export(s3c *s3.Client, bucket, prefix string) string {
	t := w.t
	t.Helper()
	if _, err := w.ddb[us].UpdateContinuousBackups(w.ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String("users"),
		PointInTimeRecoverySpecification: &ddbtypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	table, err := w.ddb[us].DescribeTable(w.ctx, &dynamodb.DescribeTableInput{TableName: aws.String("users")})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := w.ddb[us].ExportTableToPointInTime(w.ctx, &dynamodb.ExportTableToPointInTimeInput{TableArn: table.Table.TableArn,
		S3Bucket: aws.String(bucket), S3Prefix: aws.String(prefix), ExportFormat: ddbtypes.ExportFormatDynamodbJson})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		d, err := w.ddb[us].DescribeExport(w.ctx, &dynamodb.DescribeExportInput{ExportArn: exp.ExportDescription.ExportArn})
		if err != nil {
			t.Fatal(err)
		}
		if st := d.ExportDescription.ExportStatus; st == ddbtypes.ExportStatusCompleted {
			break
		} else if st == ddbtypes.ExportStatusFailed || i == 100 {
			t.Fatalf("expect the export completed, got %s (%s)", st, aws.ToString(d.ExportDescription.FailureMessage))
		}
		time.Sleep(50 * time.Millisecond)
	}
	list, err := s3c.ListObjectsV2(w.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix + "/AWSDynamoDB/")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("expect moto's one data file under %s, got %d (%v)", prefix, len(list.Contents), err)
	}
	return aws.ToString(list.Contents[0].Key)
}
