package awse2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/events/eventstest"
	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/report"
	"github.com/residency-dev/residency/shared/storetest"
)

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// digestStack is the ledger and reports functions wired as their Lambda
// mains wire them (awsapp and awsdigests from the environment), on moto.
type digestStack struct {
	ddb         *dynamodb.Client
	ledgerTable string
	store       *dynamostore.Store
	fn          *ledgerfn.Handler
	reportsFn   *reports.Handler
	keyARN      string
	schedule    []byte
}

func newDigestStack(t *testing.T) *digestStack {
	t.Helper()
	ctx := mototest.Context(t)
	cfg := mototest.Config(t, eu)
	suffix := fmt.Sprint(time.Now().UnixNano())
	ledgerTable, bucket := "ledger-"+suffix, "digests-"+suffix
	ddb := dynamodb.NewFromConfig(cfg)
	if err := dynamostore.CreateTables(ctx, ddb, "catalog-"+suffix, ledgerTable); err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	mototest.LockedBucket(t, ctx, s3c, bucket, eu, nil)
	key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_REGION": eu, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": mototest.Endpoint(t),
		awsenv.LedgerTable: ledgerTable, awsenv.SigningKeyID: aws.ToString(key.KeyMetadata.Arn), awsenv.DigestBucket: bucket,
	} {
		t.Setenv(k, v)
	}
	app, err := awsapp.Load(ctx, "ledger", awsenv.LedgerTable, awsenv.SigningKeyID, awsenv.DigestBucket)
	if err != nil {
		t.Fatal(err)
	}
	store := app.Store()
	fn := &ledgerfn.Handler{Store: store, Log: quiet, Region: app.Region, Digests: awsdigests.Writer(app, store)}
	reportsFn := &reports.Handler{Ledger: store, Now: time.Now, Log: quiet, Digests: awsdigests.MustChecker(ctx, app, store)}

	schedule := eventstest.Sample(t, "scheduler-retention-sweep.json")
	return &digestStack{ddb: ddb, ledgerTable: ledgerTable, store: store, fn: fn, reportsFn: reportsFn,
		keyARN: aws.ToString(key.KeyMetadata.Arn), schedule: schedule}
}

// digest runs the scheduled digest.
func (s *digestStack) digest(t *testing.T) ledgerfn.DigestResult {
	t.Helper()
	return eventstest.Invoke[ledgerfn.DigestResult](t, s.fn.Invoke, s.schedule)
}

// verify is GET /v1/verify.
func (s *digestStack) verify(t *testing.T) report.LedgerStatus {
	t.Helper()
	req := lambdaevents.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/verify"}
	req.RequestContext.HTTP.Method = "GET"
	payload, _ := json.Marshal(req)
	out, err := lambda.NewHandler(s.reportsFn.Invoke).Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp lambdaevents.APIGatewayV2HTTPResponse
	var st report.LedgerStatus
	if json.Unmarshal(out, &resp) != nil || resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &st) != nil {
		t.Fatalf("GET /v1/verify: %s", out)
	}
	return st
}

func (s *digestStack) appendTransfers(t *testing.T, at time.Time, n int) {
	t.Helper()
	var drafts []ledger.Entry
	for i := range n {
		drafts = append(drafts, ledger.Entry{ID: fmt.Sprintf("tra_%d_%d", at.Unix(), i), Time: at.Add(time.Duration(i) * time.Minute),
			Kind: ledger.KindTransfer, Region: eu, ToCountry: "US", Mechanism: "scc", Decision: "allowed", Actor: "router"})
	}
	if _, err := s.store.Append(context.Background(), eu, drafts); err != nil {
		t.Fatal(err)
	}
}

