package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/report"
)

// Refs turns the identifiers a caller names into references.
type Refs interface {
	Subject(id string) string
	Record(source string, key record.Key) string
}

// Page sizes of GET /v1/report.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
	// MaxBody is the most a page's body holds before the page is cut:
	// Lambda responses are limited to 6 MB, JSON escaping included.
	MaxBody = 4 << 20
	// MaxScan is how many ledger entries one page reads at most: with
	// filters that skip most entries, a page may come back short, even
	// empty, with a next_cursor.
	MaxScan = 100000
)

// Handler is the reports function.
type Handler struct {
	Ledger report.Ledger
	Holds  report.HoldLister // the legal holds in force (optional)
	Refs   Refs
	Now    func() time.Time
	Log    *slog.Logger
	// Digests, when set, has verification check the signed digests.
	Digests *digest.Checker
	// Policy and Catalog, when set, add the hosting rows to the register
	// (records of Regions, default the policy's, held outside the
	// exporter's regime) and list the mechanisms that expire.
	Policy  *policy.Policy
	Catalog report.Catalog
	Regions []string
	// Certificates, when set (with Digests), keeps the erasure
	// certificates POST /v1/certificate makes, each written once.
	Certificates CertificateStore
}

func (h *Handler) options() report.Options {
	return report.Options{Now: h.Now(), Holds: h.Holds, Refs: h.Refs, Digests: h.Digests, Policy: h.Policy, Catalog: h.Catalog,
		Regions: h.Regions}
}

// Invoke serves the HTTP API trigger through the JSON path.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	var req lambdaevents.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	return h.HandleHTTP(ctx, req)
}

func problem(status int, msg string) lambdaevents.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

var contentTypes = map[string]string{
	"json": "application/json", "csv": "text/csv; charset=utf-8", "table": "text/plain; charset=utf-8", "html": "text/html; charset=utf-8",
}

// HandleHTTP answers one request.
func (h *Handler) HandleHTTP(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	method := req.RequestContext.HTTP.Method
	if req.RawPath == "/v1/certificate" {
		if method != http.MethodPost {
			return problem(http.StatusMethodNotAllowed, "only POST is supported on /v1/certificate"), nil
		}
		return h.certificate(ctx, req)
	}
	if method != http.MethodGet {
		return problem(http.StatusMethodNotAllowed, "only GET is supported"), nil
	}
	switch req.RawPath {
	case "/v1/verify":
		st, err := report.Verify(ctx, h.Ledger, h.Digests)
		if err != nil {
			h.Log.ErrorContext(ctx, "verify failed", "function", "reports", "error", err.Error())
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
		b, _ := json.MarshalIndent(st, "", "  ")
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
	case "/v1/report":
		return h.report(ctx, req)
	case "/v1/proof":
		return h.proof(ctx, req)
	}
	return problem(http.StatusNotFound, "no such path: use GET /v1/report, /v1/verify or /v1/proof, or POST /v1/certificate"), nil
}

// pageTail ends a JSON page.
type pageTail struct {
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageHead starts a JSON page after the first.
type pageHead struct {
	From        string            `json:"from"`
	To          string            `json:"to"`
	GeneratedAt time.Time         `json:"generated_at"`
	Filters     map[string]string `json:"filters,omitempty"`
}

func (h *Handler) report(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	get := func(k string) string { return req.QueryStringParameters[k] }
	q, err := report.ParseQuery(get)
	if err != nil {
		return problem(http.StatusBadRequest, err.Error()), nil
	}
	if s := get("subject"); s != "" {
		q.SubjectRef = h.Refs.Subject(s)
	}
	format := get("format")
	if format == "" {
		format = "json"
	}
	ctype := contentTypes[format]
	if ctype == "" {
		return problem(http.StatusBadRequest, "format must be json, csv, html or table"), nil
	}
	limit := DefaultLimit
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return problem(http.StatusBadRequest, fmt.Sprintf("limit=%q: use a number from 1 to %d", s, MaxLimit)), nil
		}
		limit = n
	}
	after, err := report.ParseCursor(get("cursor"), q)
	if err != nil {
		return problem(http.StatusBadRequest, err.Error()), nil
	}
	first := after.IsZero()

	var head *report.Header
	if first || format == "html" || format == "table" {
		if head, err = report.Summarize(ctx, h.Ledger, q, h.options()); err != nil {
			h.Log.ErrorContext(ctx, "report failed", "function", "reports", "error", err.Error())
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
	} else {
		head = report.NewHeader(q, h.Now())
	}

	var buf bytes.Buffer
	var next report.Position
	var more bool
	n := 0
	src := func(fn func(*ledger.Entry) error) error {
		var err error
		next, more, err = report.Scan(ctx, h.Ledger, q, report.Page{After: after, Limit: limit, MaxScan: MaxScan}, func(e *ledger.Entry) error {
			if buf.Len() >= MaxBody {
				return report.ErrStop
			}
			n++
			return fn(e)
		})
		return err
	}
	token := func() string {
		if !more {
			return ""
		}
		return next.Cursor(q)
	}
	switch format {
	case "json":
		var hd any = head
		if !first {
			hd = pageHead{From: head.From, To: head.To, GeneratedAt: head.GeneratedAt, Filters: head.Filters}
		}
		err = report.WriteJSON(&buf, hd, src, func() any { return pageTail{NextCursor: token()} })
	case "html":
		err = report.WriteHTML(&buf, head, src, report.HTMLOptions{MaxEntries: limit})
	default:
		err = report.Write(&buf, format, head, src)
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "report failed", "function", "reports", "error", err.Error())
		return problem(http.StatusInternalServerError, "internal error"), nil
	}
	headers := map[string]string{"Content-Type": ctype}
	if tok := token(); tok != "" {
		headers["X-Next-Cursor"] = tok
		headers["Link"] = fmt.Sprintf("<%s?%s>; rel=\"next\"", req.RawPath, nextQuery(req.QueryStringParameters, tok))
	}
	h.Log.InfoContext(ctx, "report", "function", "reports", "entries", n, "format", format, "first_page", first, "more", more, "bytes", buf.Len())
	return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: headers, Body: buf.String()}, nil
}

// nextQuery is the request's query with the next page's cursor.
func nextQuery(params map[string]string, cursor string) string {
	v := url.Values{}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "cursor" {
			v.Set(k, params[k])
		}
	}
	v.Set("cursor", cursor)
	return v.Encode()
}
