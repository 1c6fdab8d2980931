package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects logs written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// testServer starts `serve` in-process on 127.0.0.1:0 over the store db and
// returns its server and base URL; it stops with the test.
func testServer(t *testing.T, db string, every time.Duration) (*server, string, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	fs, c := newFlags("serve", logs)
	if _, err := parse(fs, []string{"--db", db, "--now", "2026-11-22T12:00:00Z", "--log-level", "info"}); err != nil {
		t.Fatal(err)
	}
	s, err := c.stack()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sv := newServer(s, s.Log, s.Policy.Regions[0])
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sv.serve(ctx, ln, every) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("expect a clean shutdown, got %v", err)
		}
		s.Store.Close()
	})
	return sv, "http://" + ln.Addr().String(), logs
}

// awsCLI runs the AWS CLI against the local server, with throwaway
// credentials and no configuration of the machine's.
func awsCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command("aws", args...)
	dir := t.TempDir()
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_DEFAULT_REGION=eu-central-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_PAGER=", "AWS_MAX_ATTEMPTS=1", "AWS_EC2_METADATA_DISABLED=true")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

func TestServeWithTheAWSCLI(t *testing.T) {
	for _, tool := range []string{"aws", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not on PATH under CI: the serve tests need it as a real client", tool)
			}
			t.Skipf("%s is not on PATH: install it to drive `serve` as a real client (CI has it)", tool)
		}
	}
	_, base, logs := testServer(t, filepath.Join(t.TempDir(), "s.db"), 0)
	_, version, _ := awsCLI(t, "--version")
	binary := []string{}
	if strings.HasPrefix(version, "aws-cli/2") {
		binary = []string{"--cli-binary-format", "raw-in-base64-out"}
	}
	invoke := func(t *testing.T, function, payload string, extra ...string) (int, map[string]any, string, string) {
		out := filepath.Join(t.TempDir(), "out.json")
		args := append([]string{"lambda", "invoke", "--endpoint-url", base, "--function-name", function}, binary...)
		if payload != "" {
			args = append(args, "--payload", "fileb://"+payload)
		}
		args = append(append(args, extra...), out)
		code, stdout, stderr := awsCLI(t, args...)
		var meta map[string]any
		json.Unmarshal([]byte(stdout), &meta)
		body, _ := os.ReadFile(out)
		return code, meta, string(body), stderr
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"detail-type":"Transfer Requested","source":"x","detail":{"transfer_id":"t"}}`), 0o644)

	cases := map[string]struct {
		function, payload string
		extra             []string
		code              int
		status            float64
		functionError     string
		body, stderr      string
	}{
		"denied transfer": {"router", "events/samples/eventbridge-transfer-requested-denied.json", nil, 0, 200, "", "null", ""},
		"region suffix":   {"router-eu-west-1", "events/samples/eventbridge-transfer-requested-scc.json", nil, 0, 200, "", "null", ""},
		"function ARN": {"arn:aws:lambda:eu-central-1:000000000000:function:ledger", "events/samples/sqs-ledger-entry.json", nil, 0, 200, "",
			`"batchItemFailures"`, ""},
		"handler error":  {"router", bad, nil, 0, 200, "Unhandled", `"errorMessage":"router: Transfer Requested : invalid event: missing required field \"source\""`, ""},
		"event":          {"router", "events/samples/eventbridge-transfer-requested-dpf.json", []string{"--invocation-type", "Event"}, 0, 202, "", "", ""},
		"dry run":        {"router", "events/samples/eventbridge-transfer-requested-dpf.json", []string{"--invocation-type", "DryRun"}, 0, 204, "", "", ""},
		"unknown":        {"mailer", "", nil, 255, 0, "", "", "ResourceNotFoundException"},
		"unknown region": {"tagger-ap-south-1", "", nil, 255, 0, "", "", "ResourceNotFoundException"},
	}
	t.Run("invoke", func(t *testing.T) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				t.Parallel() // the server serializes them; the CLI's start-up is what takes time
				code, meta, body, stderr := invoke(t, c.function, c.payload, c.extra...)
				if code != c.code || !strings.Contains(stderr, c.stderr) {
					t.Fatalf("expect exit %d with %q on stderr, got %d: %s", c.code, c.stderr, code, stderr)
				}
				if code != 0 {
					return
				}
				if meta["StatusCode"] != c.status || (meta["FunctionError"] != nil) != (c.functionError != "") ||
					(c.functionError != "" && meta["FunctionError"] != c.functionError) {
					t.Fatalf("expect StatusCode %v FunctionError %q, got %v", c.status, c.functionError, meta)
				}
				if !strings.Contains(body, c.body) {
					t.Fatalf("expect the response to hold %q, got %s", c.body, body)
				}
			})
		}
	})

	// A stream batch through the tagger of the CLI's region is applied to
	// the local table first, as on AWS: the misplaced record is tagged and
	// relocated, and the report shows both.
	t.Run("misplaced stream record", func(t *testing.T) {
		code, meta, body, stderr := invoke(t, "tagger", "events/samples/dynamodb-insert-misplaced.json", "--region", "us-east-1")
		if code != 0 || meta["StatusCode"] != float64(200) || meta["FunctionError"] != nil || strings.Contains(body, "itemIdentifier") {
			t.Fatalf("expect the batch tagged, got exit %d %v %s %s", code, meta, body, stderr)
		}
		out, err := exec.Command("curl", "-sS", "-f", base+"/v1/report?format=csv&kind=violation,relocation").Output()
		if err != nil {
			t.Fatalf("curl /v1/report: %v", err)
		}
		for _, want := range []string{",violation,us-east-1,users,", ",relocation,us-east-1,users,", ",relocated,"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("expect the report to show %q, got:\n%s", want, out)
			}
		}
	})

	// The event invocation ran after its 202: wait for its ledger entry.
	var csvOut string
	for range 100 {
		out, err := exec.Command("curl", "-sS", "-f", base+"/v1/report?format=csv&kind=transfer,denial").Output()
		if err != nil {
			t.Fatalf("curl /v1/report: %v", err)
		}
		if csvOut = string(out); strings.Count(csvOut, "\n") >= 5 { // header, denial, scc, sqs scc, dpf
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"seq,id,time,kind", ",denial,eu-central-1,", ",scc,", ",dpf,"} {
		if !strings.Contains(csvOut, want) {
			t.Errorf("expect the report to show %q, got:\n%s", want, csvOut)
		}
	}
	headers, err := exec.Command("curl", "-sS", "-f", "-D", "-", "-o", "/dev/null", base+"/v1/report?format=csv&limit=1").Output()
	if err != nil || !strings.Contains(string(headers), "X-Next-Cursor: ") || !strings.Contains(string(headers), `rel="next"`) {
		t.Fatalf("expect the next page's cursor in the headers, got %v:\n%s", err, headers)
	}
	verify, err := exec.Command("curl", "-sS", "-f", base+"/v1/verify").Output()
	if err != nil || !strings.Contains(string(verify), `"verified": true`) {
		t.Fatalf("expect a verified ledger, got %v %s", err, verify)
	}
	proof, _ := exec.Command("curl", "-sS", base+"/v1/proof?region=eu-central-1&seq=1").Output()
	// The proof route is served; nothing is signed yet in this run.
	if !strings.Contains(string(proof), "has no signed checkpoint") {
		t.Fatalf("expect the proof route to say nothing is signed yet, got %s", proof)
	}
	if out, _ := exec.Command("curl", "-sS", base+"/v1/secrets").Output(); !strings.Contains(string(out), "no such path") {
		t.Fatalf("expect 404 for an unknown report path, got %s", out)
	}
	for _, want := range []string{`"msg":"listening"`, `"path":"/2015-03-31/functions/router/invocations","status":200`, `"status":404`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("expect the log to hold %s", want)
		}
	}
	if strings.Contains(logs.String(), "kind=transfer") {
		t.Error("expect no query string in the logs (it may name a subject)")
	}
}

func TestServeRefusesNonLoopback(t *testing.T) {
	cases := map[string]struct {
		addr string
		code int
	}{
		"all interfaces":  {"0.0.0.0:9000", exitUsage},
		"no host":         {":9000", exitUsage},
		"public address":  {"203.0.113.7:9000", exitUsage},
		"IPv6 any":        {"[::]:9000", exitUsage},
		"hostname":        {"example.com:9000", exitUsage},
		"not an address":  {"9000", exitUsage},
		"negative period": {"127.0.0.1:0 --sweep-every -1s", exitUsage},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"serve", "--db", filepath.Join(t.TempDir(), "s.db"), "--addr"}, strings.Fields(c.addr)...)
			code, _, errs := cli(t, args...)
			if code != c.code || (!strings.Contains(errs, "loopback") && !strings.Contains(errs, "host:port") && !strings.Contains(errs, "sweep-every")) {
				t.Fatalf("expect exit %d and a clear refusal, got %d: %s", c.code, code, errs)
			}
		})
	}
	for _, ok := range []string{"127.0.0.1:9000", "[::1]:9000", "localhost:9000", "127.1.2.3:0"} {
		if err := checkLoopback(ok); err != nil {
			t.Errorf("expect %s accepted, got %v", ok, err)
		}
	}
}

// The schedule sweeps every period; shutting down waits for running work.
func TestServeScheduleAndShutdown(t *testing.T) {
	db := runSamples(t)
	_, base, logs := testServer(t, db, 20*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), `"msg":"scheduled sweep"`) {
		if time.Now().After(deadline) {
			t.Fatalf("expect a scheduled sweep in the log, got:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `"held":1`) {
		t.Errorf("expect the sweep to report the held record")
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"default_region":"eu-central-1"`) {
		t.Fatalf("expect the index to describe the server, got %s", b)
	}
}

