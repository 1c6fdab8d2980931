package ledger_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	fn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func newHandler(t *testing.T) (*fn.Handler, *sqlitestore.Store) {
	st := sqlitetest.Open(t)
	return &fn.Handler{Store: st, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}, st
}

func invoke(t *testing.T, h *fn.Handler, payload []byte) events.SQSEventResponse {
	t.Helper()
	return eventstest.Invoke[events.SQSEventResponse](t, h.Invoke, payload)
}

func msg(id, group string, e ledger.Entry) events.SQSMessage {
	b, _ := json.Marshal(e)
	return events.SQSMessage{MessageId: id, Body: string(b), EventSource: "aws:sqs", Attributes: map[string]string{"MessageGroupId": group}}
}

func count(t *testing.T, st *sqlitestore.Store, region string) int {
	n := 0
	st.ScanChain(context.Background(), region, func(*ledger.Entry) error { n++; return nil })
	return n
}

func TestGoldenSample(t *testing.T) {
	h, st := newHandler(t)
	payload := eventstest.Sample(t, "sqs-ledger-entry.json")
	for range 2 { // a redelivery appends nothing
		if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("expect no failures, got %+v", resp)
		}
	}
	if n := count(t, st, "eu-central-1"); n != 1 {
		t.Fatalf("expect 1 entry, got %d", n)
	}
}

// poisonBatch is an SQS batch with three messages that are not valid
// drafts (m2, m5, m6) among good ones.
func poisonBatch() []byte {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	entry := func(id, region string) ledger.Entry {
		return ledger.Entry{ID: id, Time: at, Kind: ledger.KindTransfer, Region: region, Actor: "router"}
	}
	bad := entry("b", "eu-central-1")
	bad.Kind = "export"
	forged := entry("f", "us-east-1")
	forged.Seq, forged.Hash = 9, "00"
	ev := events.SQSEvent{Records: []events.SQSMessage{
		msg("m1", "eu-central-1", entry("a", "eu-central-1")),
		msg("m2", "eu-central-1", bad),                        // poison
		msg("m3", "eu-central-1", entry("c", "eu-central-1")), // after the poison in its FIFO group: must wait
		msg("m4", "us-east-1", entry("d", "us-east-1")),       // another chain: unaffected
		msg("m5", "eu-west-1", forged),                        // a draft must not carry seq/hash
		{MessageId: "m6", Body: "not json", Attributes: map[string]string{"MessageGroupId": "eu-west-1"}},
	}}
	payload, _ := json.Marshal(ev)
	return payload
}

func TestPoisonMessageFailsAloneAndKeepsGroupOrder(t *testing.T) {
	h, st := newHandler(t)
	resp := invoke(t, h, poisonBatch())
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for id, want := range map[string]bool{"m1": false, "m2": true, "m3": true, "m4": false, "m5": true, "m6": true} {
		if failed[id] != want {
			t.Errorf("expect %s failed=%v, got %v (all: %v)", id, want, failed[id], failed)
		}
	}
	if n := count(t, st, "eu-central-1"); n != 1 {
		t.Fatalf("expect 1 eu-central-1 entry, got %d", n)
	}
	if n := count(t, st, "us-east-1"); n != 1 {
		t.Fatalf("expect 1 us-east-1 entry, got %d", n)
	}
}

func TestScheduledDigest(t *testing.T) {
	h, st := newHandler(t)
	h.Region = "eu-central-1"
	dir := digest.Dir{Path: filepath.Join(t.TempDir(), "digests")}
	signer, err := digest.LoadSigningKey(filepath.Join(t.TempDir(), "k.pem"))
	if err != nil {
		t.Fatal(err)
	}
	schedule := eventstest.Sample(t, "scheduler-retention-sweep.json")
	if _, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), schedule); err == nil {
		t.Fatal("a scheduled digest without a signer succeeded")
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	h.Digests = &digest.Writer{Signer: signer, Store: dir, Chain: st, Now: func() time.Time { return now }}
	draft := ledger.Entry{ID: "tra_1", Time: now, Kind: ledger.KindTransfer, Region: "eu-central-1", Actor: "router"}
	stored, err := st.Append(context.Background(), "eu-central-1", []ledger.Entry{draft})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []fn.DigestResult{
		{Region: "eu-central-1", FromSeq: 1, ToSeq: 1, HeadHash: stored[0].Hash, KeyID: signer.KeyID()},
		{Region: "eu-central-1", FromSeq: 2, ToSeq: 1, HeadHash: stored[0].Hash, KeyID: signer.KeyID()}, // hourly, nothing new
	} {
		now = now.Add(time.Hour)
		got := eventstest.Invoke[fn.DigestResult](t, h.Invoke, schedule)
		if got.Signature == "" {
			t.Fatalf("digest %d unsigned: %+v", i, got)
		}
		got.Signature = ""
		if got != want {
			t.Fatalf("digest %d: got %+v, want %+v", i, got, want)
		}
	}
	ds, err := dir.List(context.Background(), "eu-central-1")
	if err != nil || len(ds) != 2 || ds[1].PrevSignature != ds[0].Signature {
		t.Fatalf("stored digests %+v, %v", ds, err)
	}
}

// An append's figures are metrics: the entries appended and each one's lag
// from its message's SentTimestamp.
func TestAppendMetrics(t *testing.T) {
	h, _ := newHandler(t)
	var emf bytes.Buffer
	h.Metrics = &metrics.Emitter{W: &emf, Function: "ledger", Region: "eu-central-1"}
	sent := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	h.Now = func() time.Time { return sent.Add(1500 * time.Millisecond) }
	at := sent.Add(-time.Minute)
	var recs []events.SQSMessage
	for i, lag := range []time.Duration{0, 250 * time.Millisecond, time.Second} {
		m := msg(fmt.Sprintf("m%d", i), "eu-central-1", ledger.Entry{ID: fmt.Sprintf("e%d", i), Time: at, Kind: ledger.KindTransfer, Region: "eu-central-1", Actor: "router"})
		m.Attributes["SentTimestamp"] = strconv.FormatInt(sent.Add(lag).UnixMilli(), 10)
		recs = append(recs, m)
	}
	payload, _ := json.Marshal(events.SQSEvent{Records: recs})
	if resp := invoke(t, h, payload); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("expect no failures, got %+v", resp)
	}
	var line struct {
		Appended float64   `json:"EntriesAppended"`
		Lag      []float64 `json:"AppendLag"`
		Region   string    `json:"region"`
	}
	if err := json.Unmarshal(emf.Bytes(), &line); err != nil {
		t.Fatalf("expect one EMF line, got %v: %s", err, emf.Bytes())
	}
	if line.Appended != 3 || !slices.Equal(line.Lag, []float64{1500, 1250, 500}) || line.Region != "eu-central-1" {
		t.Fatalf("expect 3 appended with lags 1500, 1250, 500 ms, got %s", emf.Bytes())
	}
}
