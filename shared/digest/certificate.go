package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/ledger"
)

// CertificateType is the type of an erasure certificate file.
const CertificateType = "erasure-certificate"

// Certificate is an erasure certificate: what a controller hands the data
// subject or the regulator for a completed erasure request (GDPR Art. 17,
// and Art. 19 for the recipients it must tell). It holds the request's id,
// the subject's keyed reference, and every deletion receipt that names the
// request, each with its inclusion proof in its region's tree and that
// tree's signed checkpoint: whoever holds the digest key's public half
// checks it alone (residency check-proof), and learns no personal data
// from it (receipts carry keyed references only).
type Certificate struct {
	Type       string    `json:"type"`
	RequestID  string    `json:"request_id"`
	SubjectRef string    `json:"subject_ref"`
	IssuedAt   time.Time `json:"issued_at"`
	// Regions are the chains the receipts are in, sorted.
	Regions  []string `json:"regions"`
	Receipts []*Proof `json:"receipts"`
}

// namesRequest reports whether e is a deletion receipt made on the request
// (ledger.ParseErasureReceipt): of a record or S3 object it found, or of
// one written again after it (", re-applied"). The request's own entry and
// an Object Lock hold (a record not deleted) name the request too, and are
// not receipts.
func namesRequest(e *ledger.Entry, requestID string) bool {
	id, _, ok := ledger.ParseErasureReceipt(e)
	return ok && id == requestID
}

// Certify makes the certificate of an erasure request from its receipts
// (the deletion entries that name it, in any region; see
// ledger.ErasureReference):
// each is proved in its region's newest signed checkpoint. It fails when
// there is no receipt, or a receipt is not signed by a checkpoint yet (the
// next digest signs it).
func (p *Prover) Certify(ctx context.Context, requestID string, receipts []ledger.Entry, now time.Time) (*Certificate, error) {
	if len(receipts) == 0 {
		return nil, fmt.Errorf("erasure request %s: no deletion receipt names it", requestID)
	}
	c := &Certificate{Type: CertificateType, RequestID: requestID, SubjectRef: receipts[0].SubjectRef, IssuedAt: now.UTC()}
	for i := range receipts {
		e := &receipts[i]
		if !namesRequest(e, requestID) {
			return nil, fmt.Errorf("%s seq %d is not a receipt of erasure request %s", e.Region, e.Seq, requestID)
		}
		if e.SubjectRef != c.SubjectRef {
			return nil, fmt.Errorf("erasure request %s: receipts of two subjects", requestID)
		}
		pr, err := p.ProveEntry(ctx, e.Region, e.Seq)
		if err != nil {
			return nil, fmt.Errorf("receipt %s seq %d: %w", e.Region, e.Seq, err)
		}
		c.Receipts = append(c.Receipts, pr)
		if !slices.Contains(c.Regions, e.Region) {
			c.Regions = append(c.Regions, e.Region)
		}
	}
	slices.Sort(c.Regions)
	return c, nil
}

// IsCertificate reports whether a JSON file is a certificate (else, a proof).
func IsCertificate(b []byte) bool {
	var t struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(b, &t) == nil && t.Type == CertificateType
}

// ParseCertificate reads a certificate file; unknown fields are an error.
func ParseCertificate(b []byte) (*Certificate, error) {
	var c Certificate
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: not a certificate file: %v", ErrInvalidProof, err)
	}
	return &c, nil
}

// CheckCertificate checks c with keys alone: it has receipts, each is an
// inclusion proof that checks (CheckProof), a deletion of c's subject
// made on c's request, in one of c's regions, and no receipt is there
// twice. Its errors wrap ErrInvalidProof.
func CheckCertificate(c *Certificate, keys Keys) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidProof, fmt.Sprintf(format, args...))
	}
	if c.Type != CertificateType || c.RequestID == "" || c.SubjectRef == "" {
		return fail("not an erasure certificate (type, request_id and subject_ref are required)")
	}
	if len(c.Receipts) == 0 {
		return fail("erasure request %s: the certificate holds no receipt", c.RequestID)
	}
	seen := map[string]bool{}
	for i, pr := range c.Receipts {
		if pr == nil || pr.Type != ProofInclusion || pr.Entry == nil {
			return fail("receipt %d is not an inclusion proof of an entry", i+1)
		}
		e := pr.Entry
		if err := CheckProof(pr, keys); err != nil {
			return fmt.Errorf("receipt %d (%s seq %d): %w", i+1, pr.Region, e.Seq, err)
		}
		switch {
		case !namesRequest(e, c.RequestID):
			return fail("receipt %d (%s seq %d) is not a deletion on erasure request %s", i+1, pr.Region, e.Seq, c.RequestID)
		case e.SubjectRef != c.SubjectRef:
			return fail("receipt %d (%s seq %d) is of another subject", i+1, pr.Region, e.Seq)
		case !slices.Contains(c.Regions, pr.Region):
			return fail("receipt %d is in %s, not a region the certificate names", i+1, pr.Region)
		}
		id := fmt.Sprintf("%s/%d", pr.Region, e.Seq)
		if seen[id] {
			return fail("receipt %s is there twice", id)
		}
		seen[id] = true
	}
	return nil
}

// errNoReceipt is returned by ErasureReceipts when nothing names the request.
var errNoReceipt = errors.New("no deletion receipt names it")

// ErasureReceipts reads every region's chain for the deletion receipts of
// an erasure request, in order.
func ErasureReceipts(ctx context.Context, chains interface {
	Chains(ctx context.Context) ([]string, error)
	ScanChain(ctx context.Context, region string, fn func(*ledger.Entry) error) error
}, requestID string) ([]ledger.Entry, error) {
	regions, err := chains.Chains(ctx)
	if err != nil {
		return nil, err
	}
	var out []ledger.Entry
	for _, r := range regions {
		err := chains.ScanChain(ctx, r, func(e *ledger.Entry) error {
			if namesRequest(e, requestID) {
				out = append(out, *e)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", r, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("erasure request %s: %w", requestID, errNoReceipt)
	}
	return out, nil
}
