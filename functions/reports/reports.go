package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/report"
)

// Refs turns a subject id the caller names into its reference.
type Refs interface {
	Subject(id string) string
}

// Handler is the reports function.
type Handler struct {
	Ledger report.Ledger
	Refs   Refs
	Now    func() time.Time
	Log    *slog.Logger
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

// HandleHTTP answers one request.
func (h *Handler) HandleHTTP(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	method := req.RequestContext.HTTP.Method
	path := req.RawPath
	if method != http.MethodGet {
		return problem(http.StatusMethodNotAllowed, "only GET is supported"), nil
	}
	get := func(k string) string { return req.QueryStringParameters[k] }
	switch path {
	case "/v1/verify":
		st, err := report.Verify(ctx, h.Ledger)
		if err != nil {
			h.Log.ErrorContext(ctx, "verify failed", "function", "reports", "error", err.Error())
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
		b, _ := json.MarshalIndent(st, "", "  ")
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
	case "/v1/report":
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
		ctype := map[string]string{"json": "application/json", "csv": "text/csv; charset=utf-8", "table": "text/plain; charset=utf-8"}[format]
		if ctype == "" {
			return problem(http.StatusBadRequest, "format must be json, csv or table"), nil
		}
		rep, err := report.Build(ctx, h.Ledger, q, h.Now())
		if err != nil {
			h.Log.ErrorContext(ctx, "report failed", "function", "reports", "error", err.Error())
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
		var buf bytes.Buffer
		if err := rep.Write(&buf, format); err != nil {
			return problem(http.StatusInternalServerError, "internal error"), nil
		}
		h.Log.InfoContext(ctx, "report", "function", "reports", "entries", len(rep.Entries), "format", format)
		return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": ctype}, Body: buf.String()}, nil
	}
	return problem(http.StatusNotFound, "no such path: use /v1/report or /v1/verify"), nil
}
