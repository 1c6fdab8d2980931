package router_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/router"
	"github.com/residency-dev/residency/shared/fakes"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func setup(t testing.TB, region string) (*router.Handler, *sqlitestore.Store, *fakes.Sink) {
	st := sqlitetest.Open(t)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	sk := &fakes.Sink{}
	h := &router.Handler{Region: region, Policy: policy.MustExample(), Refs: refs, Tables: st, Bus: sk, Ledger: sk,
		Now: func() time.Time { return time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC) }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	return h, st, sk
}

var (
	key  = record.Key{"pk": "USER#u-1001", "sk": "PROFILE"}
	item = record.Item{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "FR", "created_at": "2026-11-20T09:14:03Z"}
)

func TestRelocation(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		home        record.Item // already in eu-central-1 before the violation is handled
		wantErr     error
		wantUS      bool
		wantEntries int
	}{
		"copy verify delete":              {nil, nil, false, 1},
		"resume after a half-done copy":   {item, nil, false, 1},
		"conflicting record at home kept": {record.Item{"pk": "USER#u-1001", "sk": "PROFILE", "user_id": "u-1001", "country": "DE"}, router.ErrConflict, true, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, st, sk := setup(t, "us-east-1")
			st.PutItem(ctx, "us-east-1", "users", key, item, false)
			if c.home != nil {
				st.PutItem(ctx, "eu-central-1", "users", key, c.home, false)
			}
			_, err := lambda.NewHandler(h.Invoke).Invoke(ctx, eventstest.Sample(t, "eventbridge-residency-violation.json"))
			if !errors.Is(err, c.wantErr) && (err == nil || c.wantErr == nil || !bytes.Contains([]byte(err.Error()), []byte("conflicting"))) {
				t.Fatalf("expect error %v, got %v", c.wantErr, err)
			}
			_, uerr := st.GetItem(ctx, "us-east-1", "users", key)
			if (uerr == nil) != c.wantUS {
				t.Fatalf("expect misplaced copy present=%v, got err %v", c.wantUS, uerr)
			}
			if _, err := st.GetItem(ctx, "eu-central-1", "users", key); err != nil {
				t.Fatalf("expect a copy at home, got %v", err)
			}
			if len(sk.Entries) != c.wantEntries {
				t.Fatalf("expect %d ledger entries, got %d", c.wantEntries, len(sk.Entries))
			}
		})
	}
}

func TestTransferDecided(t *testing.T) {
	cases := map[string]struct {
		file, kind, mechanism string
	}{
		"scc":        {"eventbridge-transfer-requested-scc.json", "transfer", "scc"},
		"dpf":        {"eventbridge-transfer-requested-dpf.json", "transfer", "dpf"},
		"adequacy":   {"eventbridge-transfer-requested-adequacy.json", "transfer", "adequacy"},
		"denied":     {"eventbridge-transfer-requested-denied.json", "denial", "none"},
		"derogation": {"eventbridge-transfer-requested-derogation.json", "transfer", "derogation"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h, _, sk := setup(t, "eu-central-1")
			if _, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), eventstest.Sample(t, c.file)); err != nil {
				t.Fatal(err)
			}
			if len(sk.Entries) != 1 || string(sk.Entries[0].Kind) != c.kind || sk.Entries[0].Mechanism != c.mechanism || sk.Entries[0].Reference == "" {
				t.Fatalf("expect one %s entry with mechanism %s and a reference, got %+v", c.kind, c.mechanism, sk.Entries)
			}
			if len(sk.Events) != 1 || sk.Events[0].DetailType != events.TransferDecided {
				t.Fatalf("expect Transfer Decided, got %+v", sk.Events)
			}
			d := sk.Events[0].Detail.(*events.TransferDecidedDetail)
			// The platform gets its record key back (it sent it), the subject
			// only as a reference.
			if d.LedgerID != sk.Entries[0].ID || !strings.HasPrefix(d.SubjectRef, "sub_") || bytes.Contains(mustJSON(sk.Entries), []byte("u-1002")) {
				t.Fatalf("expect the ledger id and a subject reference (no subject id), got %+v", d)
			}
		})
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestIngestWritesHome(t *testing.T) {
	h, st, sk := setup(t, "us-east-1")
	ctx := context.Background()
	if _, err := lambda.NewHandler(h.Invoke).Invoke(ctx, eventstest.Sample(t, "eventbridge-record-ingest.json")); err != nil {
		t.Fatal(err)
	}
	k := record.Key{"pk": "USER#u-1010", "sk": "PROFILE"}
	if _, err := st.GetItem(ctx, "eu-central-1", "users", k); err != nil {
		t.Fatalf("expect the record in eu-central-1, got %v", err)
	}
	if _, err := st.GetItem(ctx, "us-east-1", "users", k); !errors.Is(err, record.ErrNotFound) {
		t.Fatalf("expect nothing in us-east-1, got %v", err)
	}
	if len(sk.Entries) != 1 || sk.Entries[0].Decision != "routed" {
		t.Fatalf("expect one routed entry, got %+v", sk.Entries)
	}
}

func TestBadEvents(t *testing.T) {
	cases := map[string]string{
		"unknown detail type":  `{"detail-type":"Something Else","source":"x","detail":{}}`,
		"missing item":         `{"detail-type":"Record Ingest","source":"x","detail":{"source":"users"}}`,
		"unwatched table":      `{"detail-type":"Record Ingest","source":"x","detail":{"source":"orders","item":{"pk":"1"}}}`,
		"missing key":          `{"detail-type":"Record Ingest","source":"x","detail":{"source":"users","item":{"pk":"1","user_id":"u"}}}`,
		"unknown to_country":   `{"detail-type":"Transfer Requested","source":"x","detail":{"transfer_id":"t","source":"users","record":{"pk":"1"},"subject_id":"u","category":"events","to_country":"XX","importer":"I"}}`,
		"not EventBridge JSON": `[]`,
	}
	for name, payload := range cases {
		t.Run(name, func(t *testing.T) {
			h, _, sk := setup(t, "us-east-1")
			if _, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), []byte(payload)); err == nil {
				t.Fatal("expect an error, got nil")
			}
			if len(sk.Entries)+len(sk.Events) != 0 {
				t.Fatalf("expect no side effects, got %+v", sk)
			}
		})
	}
}
