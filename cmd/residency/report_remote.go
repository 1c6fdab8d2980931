package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/report"
)

// remotePageSize is the page size the CLI asks a reports API for: its
// maximum (the API may cut a page shorter to stay under Lambda's 6 MB).
var remotePageSize = 10000

var emptyPayloadHash = func() string { h := sha256.Sum256(nil); return hex.EncodeToString(h[:]) }()

// apiHost matches an execute-api endpoint and captures its region.
var apiHost = regexp.MustCompile(`\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$`)

// reportsClient reads a deployed reports API, signing every request with
// SigV4 for execute-api, as the API's AWS_IAM authorization requires.
type reportsClient struct {
	base   *url.URL
	region string
	creds  aws.CredentialsProvider
	signer *v4.Signer
	http   *http.Client
	now    func() time.Time
}

// apiPage is one page of GET /v1/report?format=json: the header (first page
// only), the entries, and the cursor of the next page.
type apiPage struct {
	report.Header
	Entries    []ledger.Entry `json:"entries"`
	NextCursor string         `json:"next_cursor"`
}

// newReportsClient signs for the API with the SDK's default credentials.
// The instance metadata service is asked only with useIMDS or
// AWS_EC2_METADATA_DISABLED=false: from a laptop, a probe of it only delays
// the error. Credentials are retrieved before the first request, so that
// their absence fails at once, saying how to give them.
func newReportsClient(ctx context.Context, endpoint, region string, useIMDS bool) (*reportsClient, error) {
	base, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, usagef("--endpoint %q: use the API's URL, e.g. https://abc123.execute-api.eu-central-1.amazonaws.com", endpoint)
	}
	if region == "" {
		if m := apiHost.FindStringSubmatch(base.Hostname()); m != nil {
			region = m[1]
		}
	}
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if !useIMDS && os.Getenv("AWS_EC2_METADATA_DISABLED") != "false" {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	if cfg.Region == "" {
		return nil, usagef("no region to sign for: pass --region or set AWS_REGION")
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("no AWS credentials to sign the request: set AWS_PROFILE (after aws sso login or aws configure) "+
			"or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; on EC2, pass --imds to use the instance role (%v)", err)
	}
	return &reportsClient{base: base, region: cfg.Region, creds: cfg.Credentials, signer: v4.NewSigner(),
		http: &http.Client{Timeout: 2 * time.Minute}, now: time.Now}, nil
}

// get fetches one page.
func (c *reportsClient) get(ctx context.Context, params url.Values) (*apiPage, error) {
	u := *c.base
	u.Path += "/v1/report"
	u.RawQuery = params.Encode()
	if c.creds == nil {
		return nil, errors.New("no AWS credentials found (environment, shared config, SSO or instance role)")
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		creds, err := c.creds.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("AWS credentials: %w", err)
		}
		if err := c.signer.SignHTTP(ctx, creds, req, emptyPayloadHash, "execute-api", c.region, c.now()); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("reports API: %w", err)
		}
		if resp.StatusCode == http.StatusOK {
			var p apiPage
			err := json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("reports API: read page: %w", err)
			}
			return &p, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		retry := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusBadGateway ||
			resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout
		if retry && attempt < 3 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(1<<attempt) * 500 * time.Millisecond):
			}
			continue
		}
		return nil, fmt.Errorf("reports API: %s: %s", resp.Status, apiMessage(body))
	}
}

// apiMessage reads the message of an error body: the reports function's
// {"error"} or API Gateway's {"message"}.
func apiMessage(body []byte) string {
	var m struct{ Error, Message string }
	if json.Unmarshal(body, &m) == nil && (m.Error != "" || m.Message != "") {
		return m.Error + m.Message
	}
	return strings.TrimSpace(string(body))
}

// fetch renders the report of a deployed reports API: the first page gives
// the header (verification, summary), then the entries are written page by
// page, following next_cursor.
func (r *reportFlags) fetch(ctx context.Context, region string, stdout, stderr io.Writer) error {
	if _, err := r.check(); err != nil {
		return err
	}
	c, err := newReportsClient(ctx, r.endpoint, region, r.imds)
	if err != nil {
		return err
	}
	params := url.Values{"format": {"json"}, "limit": {strconv.Itoa(remotePageSize)}}
	for k, v := range r.params() {
		if v != "" {
			params.Set(k, v)
		}
	}
	if r.subject != "" {
		params.Set("subject", r.subject) // the API hashes it with the deployment's key
	}
	page, err := c.get(ctx, params)
	if err != nil {
		return err
	}
	h := page.Header
	entries := 0
	src := func(fn func(*ledger.Entry) error) error {
		for {
			for i := range page.Entries {
				if err := fn(&page.Entries[i]); err != nil {
					return err
				}
				entries++
			}
			if page.NextCursor == "" {
				return nil
			}
			params.Set("cursor", page.NextCursor)
			if page, err = c.get(ctx, params); err != nil {
				return err
			}
		}
	}
	w, done, err := r.create(stdout)
	if err != nil {
		return err
	}
	err = report.Write(w, r.format, &h, src)
	if derr := done(); err == nil {
		err = derr
	}
	if err != nil {
		return err
	}
	return r.written(stdout, stderr, &h, entries)
}