// The hourly digest on AWS: the ledger function signs with a KMS key into
// an Object Lock bucket, the reports function checks the digests with the
// key's public key, and a truncated DynamoDB chain is caught.
func TestSignedDigestsOnAWS(t *testing.T) {
	s := newDigestStack(t)
	ctx := mototest.Context(t)
	s.appendTransfers(t, time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), 5)
	if d := s.digest(t); d.ToSeq != 5 || d.KeyID != s.keyARN {
		t.Fatalf("expect a digest to seq 5 by the KMS key, got %+v", d)
	}
	st := s.verify(t)
	if !st.Verified || !st.DigestsChecked || len(st.Chains) != 1 || st.Chains[0].Digests != 1 || st.Chains[0].SignedSeq != 5 {
		t.Fatalf("expect a verified chain signed to seq 5, got %+v", st)
	}

	// Drop the newest entry behind the ledger's back: the chain alone
	// still links, the digest does not let it pass.
	if _, err := s.ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.ledgerTable), Key: map[string]ddbtypes.AttributeValue{
		awsenv.LedgerPK: &ddbtypes.AttributeValueMemberS{Value: "CHAIN#" + eu}, awsenv.LedgerSK: &ddbtypes.AttributeValueMemberN{Value: "5"},
	}}); err != nil {
		t.Fatal(err)
	}
	st = s.verify(t)
	if st.Verified || st.Chains[0].FirstBadSeq != 5 || !strings.Contains(st.Chains[0].Problem, "truncated tail") {
		t.Fatalf("expect the truncated tail caught at seq 5, got %+v", st.Chains)
	}
	if _, err := lambda.NewHandler(s.fn.Invoke).Invoke(context.Background(), s.schedule); err == nil || !strings.Contains(err.Error(), "refusing to sign") {
		t.Fatalf("expect the next digest refused, got %v", err)
	}
}

// A past entry rewritten in DynamoDB, the chain re-hashed from it on and
// its tree recomputed (so the chain links and every stored hash agrees
// with it): the reports function, whose checker proves each digest's tree
// head consistent with the previous one's from the store's tree, fails
// verify and names the rewrite.
func TestRewrittenPastFailsVerifyOnAWS(t *testing.T) {
	s := newDigestStack(t)
	ctx := mototest.Context(t)
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	s.appendTransfers(t, at, 4)
	s.digest(t)
	s.appendTransfers(t, at.Add(time.Hour), 3)
	if d := s.digest(t); d.ToSeq != 7 {
		t.Fatalf("expect the second digest to seq 7, got %+v", d)
	}
	if st := s.verify(t); !st.Verified || st.Chains[0].Digests != 2 {
		t.Fatalf("expect two digests verified before the rewrite, got %+v", st.Chains)
	}

	var entries []ledger.Entry
	if err := s.store.ScanChain(ctx, eu, func(e *ledger.Entry) error { entries = append(entries, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	rewritten := storetest.RewritePast(entries, 2)
	for _, e := range rewritten {
		if _, err := s.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.ledgerTable),
			Key: map[string]ddbtypes.AttributeValue{
				awsenv.LedgerPK: &ddbtypes.AttributeValueMemberS{Value: "CHAIN#" + eu},
				awsenv.LedgerSK: &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(e.Seq)}},
			UpdateExpression:         aws.String("SET #d = :d, prev_hash = :p, #h = :h REMOVE #t"),
			ExpressionAttributeNames: map[string]string{"#d": "decision", "#h": "hash", "#t": "tree"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":d": &ddbtypes.AttributeValueMemberS{Value: e.Decision},
				":p": &ddbtypes.AttributeValueMemberS{Value: e.PrevHash}, ":h": &ddbtypes.AttributeValueMemberS{Value: e.Hash}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// The head names the new hash, and the tree is recomputed from seq 3.
	if _, err := s.ddb.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.ledgerTable),
		Key: map[string]ddbtypes.AttributeValue{
			awsenv.LedgerPK: &ddbtypes.AttributeValueMemberS{Value: "HEAD#" + eu},
			awsenv.LedgerSK: &ddbtypes.AttributeValueMemberN{Value: "0"}},
		UpdateExpression:          aws.String("SET #h = :h, tree_size = :z"),
		ExpressionAttributeNames:  map[string]string{"#h": "hash"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":h": &ddbtypes.AttributeValueMemberS{Value: rewritten[len(rewritten)-1].Hash}, ":z": &ddbtypes.AttributeValueMemberN{Value: "2"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.BackfillTree(ctx, eu); err != nil {
		t.Fatal(err)
	}
	st := s.verify(t)
	if st.Verified || !strings.Contains(st.Chains[0].Problem, "is not consistent with") || st.Chains[0].FirstBadSeq != 4 {
		t.Fatalf("expect the rewritten past caught by the consistency proof (at or before seq 4), got %+v", st.Chains)
	}
}
