package reports

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
)

// prover makes proofs from the signed digests and the ledger, when the
// ledger keeps its tree (both stores do) and digests are configured.
func (h *Handler) prover() *digest.Prover {
	chain, ok := h.Ledger.(digest.ChainReader)
	if h.Digests == nil || !ok {
		return nil
	}
	return &digest.Prover{Source: h.Digests.Source, Chain: chain, Keys: h.Digests.Keys}
}

// proof answers GET /v1/proof?region=&seq= with an inclusion proof of one
// entry against the newest signed checkpoint, and
// GET /v1/proof?region=&from_size=&to_size= with a consistency proof (the
// JSON `residency prove` writes, checked by `residency check-proof`).
func (h *Handler) proof(ctx context.Context, req lambdaevents.APIGatewayV2HTTPRequest) (lambdaevents.APIGatewayV2HTTPResponse, error) {
	q := req.QueryStringParameters
	p := h.prover()
	if p == nil {
		return problem(http.StatusNotImplemented, "proofs need signed digests and a ledger that keeps its tree"), nil
	}
	region := q["region"]
	if region == "" {
		return problem(http.StatusBadRequest, "missing region"), nil
	}
	num := func(name string) (int64, string) {
		v := q[name]
		if v == "" {
			return 0, ""
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return 0, name + " must be a positive integer, got " + strconv.Quote(v)
		}
		return n, ""
	}
	seq, bad := num("seq")
	from, bad2 := num("from_size")
	to, bad3 := num("to_size")
	for _, b := range []string{bad, bad2, bad3} {
		if b != "" {
			return problem(http.StatusBadRequest, b), nil
		}
	}
	var pr *digest.Proof
	var err error
	switch {
	case seq > 0 && from == 0 && to == 0:
		pr, err = p.ProveEntry(ctx, region, seq)
	case seq == 0 && from > 0:
		pr, err = p.ProveConsistency(ctx, region, from, to)
	default:
		return problem(http.StatusBadRequest, "give seq (an inclusion proof) or from_size and optionally to_size (a consistency proof)"), nil
	}
	switch {
	case errors.Is(err, digest.ErrNotSigned):
		// What the caller asked of is not (yet) signed: say what is.
		return problem(http.StatusNotFound, err.Error()), nil
	case errors.Is(err, ledger.ErrTreeIncomplete):
		return problem(http.StatusServiceUnavailable, "the ledger's tree is being computed: try again after the next append"), nil
	case err != nil:
		h.Log.ErrorContext(ctx, "proof failed", "function", "reports", "region", region, "error", err.Error())
		return problem(http.StatusInternalServerError, "internal error"), nil
	}
	b, _ := json.MarshalIndent(pr, "", "  ")
	return lambdaevents.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(b)}, nil
}
