package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/events/eventstest"
	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/pseudonym"
	"github.com/residency-dev/residency/shared/sqlitestore"
	"github.com/residency-dev/residency/shared/sqlitestore/sqlitetest"
)

func setup(t *testing.T) *reports.Handler {
	st := sqlitetest.Open(t)
	refs, _ := pseudonym.New(bytes.Repeat([]byte{1}, 32))
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	st.Append(context.Background(), "eu-central-1", []ledger.Entry{
		{ID: "a", Time: at, Kind: ledger.KindTransfer, Region: "eu-central-1", ToCountry: "US", Importer: "Acme Inc", Mechanism: "scc", Reference: "scc-1", Decision: "allowed", SubjectRef: refs.Subject("u-1"), Actor: "router"},
		{ID: "b", Time: at.Add(time.Hour), Kind: ledger.KindDenial, Region: "eu-central-1", ToCountry: "IN", Importer: "X", Mechanism: "none", Decision: "denied", SubjectRef: refs.Subject("u-2"), Actor: "router"},
	})
	return &reports.Handler{Ledger: st, Refs: refs, Now: func() time.Time { return at }, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
}

func get(t *testing.T, h *reports.Handler, path string, q map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	return call(t, h, "GET", path, q)
}

// call sends one API Gateway request through the function's JSON path.
func call(t *testing.T, h *reports.Handler, method, path string, q map[string]string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, QueryStringParameters: q}
	req.RequestContext.HTTP.Method = method
	payload, _ := json.Marshal(req)
	return eventstest.Invoke[events.APIGatewayV2HTTPResponse](t, h.Invoke, payload)
}

// localDigests is a digest signing key in the test's temporary folder, its
// public key set, and the folder the digests go to.
func localDigests(t *testing.T) (*digest.Ed25519Signer, digest.Keys, digest.Dir) {
	t.Helper()
	tmp := t.TempDir()
	signer, err := digest.LoadSigningKey(filepath.Join(tmp, "k"))
	if err != nil {
		t.Fatal(err)
	}
	return signer, digest.Keys{signer.KeyID(): signer.Public()}, digest.Dir{Path: filepath.Join(tmp, "digests")}
}

// signEU signs a digest of h's eu-central-1 chain into dir, at
// 2026-11-22T00:00Z.
func signEU(t *testing.T, h *reports.Handler, signer digest.Signer, dir digest.Dir) *digest.Digest {
	t.Helper()
	w := &digest.Writer{Signer: signer, Store: dir, Chain: h.Ledger.(*sqlitestore.Store), Now: func() time.Time { return time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC) }}
	d, err := w.Write(context.Background(), "eu-central-1", false)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRoutes(t *testing.T) {
	h := setup(t)
	cases := map[string]struct {
		path   string
		q      map[string]string
		status int
		ctype  string
		body   string
	}{
		"report json":    {"/v1/report", nil, 200, "application/json", `"verified": true`},
		"report csv":     {"/v1/report", map[string]string{"format": "csv"}, 200, "text/csv; charset=utf-8", "seq,id,time"},
		"filter kind":    {"/v1/report", map[string]string{"kind": "denial"}, 200, "application/json", `"importer": "X"`},
		"filter subject": {"/v1/report", map[string]string{"subject": "u-1"}, 200, "application/json", `"importer": "Acme Inc"`},
		"bad from":       {"/v1/report", map[string]string{"from": "yesterday"}, 400, "application/json", "from="},
		"bad kind":       {"/v1/report", map[string]string{"kind": "export"}, 400, "application/json", "kind="},
		"bad format":     {"/v1/report", map[string]string{"format": "pdf"}, 400, "application/json", "format"},
		"from after to":  {"/v1/report", map[string]string{"from": "2026-12-01", "to": "2026-11-01"}, 400, "application/json", "before"},
		"verify":         {"/v1/verify", nil, 200, "application/json", `"verified": true`},
		"unknown path":   {"/v1/secrets", nil, 404, "application/json", "no such path"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := get(t, h, c.path, c.q)
			if resp.StatusCode != c.status || resp.Headers["Content-Type"] != c.ctype || !strings.Contains(resp.Body, c.body) {
				t.Fatalf("expect %d %s containing %q, got %d %s: %s", c.status, c.ctype, c.body, resp.StatusCode, resp.Headers["Content-Type"], resp.Body)
			}
		})
	}
	if resp := get(t, h, "/v1/report", map[string]string{"subject": "u-1"}); strings.Contains(resp.Body, `"importer": "X"`) {
		t.Fatal("expect the subject filter to leave out other subjects")
	}
}

func TestGoldenSamples(t *testing.T) {
	h := setup(t)
	for _, name := range []string{"apigw-report.json", "apigw-verify.json"} {
		payload := eventstest.Sample(t, name)
		out, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		if json.Unmarshal(out, &resp); resp.StatusCode != 200 {
			t.Fatalf("%s: expect 200, got %d %s", name, resp.StatusCode, resp.Body)
		}
	}
}