// resolve maps function names as the Invoke API receives them.
func TestResolveFunctionNames(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	fs, c := newFlags("serve", io.Discard)
	parse(fs, []string{"--db", db})
	s, err := c.stack()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	sv := newServer(s, s.Log, "eu-west-1")
	cases := map[string]struct {
		name, query      string
		function, region string
		err              bool
		scope            string // the SigV4 credential scope's region
	}{
		"plain":             {"tagger", "", "tagger", "eu-west-1", false, ""},
		"CLI region":        {"tagger", "", "tagger", "us-east-1", false, "us-east-1"},
		"query over scope":  {"tagger", "eu-central-1", "tagger", "eu-central-1", false, "us-east-1"},
		"suffix over scope": {"tagger-eu-central-1", "", "tagger", "eu-central-1", false, "us-east-1"},
		"scope not ours":    {"tagger", "", "", "", true, "ap-south-1"},
		"suffix":            {"tagger-us-east-1", "", "tagger", "us-east-1", false, ""},
		"query":             {"retention", "eu-central-1", "retention", "eu-central-1", false, ""},
		"suffix wins":       {"router-us-east-1", "eu-central-1", "router", "us-east-1", false, ""},
		"ARN":               {"arn:aws:lambda:us-east-1:000000000000:function:router", "", "router", "us-east-1", false, ""},
		"ARN and suffix":    {"arn:aws:lambda:us-east-1:000000000000:function:router-eu-central-1:$LATEST", "", "router", "eu-central-1", false, ""},
		"global function":   {"ledger", "", "ledger", "eu-west-1", false, ""},
		"unknown":           {"mailer", "", "", "", true, ""},
		"unknown region":    {"tagger-mars-north-1", "", "", "", true, ""},
		"region not ours":   {"tagger", "ap-south-1", "", "", true, ""},
		"not a lambda ARN":  {"arn:aws:sqs:us-east-1:000000000000:queue", "", "", "", true, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f, r, err := sv.resolve(c.name, c.query, c.scope)
			if (err != nil) != c.err || f != c.function || r != c.region {
				t.Fatalf("expect %q %q (error %v), got %q %q %v", c.function, c.region, c.err, f, r, err)
			}
		})
	}
}

func TestCredentialScopeRegion(t *testing.T) {
	for auth, want := range map[string]string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc": "us-east-1",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/eusc-de-east-1/lambda/aws4_request":                                          "eusc-de-east-1",
		"": "", "Bearer x": "", "AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1": "",
	} {
		if got := credentialScopeRegion(auth); got != want {
			t.Errorf("%q: expect %q, got %q", auth, want, got)
		}
	}
}
