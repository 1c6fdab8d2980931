package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
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
		"bad request":  {"POST", map[string]string{"request": "a\nb"}, http.StatusBadRequest, "not an erasure request id"},
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

// requestLedger holds one erasure request, id, of one subject: in each
// region of records its entry (records[region] records to erase, a minute
// after certAt), then as many receipts, the last of an S3 object.
func requestLedger(t *testing.T, id string, records map[string]int) *sqlitestore.Store {
	t.Helper()
	st := sqlitetest.Open(t)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{3}, 32))
	subject := refs.Subject("u-asked")
	for region, n := range records {
		es := []ledger.Entry{{ID: "req-" + region, Time: certAt.Add(time.Minute), Kind: ledger.KindDeletion, Region: region, SubjectRef: subject,
			Reference: ledger.ErasureRequestReference(id, certAt, n), Decision: ledger.DecisionErasureRequested, Actor: "retention"}}
		for i := range n {
			ref := ledger.ErasureReference(id)
			if i == n-1 {
				ref += "; 1 object version deleted"
			}
			es = append(es, ledger.Entry{ID: fmt.Sprint("del-", region, i), Time: certAt.Add(time.Duration(2+i) * time.Minute), Kind: ledger.KindDeletion,
				Region: region, Source: "orders", Record: refs.Record("orders", map[string]any{"id": fmt.Sprint("o-", i)}), SubjectRef: subject,
				Reference: ref, Decision: "deleted", Actor: "retention"})
		}
		if _, err := st.Append(context.Background(), region, es); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// signedChecker signs a digest of every chain of st, at now, with a new
// local key (localDigests), and returns the checker of those digests and
// their keys.
func signedChecker(t *testing.T, st *sqlitestore.Store, now time.Time) (*digest.Checker, digest.Keys) {
	t.Helper()
	signer, keys, dir := localDigests(t)
	regions, err := st.Chains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := &digest.Writer{Signer: signer, Store: dir, Chain: st, Now: func() time.Time { return now }}
	for _, r := range regions {
		if _, err := w.Write(context.Background(), r, true); err != nil {
			t.Fatal(err)
		}
	}
	return &digest.Checker{Source: dir, Keys: keys}, keys
}

// A request whose regions held no record of the subject completes with no
// deletion, so no receipt: a certificate proves receipts, and holds none
// here. The answer is a 409 that says so and names what shows the request
// instead (its entry in each region, each with its own inclusion proof),
// not a 500; nothing is stored, and the proofs it points at are there.
func TestCertificateOfARequestThatErasedNothing(t *testing.T) {
	st := requestLedger(t, "dsr-empty", map[string]int{"eu-central-1": 0, "eu-west-1": 0})
	now := certAt.Add(time.Hour)
	checker, keys := signedChecker(t, st, now)
	var logs bytes.Buffer
	mem := &memCertificates{objs: map[string][]byte{}}
	h := &reports.Handler{Ledger: st, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Digests: checker, Certificates: mem}
	resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-empty"})
	var body struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("expect a problem body, got %s (%v)", resp.Body, err)
	}
	for _, want := range []string{
		"erasure request dsr-empty is complete (on_time) but erased no record",
		"0 records to erase in eu-central-1, eu-west-1",
		"no deletion receipt to certify",
		"eu-central-1 seq 1, eu-west-1 seq 1",
		"GET /v1/proof?region=R&seq=N",
	} {
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body.Error, want) {
			t.Fatalf("expect 409 with %q, got %d %s", want, resp.StatusCode, resp.Body)
		}
	}
	if len(mem.objs) != 0 || logs.Len() != 0 {
		t.Fatalf("expect nothing stored and nothing logged, got %d stored, log %s", len(mem.objs), logs.String())
	}
	for _, region := range []string{"eu-central-1", "eu-west-1"} {
		pr := get(t, h, "/v1/proof", map[string]string{"region": region, "seq": "1"})
		p, err := digest.ParseProof([]byte(pr.Body))
		if pr.StatusCode != http.StatusOK || err != nil || digest.CheckProof(p, keys) != nil || p.Entry.Decision != ledger.DecisionErasureRequested {
			t.Fatalf("expect a valid proof of %s's request entry, got %d %s (%v)", region, pr.StatusCode, pr.Body, err)
		}
	}
	// One region with a record (an S3 object's): a certificate of its
	// receipt.
	st = requestLedger(t, "dsr-some", map[string]int{"eu-central-1": 0, "eu-west-1": 1})
	checker, keys = signedChecker(t, st, now)
	h.Ledger, h.Digests = st, checker
	resp = call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-some"})
	c, err := digest.ParseCertificate([]byte(resp.Body))
	if resp.StatusCode != http.StatusCreated || err != nil || digest.CheckCertificate(c, keys) != nil || len(c.Receipts) != 1 {
		t.Fatalf("expect 201 with a certificate of one receipt, got %d %s (%v)", resp.StatusCode, resp.Body, err)
	}
}

