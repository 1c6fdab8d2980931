package awse2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/record"
)

// The deployed reports function over the DynamoDB ledger: the time index read
// month by month, pages with cursors, verification and holds.
func TestReportsOnDynamoDB(t *testing.T) {
	w := setup(t)
	ctx := w.ctx
	at := time.Date(2026, 10, 30, 12, 0, 0, 0, time.UTC)
	var drafts []ledger.Entry
	for i := range 7 {
		kind := ledger.KindTransfer
		if i%3 == 2 {
			kind = ledger.KindDenial
		}
		drafts = append(drafts, ledger.Entry{ID: "e" + string(rune('a'+i)), Time: at.Add(time.Duration(i) * 24 * time.Hour), Kind: kind,
			Region: us, ToCountry: "IN", Importer: "B Ltd", Mechanism: "none", Decision: "denied", Actor: "router"})
	}
	if _, err := w.store.Append(ctx, us, drafts); err != nil {
		t.Fatal(err)
	}
	w.store.SetHold(ctx, catalog.Hold{ID: "hold-1", Source: "users", Key: record.Key{"pk": "A"}, Reason: "audit", SetAt: at})
	h := &reports.Handler{Ledger: w.store, Holds: w.store, Refs: w.tagger.Refs, Now: time.Now, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	get := func(path string, q map[string]string) lambdaevents.APIGatewayV2HTTPResponse {
		req := lambdaevents.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, QueryStringParameters: q}
		req.RequestContext.HTTP.Method = "GET"
		payload, _ := json.Marshal(req)
		out, err := lambda.NewHandler(h.Invoke).Invoke(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		var resp lambdaevents.APIGatewayV2HTTPResponse
		json.Unmarshal(out, &resp)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: expect 200, got %d %s", path, resp.StatusCode, resp.Body)
		}
		return resp
	}
	if resp := get("/v1/verify", nil); !strings.Contains(resp.Body, `"verified": true`) {
		t.Fatalf("expect a verified ledger, got %s", resp.Body)
	}
	// Pages of 3 across the October/November boundary.
	var ids []string
	cursor := ""
	for range 5 {
		q := map[string]string{"limit": "3", "format": "json"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		resp := get("/v1/report", q)
		var page struct {
			Entries    []ledger.Entry   `json:"entries"`
			NextCursor string           `json:"next_cursor"`
			Holds      []map[string]any `json:"holds"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &page); err != nil {
			t.Fatalf("expect JSON, got %v: %s", err, resp.Body)
		}
		if cursor == "" && len(page.Holds) != 1 { // the first page carries the summary and holds
			t.Fatalf("expect the hold listed, got %+v", page.Holds)
		}
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if got := strings.Join(ids, ","); got != "ea,eb,ec,ed,ee,ef,eg" {
		t.Fatalf("expect every entry once in time order, got %s", got)
	}
	resp := get("/v1/report", map[string]string{"kind": "denial", "from": "2026-11-01", "format": "csv"})
	if n := strings.Count(resp.Body, "\n"); n != 3 { // header + ef (Nov 4)... denials are ec (Nov 1), ef (Nov 4)
		t.Fatalf("expect a header and 2 November denials, got %d lines:\n%s", n, resp.Body)
	}
}
