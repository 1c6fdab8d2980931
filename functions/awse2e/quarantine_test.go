package awse2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
)

// quarantinePolicy is the example policy with EEA subjects' violations
// quarantined instead of relocated.
func quarantinePolicy(t *testing.T) *policy.Policy {
	t.Helper()
	b, err := os.ReadFile("../../shared/policy/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "on_violation: relocate", "on_violation: quarantine", 1)
	p, err := policy.Parse("quarantine.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := p.Residency("FR", us, "profile"); dec.Action != policy.ActionQuarantine {
		t.Fatalf("expect FR violations quarantined, got %q", dec.Action)
	}
	return p
}

// violation runs the tagger on the stream's new records and its echo, and
// returns the Residency Violation events the bus's rule delivered.
func (w *world) violationsOfNewRecords() []string {
	w.invoke(w.tagger.Invoke, w.streamBatch())
	w.invoke(w.tagger.Invoke, w.streamBatch()) // the echo of the tag writes
	var out []string
	for _, m := range w.receive(w.violations).Records {
		out = append(out, m.Body)
	}
	return out
}

func (w *world) item(region, table, pk string) map[string]ddbtypes.AttributeValue {
	got, err := w.ddb[region].GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}, "sk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE"}}})
	if err != nil {
		w.t.Fatal(err)
	}
	return got.Item
}

// createQuarantineTable creates a quarantine table in eu, keyed as the
// watched tables (pk, sk).
func (w *world) createQuarantineTable(name string) {
	w.t.Helper()
	_, err := w.ddb[eu].CreateTable(w.ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema: []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: ddbtypes.KeyTypeRange}}})
	if err != nil {
		w.t.Fatal(err)
	}
}

func TestMisplacedRecordIsQuarantined(t *testing.T) {
	w := setup(t)
	p := quarantinePolicy(t)
	w.tagger.Policy, w.router.Policy = p, p
	// As the router's Lambda main is configured: the stack's quarantine
	// table, keyed as the watched tables, in every home region.
	if router.DefaultQuarantineTable != awsenv.DefaultQuarantineTable {
		t.Fatalf("expect the router's default quarantine table to be the stack's (%s), got %s", awsenv.DefaultQuarantineTable, router.DefaultQuarantineTable)
	}
	w.router.QuarantineTable = awsenv.DefaultQuarantineTable
	w.createQuarantineTable(awsenv.DefaultQuarantineTable)
	route := func(body string) error {
		_, err := lambda.NewHandler(w.router.Invoke).Invoke(w.ctx, []byte(body))
		return err
	}

	// GIVEN a French subject's profile written in us-east-1
	w.put(map[string]string{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "FR", "created_at": "2026-11-20T09:14:03Z"})
	violations := w.violationsOfNewRecords()
	var v struct {
		Detail struct{ Action string } `json:"detail"`
	}
	if len(violations) != 1 || json.Unmarshal([]byte(violations[0]), &v) != nil || v.Detail.Action != "quarantine" {
		t.Fatalf("expect one violation to quarantine, got %v", violations)
	}

	// WHEN the router gets the violation
	if err := route(violations[0]); err != nil {
		t.Fatal(err)
	}
	w.flushLedger()

	// THEN the record is in the home region's quarantine table, marked, and
	// nowhere else
	q := w.item(eu, awsenv.DefaultQuarantineTable, "USER#u-1001")
	if q == nil {
		t.Fatal("expect the record in eu-central-1's quarantine table")
	}
	if src, _ := q["residency_source_table"].(*ddbtypes.AttributeValueMemberS); src == nil || src.Value != "users" {
		t.Errorf("expect the quarantined copy to name its source table, got %v", q["residency_source_table"])
	}
	tag, _ := q[record.TagAttribute].(*ddbtypes.AttributeValueMemberM)
	if tag == nil {
		t.Fatal("expect the quarantined copy tagged")
	}
	for k, want := range map[string]string{"status": record.StatusQuarantined, "origin_region": us, "home_region": eu} {
		if v, _ := tag.Value[k].(*ddbtypes.AttributeValueMemberS); v == nil || v.Value != want {
			t.Errorf("expect tag %s %s, got %v", k, want, tag.Value[k])
		}
	}
	if w.item(us, "users", "USER#u-1001") != nil || w.item(eu, "users", "USER#u-1001") != nil {
		t.Fatal("expect the record only in quarantine: gone from us-east-1, not in eu-central-1's users table")
	}
	// AND the ledger holds the violation and the quarantine, without the subject
	entries := w.chain()
	var got []string
	for _, e := range entries {
		got = append(got, string(e.Kind)+":"+e.Decision+":"+e.ToRegion)
	}
	if strings.Join(got, ",") != "violation:quarantine:eu-central-1,relocation:quarantined:eu-central-1" {
		t.Fatalf("expect the violation and the quarantine in the ledger, got %v", got)
	}
	if b, _ := json.Marshal(entries); strings.Contains(string(b), "u-1001") {
		t.Fatalf("expect no subject id in the ledger, got %s", b)
	}
	// AND the misplaced copy's deletion reaches the tagger, which drops its
	// catalog entry
	sub := w.tagger.Refs.Subject("u-1001")
	if es, err := w.store.EntriesBySubject(w.ctx, us, sub); err != nil || len(es) != 1 {
		t.Fatalf("expect the misplaced copy's catalog entry until its REMOVE, got %d (%v)", len(es), err)
	}
	w.invoke(w.tagger.Invoke, w.streamBatch())
	if es, err := w.store.EntriesBySubject(w.ctx, us, sub); err != nil || len(es) != 0 {
		t.Fatalf("expect the catalog entry dropped with the misplaced copy, got %d (%v)", len(es), err)
	}

	// WHEN the violation is delivered again
	if err := route(violations[0]); err != nil {
		t.Fatal(err)
	}
	w.flushLedger()

	// THEN nothing changes
	if n := len(w.chain()); n != 2 {
		t.Fatalf("expect the ledger unchanged at 2 entries, got %d", n)
	}
	if w.item(eu, awsenv.DefaultQuarantineTable, "USER#u-1001") == nil {
		t.Fatal("expect the quarantined copy kept")
	}
}

