package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func TestReportHTML(t *testing.T) {
	db := runSamples(t)
	out := filepath.Join(t.TempDir(), "report.html")
	code, stdout, errs := cli(t, "report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "html", "--out", out)
	if code != 0 || !strings.Contains(stdout, "report written to "+out+" (16 entries)") {
		t.Fatalf("expect the HTML report written, got %d %s %s", code, stdout, errs)
	}
	b, _ := os.ReadFile(out)
	page := string(b)
	for _, want := range []string{"<!DOCTYPE html>", `<figure id="flows">`, `<figure id="violations">`, `<figure id="exposure">`, `<figure id="deletions">`, "hold-2026-031",
		"relocated to eu-central-1", `<span class="badge ok">Verified</span>`} {
		if !strings.Contains(page, want) {
			t.Errorf("expect %q in the page", want)
		}
	}
	if strings.Count(page, "<svg") != 4 || regexp.MustCompile(`https?://`).MatchString(page) {
		t.Fatalf("expect 4 charts (the samples relocate a record with a write time: exposure is charted) and no network reference")
	}
	for _, pii := range []string{"u-1001", "u-0042", "USER#", "@example"} {
		if strings.Contains(page, pii) {
			t.Errorf("expect no %q in the report", pii)
		}
	}
}

var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// sigV4 lets through only requests signed with creds for execute-api in
// region, as API Gateway's AWS_IAM authorization does: it signs the request
// again from the headers it names and compares.
func sigV4(t *testing.T, creds aws.Credentials, region string, signed *atomic.Int32, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deny := func(msg string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"message":"` + msg + `"}`))
		}
		m := authorization.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			deny("Missing Authentication Token")
			return
		}
		if m[1] != creds.AccessKeyID || m[3] != region || m[4] != "execute-api" {
			deny("Credential should be scoped to a valid region and service")
			return
		}
		at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
		if err != nil || time.Since(at).Abs() > 5*time.Minute {
			deny("Signature expired")
			return
		}
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), nil)
		for _, h := range strings.Split(m[5], ";") {
			if h != "host" {
				again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
			}
		}
		empty := sha256.Sum256(nil)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(empty[:]), "execute-api", region, at); err != nil {
			t.Error(err)
		}
		if again.Header.Get("Authorization") != r.Header.Get("Authorization") {
			deny("The request signature we calculated does not match the signature you provided.")
			return
		}
		signed.Add(1)
		next.ServeHTTP(w, r)
	})
}

// awsEnv gives the SDK's default chain static credentials and nothing of the
// machine's configuration.
func awsEnv(t *testing.T, key, secret string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": "",
		"AWS_DEFAULT_REGION": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
}

func TestReportFromEndpoint(t *testing.T) {
	db := runSamples(t)
	sv, _, _ := testServer(t, db, 0)
	creds := aws.Credentials{AccessKeyID: "AKIDRESIDENCYTEST", SecretAccessKey: "residency-test-secret"}
	var signed atomic.Int32
	api := httptest.NewServer(sigV4(t, creds, "eu-central-1", &signed, sv.handler()))
	defer api.Close()
	awsEnv(t, creds.AccessKeyID, creds.SecretAccessKey)

	local := func(args ...string) string {
		code, out, errs := cli(t, append([]string{"report", "--db", db, "--now", "2026-11-22T12:00:00Z"}, args...)...)
		if code != 0 {
			t.Fatalf("local report: exit %d: %s", code, errs)
		}
		return out
	}
	cases := map[string][]string{
		"csv":          {"--format", "csv"},
		"json":         {"--format", "json"},
		"table":        {"--format", "table"},
		"html":         {"--format", "html"},
		"filtered csv": {"--format", "csv", "--kind", "transfer,denial", "--destination", "US"},
		"period json":  {"--format", "json", "--from", "2026-11-21", "--to", "2026-11-21"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			before := signed.Load()
			code, out, errs := cli(t, append([]string{"report", "--endpoint", api.URL, "--region", "eu-central-1"}, args...)...)
			if code != 0 {
				t.Fatalf("expect exit 0, got %d: %s", code, errs)
			}
			if signed.Load() == before {
				t.Fatal("expect signed requests")
			}
			if want := local(args...); out != want {
				t.Fatalf("expect the endpoint's report to be the local one, got:\n%.1500s\nwant:\n%.1500s", out, want)
			}
		})
	}
	t.Run("pages", func(t *testing.T) {
		orig := remotePageSize
		t.Cleanup(func() { remotePageSize = orig })
		remotePageSize = 2
		before := signed.Load()
		code, out, errs := cli(t, "report", "--endpoint", api.URL+"/", "--region", "eu-central-1", "--format", "csv")
		if code != 0 || out != local("--format", "csv") || signed.Load()-before != 8 {
			t.Fatalf("expect the 16 entries in 8 signed pages of 2, got %d requests, exit %d %s", signed.Load()-before, code, errs)
		}
	})
	t.Run("region from the environment", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-central-1")
		if code, _, errs := cli(t, "report", "--endpoint", api.URL, "--format", "csv"); code != 0 {
			t.Fatalf("expect exit 0, got %d: %s", code, errs)
		}
	})
	t.Run("errors", func(t *testing.T) {
		cases := map[string]struct {
			env  [2]string
			args []string
			code int
			msg  string
		}{
			"wrong secret":   {[2]string{creds.AccessKeyID, "wrong"}, []string{"--region", "eu-central-1"}, exitFail, "403 Forbidden: The request signature we calculated does not match"},
			"wrong region":   {[2]string{creds.AccessKeyID, creds.SecretAccessKey}, []string{"--region", "us-east-1"}, exitFail, "403 Forbidden: Credential should be scoped"},
			"no region":      {[2]string{creds.AccessKeyID, creds.SecretAccessKey}, nil, exitUsage, "no region"},
			"bad period":     {[2]string{creds.AccessKeyID, creds.SecretAccessKey}, []string{"--region", "eu-central-1", "--from", "2026-12-01", "--to", "2026-11-01"}, exitUsage, "from must be before to"},
			"bad endpoint":   {[2]string{creds.AccessKeyID, creds.SecretAccessKey}, []string{"--region", "eu-central-1", "--endpoint", "ftp://x"}, exitUsage, "--endpoint"},
			"unknown format": {[2]string{creds.AccessKeyID, creds.SecretAccessKey}, []string{"--region", "eu-central-1", "--format", "pdf"}, exitUsage, "pdf"},
		}
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				awsEnv(t, c.env[0], c.env[1])
				code, _, errs := cli(t, append([]string{"report", "--endpoint", api.URL}, c.args...)...)
				if code != c.code || !strings.Contains(errs, c.msg) {
					t.Fatalf("expect exit %d naming %q, got %d: %s", c.code, c.msg, code, errs)
				}
			})
		}
	})
}

func TestEndpointRegion(t *testing.T) {
	cases := map[string]string{
		"https://r7x2k9q4vd.execute-api.eu-central-1.amazonaws.com":      "eu-central-1",
		"https://abc.execute-api.us-gov-west-1.amazonaws.com/prod":       "us-gov-west-1",
		"https://abc.execute-api.cn-north-1.amazonaws.com.cn":            "cn-north-1",
		"https://reports.example.com":                                    "",
		"https://abc.execute-api.eu-central-1.amazonaws.com.example.org": "",
	}
	for endpoint, want := range cases {
		host := strings.Split(strings.TrimPrefix(endpoint, "https://"), "/")[0]
		got := ""
		if m := apiHost.FindStringSubmatch(host); m != nil {
			got = m[1]
		}
		if got != want {
			t.Errorf("%s: expect region %q, got %q", endpoint, want, got)
		}
	}
}

// TestReportEndpointWithoutCredentials: from a laptop without credentials,
// report --endpoint fails at once saying how to give them, and never asks
// the instance metadata service (here a local stand-in that counts its
// requests) unless --imds says so.
func TestReportEndpointWithoutCredentials(t *testing.T) {
	var asked atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, "no role here", http.StatusNotFound)
	}))
	defer imds.Close()
	awsEnv(t, "", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
	t.Setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "")
	t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "")
	endpoint := "https://abc123.execute-api.eu-central-1.amazonaws.com"
	code, _, errs := cli(t, "report", "--endpoint", endpoint)
	if code != exitFail || !strings.Contains(errs, "no AWS credentials") || !strings.Contains(errs, "AWS_PROFILE") || !strings.Contains(errs, "--imds") {
		t.Fatalf("expect exit 1 naming how to give credentials, got %d %s", code, errs)
	}
	if n := asked.Load(); n != 0 {
		t.Fatalf("expect the instance metadata service never asked, got %d requests", n)
	}
	if code, _, errs := cli(t, "report", "--endpoint", endpoint, "--imds"); code != exitFail || asked.Load() == 0 {
		t.Fatalf("expect --imds to ask the instance metadata service, got exit %d, %d requests: %s", code, asked.Load(), errs)
	}
}

// TestSubjectReportHoldsAreTheSubjects: a report about one subject lists
// that subject's holds and the holds on its records, never another
// subject's (a hold's reason may name a court case).
func TestSubjectReportHoldsAreTheSubjects(t *testing.T) {
	db := runSamples(t)
	holds := func(args ...string) []string {
		t.Helper()
		code, out, errs := cli(t, append([]string{"report", "--db", db, "--now", "2026-11-22T12:00:00Z", "--format", "json"}, args...)...)
		var rep struct {
			Holds []struct {
				ID string `json:"hold_id"`
			} `json:"holds"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("expect a JSON report, got %d %s", code, errs)
		}
		var ids []string
		for _, h := range rep.Holds {
			ids = append(ids, h.ID)
		}
		return ids
	}
	if got := holds(); len(got) != 1 || got[0] != "hold-2026-031" {
		t.Fatalf("expect the hold in force on u-0043 in the full report, got %v", got)
	}
	if got := holds("--subject", "u-1001"); len(got) != 0 {
		t.Errorf("expect no hold in u-1001's report, got %v", got)
	}
	if got := holds("--subject", "u-0043"); len(got) != 1 || got[0] != "hold-2026-031" {
		t.Errorf("expect u-0043's own hold in its report, got %v", got)
	}
}
