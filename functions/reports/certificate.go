package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
)

// CertificateStore keeps erasure certificates, each written once, locked:
// on AWS the digest bucket under Object Lock (digests.Store). When a
// certificate of the request is there already, StoreCertificate leaves it
// and returns it, with created false.
type CertificateStore interface {
	StoreCertificate(ctx context.Context, requestID string, body []byte) (stored []byte, created bool, err error)
}

// maxRequestID is the longest request id POST /v1/certificate takes (an
// S3 key is at most 1,024 bytes).
const maxRequestID = 200

// checkRequestID says what is wrong with a request id, or "".
func checkRequestID(id string) string {
	switch {
	case id == "":
		return "missing request (the erasure request's id, as Erasure Requested carried it)"
	case len(id) > maxRequestID:
		return fmt.Sprintf("request is %d bytes long: at most %d", len(id), maxRequestID)
	case strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) || r == ';' || r == ',' }) >= 0:
		return "request holds a control character, a ';' or a ',': not an erasure request id"
	}
	return ""
}

// certificate answers POST /v1/certificate?request=ID: when the erasure
// request is complete (every region that recorded it has all its
// receipts, as summary.requests decides) and every receipt is signed by
// its region's newest checkpoint, it makes the request's certificate,
// stores it once (201; 200 with the stored one when it was there already)
// and returns it. A request not complete gets none (409, saying what is
// missing).
func (h *Handler) certificate(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	p := h.prover()
	chains, ok := h.Ledger.(interface {
		Chains(ctx context.Context) ([]string, error)
		ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error
	})
	if p == nil || h.Certificates == nil || !ok {
		return problem(http.StatusNotImplemented, "certificates need signed digests, a certificate store and a ledger that keeps its tree"), nil
	}
	id := req.QueryStringParameters["request"]
	if bad := checkRequestID(id); bad != "" {
		return problem(http.StatusBadRequest, bad), nil
	}
	internal := func(what string, err error) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		h.Log.ErrorContext(ctx, what, "function", "reports", "error", err.Error())
		return problem(http.StatusInternalServerError, "internal error"), nil
	}
	// Complete? The one-month clock over the whole ledger decides.
	head, err := report.Summarize(ctx, h.Ledger, report.Query{}, report.Options{Now: h.Now()})
	if err != nil {
		return internal("certificate: summary failed", err)
	}
	var r *report.Request
	for i := range head.Summary.Requests.List {
		if q := &head.Summary.Requests.List[i]; q.ID == id {
			r = q
		}
	}
	switch {
	case r == nil:
		return problem(http.StatusNotFound, fmt.Sprintf("no erasure request %s in the ledger", id)), nil
	case r.CompletedAt == nil:
		return problem(http.StatusConflict, fmt.Sprintf("erasure request %s is not complete (%s, due %s): %d of %d records erased in %s; no certificate until every region's receipts are in",
			id, r.Status, r.Due, r.Erased, r.Records, strings.Join(r.Regions, ", "))), nil
	}
	receipts, err := digest.ErasureReceipts(ctx, chains, id)
	if err != nil {
		return internal("certificate: receipts failed", err)
	}
	cert, err := p.Certify(ctx, id, receipts, h.Now())
	switch {
	case errors.Is(err, digest.ErrNotSigned):
		return problem(http.StatusConflict, fmt.Sprintf("erasure request %s is complete, but a receipt is not signed by a digest yet: try again after the next digest", id)), nil
	case errors.Is(err, ledger.ErrTreeIncomplete):
		return problem(http.StatusServiceUnavailable, "the ledger's tree is being computed: try again after the next append"), nil
	case err != nil:
		return internal("certificate failed", err)
	}
	b, err := json.MarshalIndent(cert, "", "  ")
	if err != nil {
		return internal("certificate failed", err)
	}
	stored, created, err := h.Certificates.StoreCertificate(ctx, id, b)
	if err != nil {
		return internal("certificate: store failed", err)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	// No request id, subject or key in the log: counts only.
	h.Log.InfoContext(ctx, "certificate", "function", "reports", "created", created, "receipts", len(cert.Receipts), "regions", len(cert.Regions))
	return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(stored)}, nil
}