// failingCertificates fails as the S3 store does, naming the object key,
// which holds the request id.
type failingCertificates struct{}

func (failingCertificates) StoreCertificate(_ context.Context, id string, _ []byte) ([]byte, bool, error) {
	return nil, false, fmt.Errorf("put s3://digests/certificates/%s.json: certificate %s: %w", url.PathEscape(id), id, io.ErrUnexpectedEOF)
}

// The handler's log carries no request id (it logs counts only): when a
// step fails, the logged error has the id, raw or path-escaped, replaced.
func TestCertificateFailureLogsNoRequestID(t *testing.T) {
	const id = "DSR 2026/0042"
	st := requestLedger(t, id, map[string]int{"eu-central-1": 2})
	now := certAt.Add(time.Hour)
	checker, _ := signedChecker(t, st, now)
	var logs bytes.Buffer
	h := &reports.Handler{Ledger: st, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Digests: checker, Certificates: failingCertificates{}}
	resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": id})
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(resp.Body, "internal error") {
		t.Fatalf("expect 500 internal error, got %d %s", resp.StatusCode, resp.Body)
	}
	got := logs.String()
	if !strings.Contains(got, "certificate: store failed") || !strings.Contains(got, "unexpected EOF") {
		t.Fatalf("expect the failure logged with its cause, got %s", got)
	}
	for _, s := range []string{id, url.PathEscape(id), "DSR", "0042"} {
		if strings.Contains(got, s) {
			t.Fatalf("expect no request id (%q) in the log, got %s", s, got)
		}
	}
}

// countingLedger counts, per region, how often a read delivers the chain's
// first entry: how many times the chain is read from its start.
type countingLedger struct {
	*sqlitestore.Store
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingLedger) count(e *ledger.Entry) {
	if e.Seq == 1 {
		c.mu.Lock()
		c.reads[e.Region]++
		c.mu.Unlock()
	}
}

func (c *countingLedger) ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error {
	return c.Store.ScanChain(ctx, region, func(e *ledger.Entry) error { c.count(e); return fn(e) })
}

func (c *countingLedger) ScanChainAfter(ctx context.Context, region string, after int64, limit int, fn func(*ledger.Entry) error) error {
	return c.Store.ScanChainAfter(ctx, region, after, limit, func(e *ledger.Entry) error { c.count(e); return fn(e) })
}

// An erasure request id may hold a ';' or a ',' (Erasure Requested takes
// any): its certificate is made, of its receipts, not refused.
func TestCertificateOfARequestIDWithASemicolonAndAComma(t *testing.T) {
	const id = "DSR-7; part 2, EU"
	st := requestLedger(t, id, map[string]int{"eu-central-1": 2})
	now := certAt.Add(time.Hour)
	checker, keys := signedChecker(t, st, now)
	mem := &memCertificates{objs: map[string][]byte{}}
	h := &reports.Handler{Ledger: st, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Digests: checker, Certificates: mem}
	resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": id})
	c, err := digest.ParseCertificate([]byte(resp.Body))
	if resp.StatusCode != http.StatusCreated || err != nil || digest.CheckCertificate(c, keys) != nil || c.RequestID != id || len(c.Receipts) != 2 {
		t.Fatalf("expect 201 with a certificate of %q's 2 receipts, got %d %s (%v)", id, resp.StatusCode, resp.Body, err)
	}
	if string(mem.objs[id]) != resp.Body {
		t.Fatalf("expect the certificate stored under its request id, got %v", slices.Collect(maps.Keys(mem.objs)))
	}
}

// A certificate reads each chain once: the request's completion and its
// receipts come from the same read.
func TestCertificateReadsEachChainOnce(t *testing.T) {
	st, refs := erasureLedger(t)
	now := certAt.Add(time.Hour)
	checker, keys := signedChecker(t, st, now)
	l := &countingLedger{Store: st, reads: map[string]int{}}
	h := &reports.Handler{Ledger: l, Refs: refs, Now: func() time.Time { return now }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Digests: checker, Certificates: &memCertificates{objs: map[string][]byte{}}}
	resp := call(t, h, "POST", "/v1/certificate", map[string]string{"request": "dsr-done"})
	c, err := digest.ParseCertificate([]byte(resp.Body))
	if resp.StatusCode != http.StatusCreated || err != nil || digest.CheckCertificate(c, keys) != nil || len(c.Receipts) != 3 {
		t.Fatalf("expect 201 with a certificate of 3 receipts, got %d %s (%v)", resp.StatusCode, resp.Body, err)
	}
	if want := map[string]int{"eu-central-1": 1, "eu-west-1": 1}; !maps.Equal(l.reads, want) {
		t.Fatalf("expect each chain read once from its start, %v, got %v", want, l.reads)
	}
}
