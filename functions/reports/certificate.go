package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	case strings.IndexFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		// A ';' or a ',' is a request id's like any other character: the
		// receipts' references are read from their end
		// (ledger.ParseErasureReceipt), and the certificate's key is
		// escaped (digests.CertificateKey).
		return "request holds a control character: not an erasure request id"
	}
	return ""
}

// certificate answers POST /v1/certificate?request=ID: when the erasure
// request is complete (every region that recorded it has all its
// receipts, as summary.requests decides) and every receipt is signed by
// its region's newest checkpoint, it makes the request's certificate,
// stores it once (201; 200 with the stored one when it was there already)
// and returns it. A request not complete gets none (409, saying what is
// missing), nor does one complete with nothing erased, every region having
// held no record of the subject (409: no receipt to certify, and the
// request's entries that show it instead).
func (h *Handler) certificate(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	p := h.prover()
	chains, ok := h.Ledger.(report.ChainScanner)
	if p == nil || h.Certificates == nil || !ok {
		return problem(http.StatusNotImplemented, "certificates need signed digests, a certificate store and a ledger that keeps its tree"), nil
	}
	id := req.QueryStringParameters["request"]
	if bad := checkRequestID(id); bad != "" {
		return problem(http.StatusBadRequest, bad), nil
	}
	// The handler logs no request id (see its last line): a failure's
	// cause is logged with the id replaced, as it is and as the
	// certificate's object key escapes it.
	redact := strings.NewReplacer(id, "<request>", url.PathEscape(id), "<request>")
	internal := func(what string, err error) (lambdaevents.APIGatewayV2HTTPResponse, error) {
		h.Log.ErrorContext(ctx, what, "function", "reports", "error", redact.Replace(err.Error()))
		return problem(http.StatusInternalServerError, "internal error"), nil
	}
	// Complete? The one-month clock over the whole ledger decides, in the
	// one read that also finds the request's receipts and its own entries
	// (the first of each region, as the clock counts them).
	var receipts []ledger.Entry
	var entries []string // "<region> seq <n>"
	recorded := map[string]bool{}
	r, err := report.FindRequest(ctx, chains, id, h.Now(), func(e *ledger.Entry) {
		if rid, _, ok := ledger.ParseErasureReceipt(e); ok && rid == id {
			receipts = append(receipts, *e)
		} else if rid, _, _, ok := ledger.ParseErasureRequest(e); ok && rid == id && !recorded[e.Region] {
			recorded[e.Region] = true
			entries = append(entries, fmt.Sprintf("%s seq %d", e.Region, e.Seq))
		}
	})
	if err != nil {
		return internal("certificate: reading the ledger failed", err)
	}
	switch {
	case r == nil:
		return problem(http.StatusNotFound, fmt.Sprintf("no erasure request %s in the ledger", id)), nil
	case r.CompletedAt == nil:
		return problem(http.StatusConflict, fmt.Sprintf("erasure request %s is not complete (%s, due %s): %d of %d records erased in %s; no certificate until every region's receipts are in",
			id, r.Status, r.Due, r.Erased, r.Records, strings.Join(r.Regions, ", "))), nil
	case len(receipts) == 0:
		// Every region that recorded the request held none of the
		// subject's records: complete, with nothing deleted. A certificate
		// proves deletion receipts and would hold none (CheckCertificate
		// refuses that); the request's own entries, each provable alone,
		// are the evidence.
		return problem(http.StatusConflict, fmt.Sprintf("erasure request %s is complete (%s) but erased no record: its entries say 0 records to erase in %s, "+
			"so there is no deletion receipt to certify and no certificate. What shows it instead: the request's entry in each region's ledger (%s), "+
			"each with an inclusion proof against its signed checkpoint (GET /v1/proof?region=R&seq=N, or residency prove), and the report's erasure requests (completed, 0 of 0 records)",
			id, r.Status, strings.Join(r.Regions, ", "), strings.Join(entries, ", "))), nil
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
