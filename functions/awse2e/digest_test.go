package awse2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
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
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsapp/awsdigests"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/report"
)

var quiet = slog.New(slog.NewJSONHandler(io.Discard, nil))

// The hourly digest on AWS, wired as the Lambda mains wire it (awsapp and
// awsdigests from the environment): the ledger function signs with a KMS
// key into an Object Lock bucket, the reports function checks the digests
// with the key's public key, and a truncated DynamoDB chain is caught.
func TestSignedDigestsOnAWS(t *testing.T) {
	ctx := mototest.Context(t)
	cfg := mototest.Config(t, eu)
	suffix := fmt.Sprint(time.Now().UnixNano())
	ledgerTable, bucket := "ledger-"+suffix, "digests-"+suffix
	ddb := dynamodb.NewFromConfig(cfg)
	if err := dynamostore.CreateTables(ctx, ddb, "catalog-"+suffix, ledgerTable); err != nil {
		t.Fatal(err)
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(eu)}}); err != nil {
		t.Fatal(err)
	}
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
	reportsFn := &reports.Handler{Ledger: store, Now: time.Now, Log: quiet, Digests: awsdigests.MustChecker(ctx, app)}

	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var drafts []ledger.Entry
	for i := range 5 {
		drafts = append(drafts, ledger.Entry{ID: fmt.Sprintf("tra_%d", i), Time: at.Add(time.Duration(i) * time.Minute),
			Kind: ledger.KindTransfer, Region: eu, ToCountry: "US", Mechanism: "scc", Decision: "allowed", Actor: "router"})
	}
	if _, err := store.Append(ctx, eu, drafts); err != nil {
		t.Fatal(err)
	}
	schedule, err := os.ReadFile("../../events/samples/scheduler-retention-sweep.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := lambda.NewHandler(fn.Invoke).Invoke(context.Background(), schedule)
	if err != nil {
		t.Fatalf("scheduled digest: %v", err)
	}
	var d ledgerfn.DigestResult
	if err := json.Unmarshal(out, &d); err != nil || d.ToSeq != 5 || d.KeyID != aws.ToString(key.KeyMetadata.Arn) {
		t.Fatalf("digest %s, %v", out, err)
	}

	verify := func() report.LedgerStatus {
		t.Helper()
		req := lambdaevents.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: "/v1/verify"}
		req.RequestContext.HTTP.Method = "GET"
		payload, _ := json.Marshal(req)
		out, err := lambda.NewHandler(reportsFn.Invoke).Invoke(context.Background(), payload)
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
	st := verify()
	if !st.Verified || !st.DigestsChecked || len(st.Chains) != 1 || st.Chains[0].Digests != 1 || st.Chains[0].SignedSeq != 5 {
		t.Fatalf("expect a verified chain signed to seq 5, got %+v", st)
	}

	// Drop the newest entry behind the ledger's back: the chain alone
	// still links, the digest does not let it pass.
	if _, err := ddb.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(ledgerTable), Key: map[string]ddbtypes.AttributeValue{
		awsenv.LedgerPK: &ddbtypes.AttributeValueMemberS{Value: "CHAIN#" + eu}, awsenv.LedgerSK: &ddbtypes.AttributeValueMemberN{Value: "5"},
	}}); err != nil {
		t.Fatal(err)
	}
	st = verify()
	if st.Verified || st.Chains[0].FirstBadSeq != 5 || !strings.Contains(st.Chains[0].Problem, "truncated tail") {
		t.Fatalf("expect the truncated tail caught at seq 5, got %+v", st.Chains)
	}
	if _, err := lambda.NewHandler(fn.Invoke).Invoke(context.Background(), schedule); err == nil || !strings.Contains(err.Error(), "refusing to sign") {
		t.Fatalf("expect the next digest refused, got %v", err)
	}
}
