package local_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// A relocated record is catalogued in its home region: its copy arrives
// there as an INSERT that already carries its tag (no tag write, no echo),
// and the misplaced copy's entry goes with its REMOVE. Retention and erasure
// find it where it lives.
func TestRelocatedRecordIsCataloguedAtHome(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.at = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := e.stack.Replay(ctx, eventstest.Sample(t, "dynamodb-insert-misplaced.json")); err != nil {
		t.Fatal(err)
	}
	key := record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}
	home, err := e.store.GetEntry(ctx, "eu-central-1", "users", key)
	if err != nil {
		t.Fatalf("expect the relocated record's catalog entry in eu-central-1, got %v", err)
	}
	if home.Status != record.StatusRelocated || home.OriginRegion != "us-east-1" || home.RetainUntil.IsZero() ||
		home.SubjectRef != e.stack.Refs.Subject("u-1001") {
		t.Fatalf("expect a relocated entry from us-east-1 with its retain-until and subject, got %+v", home)
	}
	if _, err := e.store.GetEntry(ctx, "us-east-1", "users", key); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect no entry left in us-east-1, got %v", err)
	}
	if got := e.stack.Stats.Published["Record Tagged"]; got != 1 {
		t.Fatalf("expect one Record Tagged (the misplaced write's), got %d", got)
	}
}

// A record whose attribute values are malformed fails alone: the rest of the
// batch is applied and tagged.
func TestMalformedAttributeFailsAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.at = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	batch := []byte(`{"Records":[
		{"eventID":"1","eventName":"INSERT","eventSource":"aws:dynamodb","awsRegion":"eu-central-1","eventSourceARN":"arn:aws:dynamodb:eu-central-1:1:table/users/stream/x",
		 "dynamodb":{"ApproximateCreationDateTime":1795166043,"Keys":{"pk":{"S":"USER#u-7001"},"sk":{"S":"PROFILE"}},
		 "NewImage":{"pk":{"S":"USER#u-7001"},"sk":{"S":"PROFILE"},"user_id":{"S":"u-7001"},"country":{"S":"DE"},"score":{"N":"not a number"}},"SequenceNumber":"101"}},
		{"eventID":"2","eventName":"INSERT","eventSource":"aws:dynamodb","awsRegion":"eu-central-1","eventSourceARN":"arn:aws:dynamodb:eu-central-1:1:table/users/stream/x",
		 "dynamodb":{"ApproximateCreationDateTime":1795166043,"Keys":{"pk":{"S":"USER#u-7002"},"sk":{"S":"PROFILE"}},
		 "NewImage":{"pk":{"S":"USER#u-7002"},"sk":{"S":"PROFILE"},"user_id":{"S":"u-7002"},"country":{"S":"DE"},"created_at":{"S":"2026-11-20T09:00:00Z"}},"SequenceNumber":"102"}}]}`)
	d, err := e.stack.Replay(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if d.Records != 2 || d.Failed != 1 {
		t.Fatalf("expect 1 of 2 records failed, got %+v", d)
	}
	dead, err := e.store.DeadLetters(ctx)
	if err != nil || len(dead) != 1 || dead[0].Item != "stream record 101" {
		t.Fatalf("expect record 101 kept as a dead letter, got %+v (%v)", dead, err)
	}
	it, err := e.store.GetItem(ctx, "eu-central-1", "users", record.Key{"pk": "USER#u-7002", "sk": "PROFILE"})
	if err != nil {
		t.Fatalf("expect the good record applied, got %v", err)
	}
	if tag, ok := record.TagOf(it); !ok || tag.Status != record.StatusCompliant {
		t.Fatalf("expect the good record tagged, got %+v", tag)
	}
	if _, err := e.store.GetItem(ctx, "eu-central-1", "users", record.Key{"pk": "USER#u-7001", "sk": "PROFILE"}); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect the malformed record not applied, got %v", err)
	}
}

// A quarantine writes to Residency's own table; its stream records never
// reach the tagger (on AWS that table has no mapping), so the replay leaves
// no dead letter.
func TestQuarantineLeavesNoDeadLetter(t *testing.T) {
	ctx := context.Background()
	p, err := policy.Parse("quarantine.yaml", bytes.Replace(policy.Example,
		[]byte("allowed: [eu-central-1, eu-west-1]\n    on_violation: relocate"), []byte("allowed: [eu-central-1, eu-west-1]\n    on_violation: quarantine"), 1))
	if err != nil {
		t.Fatal(err)
	}
	st := sqlitetest.Open(t)
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	s, err := local.New(local.Config{Store: st, Policy: p, Key: key, Now: func() time.Time { return at },
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(ctx, eventstest.Sample(t, "dynamodb-insert-misplaced.json")); err != nil {
		t.Fatal(err)
	}
	var decisions []string
	st.ScanLedger(ctx, ledger.Query{}, func(e *ledger.Entry) error {
		decisions = append(decisions, string(e.Kind)+"/"+e.Decision)
		return nil
	})
	if strings.Join(decisions, ",") != "violation/quarantine,relocation/quarantined" {
		t.Fatalf("expect the record quarantined, got %v", decisions)
	}
	dead, err := st.DeadLetters(ctx)
	if err != nil || len(dead) != 0 {
		t.Fatalf("expect no dead letter, got %+v (%v)", dead, err)
	}
}
