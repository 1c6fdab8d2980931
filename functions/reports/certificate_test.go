package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

// TestMain stops moto_server after the tests that use it (certificates on
// AWS); it starts on first use only.
func TestMain(m *testing.M) { os.Exit(mototest.Run(m)) }

var certAt = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// erasureLedger holds two erasure requests of one subject: dsr-done,
// recorded by two regions and erased in both (2 records, then 1), and
// dsr-open, whose one record in eu-central-1 is not erased yet.
func erasureLedger(t *testing.T) (*sqlitestore.Store, *pseudonym.Keyer) {
	t.Helper()
	st := sqlitetest.Open(t)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{2}, 32))
	subject := refs.Subject("u-erased")
	n := 0
	entry := func(region, decision, reference string) ledger.Entry {
		n++
		e := ledger.Entry{ID: fmt.Sprint("del-", n), Time: certAt.Add(time.Duration(n) * time.Minute), Kind: ledger.KindDeletion, Region: region,
			SubjectRef: subject, Reference: reference, Decision: decision, Actor: "retention"}
		if decision != ledger.DecisionErasureRequested {
			e.Record = refs.Record("orders", map[string]any{"id": fmt.Sprint("o-", n)})
		}
		return e
	}
	req := func(region, id string, records int) ledger.Entry {
		return entry(region, ledger.DecisionErasureRequested, ledger.ErasureRequestReference(id, certAt, records))
	}
	rcpt := func(region, id string) ledger.Entry { return entry(region, "deleted", ledger.ErasureReference(id)) }
	ctx := context.Background()
	for region, es := range map[string][]ledger.Entry{
		"eu-central-1": {req("eu-central-1", "dsr-done", 2), req("eu-central-1", "dsr-open", 1), rcpt("eu-central-1", "dsr-done"), rcpt("eu-central-1", "dsr-done")},
		"eu-west-1":    {req("eu-west-1", "dsr-done", 1), rcpt("eu-west-1", "dsr-done")},
	} {
		if _, err := st.Append(ctx, region, es); err != nil {
			t.Fatal(err)
		}
	}
	return st, refs
}

// memCertificates is an in-memory CertificateStore that writes once.
type memCertificates struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func (m *memCertificates) StoreCertificate(_ context.Context, id string, body []byte) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.objs[id]; ok {
		return b, false, nil
	}
	m.objs[id] = body
	return body, true, nil
}

// POST /v1/certificate makes the certificate of a complete request once;
// a request not complete, unknown or malformed gets none and says why.
func TestCertificateRoute(t *testing.T) {
	st, refs := erasureLedger(t)
	signer, keys, dir := localDigests(t)
	now := certAt.Add(time.Hour)
	mem := &memCertificates{objs: map[string][]byte{}}
	h := &reports.Handler{Ledger: st, Refs: refs, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	done := map[string]string{"request": "dsr-done"}
	if resp := call(t, h, "POST", "/v1/certificate", done); resp.StatusCode != http.StatusNotImplemented {
		t.Fatalf("expect 501 without digests and a store, got %d %s", resp.StatusCode, resp.Body)
	}
	h.Digests, h.Certificates = &digest.Checker{Source: dir, Keys: keys}, mem
	// Complete, but no digest signs the receipts yet.
	if resp := call(t, h, "POST", "/v1/certificate", done); resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "not signed by a digest yet") {
		t.Fatalf("expect 409 before the digest, got %d %s", resp.StatusCode, resp.Body)
	}
	if len(mem.objs) != 0 {
		t.Fatalf("expect nothing stored before the digest, got %d", len(mem.objs))
	}
	w := &digest.Writer{Signer: signer, Store: dir, Chain: st, Now: func() time.Time { return now }}
	for _, r := range []string{"eu-central-1", "eu-west-1"} {
		if _, err := w.Write(context.Background(), r, true); err != nil {
			t.Fatal(err)
		}
	}
	resp := call(t, h, "POST", "/v1/certificate", done)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("expect 201, got %d %s", resp.StatusCode, resp.Body)
	}
	c, err := digest.ParseCertificate([]byte(resp.Body))
	if err != nil {
		t.Fatal(err)
	}
	if err := digest.CheckCertificate(c, keys); err != nil || len(c.Receipts) != 3 || strings.Join(c.Regions, ",") != "eu-central-1,eu-west-1" {
		t.Fatalf("expect a valid certificate of 3 receipts in 2 regions, got %v: %+v", err, c)
	}
	if string(mem.objs["dsr-done"]) != resp.Body {
		t.Fatal("expect the stored certificate to be the one answered")
	}
	if strings.Contains(resp.Body, "u-erased") || strings.Contains(resp.Body, "o-3") {
		t.Fatalf("expect no subject id or record key in the certificate, got %s", resp.Body)
	}
	// Written once: a later call answers the stored one, unchanged.
	now = now.Add(time.Hour)
	if again := call(t, h, "POST", "/v1/certificate", done); again.StatusCode != http.StatusOK || again.Body != resp.Body {
		t.Fatalf("expect 200 with the first certificate, got %d %s", again.StatusCode, again.Body)
	}
	cases := map[string]struct {
		method string
		q      map[string]string
		status int
		body   string
	}{
		"not complete": {"POST", map[string]string{"request": "dsr-open"}, http.StatusConflict, "dsr-open is not complete (open, due 2026-12-20): 0 of 1 records erased in eu-central-1"},
		"unknown":      {"POST", map[string]string{"request": "dsr-none"}, http.StatusNotFound, "no erasure request dsr-none"},
		"no request":   {"POST", nil, http.StatusBadRequest, "missing request"},
		"bad request":  {"POST", map[string]string{"request": "a;b"}, http.StatusBadRequest, "not an erasure request id"},
		"too long":     {"POST", map[string]string{"request": strings.Repeat("x", 201)}, http.StatusBadRequest, "at most 200"},
		"get":          {"GET", done, http.StatusMethodNotAllowed, "only POST"},
		"post report":  {"POST", nil, http.StatusMethodNotAllowed, "only GET"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := "/v1/certificate"
			if name == "post report" {
				path = "/v1/report"
			}
			resp := call(t, h, c.method, path, c.q)
			if resp.StatusCode != c.status || !strings.Contains(resp.Body, c.body) {
				t.Fatalf("expect %d with %q, got %d %s", c.status, c.body, resp.StatusCode, resp.Body)
			}
		})
	}
	if _, ok := mem.objs["dsr-open"]; ok || len(mem.objs) != 1 {
		t.Fatalf("expect only dsr-done's certificate stored, got %d", len(mem.objs))
	}
}