// A quarantine that stopped after its copy resumes on retry: the copy is
// verified, the misplaced record deleted. A different record under the same
// key in quarantine is never overwritten, and the misplaced copy stays.
func TestQuarantineResumesAndNeverOverwrites(t *testing.T) {
	w := setup(t)
	p := quarantinePolicy(t)
	w.tagger.Policy, w.router.Policy = p, p
	w.router.QuarantineTable = "quarantine-resume"
	w.createQuarantineTable("quarantine-resume")
	ctx := context.Background()
	w.put(map[string]string{"pk": "USER#u-1002", "sk": "PROFILE", "user_id": "u-1002", "country": "DE", "created_at": "2026-11-20T09:14:03Z"})
	w.put(map[string]string{"pk": "USER#u-1003", "sk": "PROFILE", "user_id": "u-1003", "country": "IT", "created_at": "2026-11-20T09:14:03Z"})
	violations := w.violationsOfNewRecords()
	if len(violations) != 2 {
		t.Fatalf("expect 2 violations, got %d", len(violations))
	}
	byRecord := map[string]string{}
	for _, v := range violations {
		for _, pk := range []string{"USER#u-1002", "USER#u-1003"} {
			if strings.Contains(v, w.tagger.Refs.Record("users", record.Key{"pk": pk, "sk": "PROFILE"})) {
				byRecord[pk] = v
			}
		}
	}

	// GIVEN u-1002 already copied to quarantine by an attempt that stopped there
	misplaced, err := w.store.GetItem(ctx, us, "users", record.Key{"pk": "USER#u-1002", "sk": "PROFILE"})
	if err != nil {
		t.Fatal(err)
	}
	misplaced["residency_source_table"] = "users"
	if err := w.store.PutItem(ctx, eu, "quarantine-resume", record.Key{"pk": "USER#u-1002", "sk": "PROFILE"}, misplaced, true); err != nil {
		t.Fatal(err)
	}
	// AND another record already under u-1003's key in quarantine
	other := record.Item{"pk": "USER#u-1003", "sk": "PROFILE", "user_id": "u-1003", "country": "IT", "note": "another version"}
	if err := w.store.PutItem(ctx, eu, "quarantine-resume", record.Key{"pk": "USER#u-1003", "sk": "PROFILE"}, other, true); err != nil {
		t.Fatal(err)
	}

	// WHEN the router gets the violations
	resumeErr := func() error {
		_, err := lambda.NewHandler(w.router.Invoke).Invoke(w.ctx, []byte(byRecord["USER#u-1002"]))
		return err
	}()
	conflictErr := func() error {
		_, err := lambda.NewHandler(w.router.Invoke).Invoke(w.ctx, []byte(byRecord["USER#u-1003"]))
		return err
	}()
	w.flushLedger()

	// THEN u-1002's quarantine completes: one copy, in quarantine
	if resumeErr != nil {
		t.Fatalf("expect the quarantine resumed, got %v", resumeErr)
	}
	if w.item(us, "users", "USER#u-1002") != nil || w.item(eu, "quarantine-resume", "USER#u-1002") == nil {
		t.Fatal("expect u-1002 only in quarantine")
	}
	// AND u-1003's fails with a conflict (the event is retried, then kept on
	// the rule's dead-letter queue), both versions kept
	if conflictErr == nil || !strings.Contains(conflictErr.Error(), router.ErrConflict.Error()) {
		t.Fatalf("expect a conflict, got %v", conflictErr)
	}
	if strings.Contains(conflictErr.Error(), "u-1003") {
		t.Fatalf("expect no subject in the error, got %v", conflictErr)
	}
	if w.item(us, "users", "USER#u-1003") == nil {
		t.Fatal("expect the misplaced u-1003 kept")
	}
	if q := w.item(eu, "quarantine-resume", "USER#u-1003"); q == nil || q["note"] == nil {
		t.Fatal("expect the other version in quarantine untouched")
	}
	// AND the ledger holds one quarantine, u-1002's
	var quarantined []ledger.Entry
	for _, e := range w.chain() {
		if e.Kind == ledger.KindRelocation {
			quarantined = append(quarantined, e)
		}
	}
	if len(quarantined) != 1 || quarantined[0].Decision != record.StatusQuarantined {
		t.Fatalf("expect one quarantine in the ledger, got %+v", quarantined)
	}
}
