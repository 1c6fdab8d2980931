package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	ledgerfn "github.com/residency-dev/residency/functions/ledger"
	"github.com/residency-dev/residency/functions/reports"
	"github.com/residency-dev/residency/shared/local"
)

// Limits of the Lambda Invoke API.
const (
	maxSyncPayload  = 6 << 20
	maxAsyncPayload = 1 << 20
	localAccount    = "000000000000"
)

// server serves the local stack to real clients on loopback: the Lambda
// Invoke API, the reports API at its deployed paths, and the retention
// schedule.
type server struct {
	stack   *local.Stack
	reports *reports.Handler
	log     *slog.Logger
	region  string // of per-region functions invoked without one

	mu    sync.Mutex // the stack is not safe for concurrent use
	async sync.WaitGroup
}

func newServer(s *local.Stack, log *slog.Logger, region string) *server {
	return &server{
		stack: s, log: log, region: region,
		// Reports only read the store, which is safe for concurrent use:
		// they need not wait for invocations.
		reports: &reports.Handler{Ledger: s.Store, Holds: s.Store, Refs: s.Refs, Now: s.Now, Log: log, Digests: s.Digests,
			Policy: s.Policy, Catalog: s.Store},
	}
}

// checkLoopback refuses an address other than a loopback one: the local
// stack has no authentication.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--addr %q: use host:port, e.g. 127.0.0.1:9000", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usagef("--addr %q: serve listens on loopback only (127.0.0.1, ::1 or localhost): the local stack has no authentication", addr)
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("serve", stderr)
	var addr, region string
	var every time.Duration
	fs.StringVar(&addr, "addr", "127.0.0.1:9000", "listen address, loopback only")
	fs.DurationVar(&every, "sweep-every", time.Hour, "run the retention sweep this often (0: never)")
	fs.StringVar(&region, "region", "", "region of per-region functions invoked without one (default: the policy's first)")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if err := checkLoopback(addr); err != nil {
		return err
	}
	if every < 0 {
		return usagef("--sweep-every %s: use a positive duration, or 0 to never sweep", every)
	}
	levelSet := false
	fs.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
	if !levelSet {
		c.logLevel = "info" // serve's output is its log
	}
	s, err := c.stack()
	if err != nil {
		return err
	}
	defer c.close()
	region = policyRegion(s.Policy, region)
	if err := checkRegion(s.Policy, region); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return newServer(s, s.Log, region).serve(ctx, ln, every)
}

// serve answers on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets running requests and event invocations finish, and stops
// the schedule.
func (sv *server) serve(ctx context.Context, ln net.Listener, every time.Duration) error {
	srv := &http.Server{Handler: sv.handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(sv.log.Handler(), slog.LevelWarn)}
	sv.log.Info("listening", "addr", "http://"+ln.Addr().String(), "functions", local.Functions, "regions", sv.stack.Policy.Regions,
		"default_region", sv.region, "sweep_every", every.String())
	var sched sync.WaitGroup
	schedCtx, stopSched := context.WithCancel(context.WithoutCancel(ctx))
	if every > 0 {
		sched.Add(1)
		go func() {
			defer sched.Done()
			sv.schedule(schedCtx, every)
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sv.log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	stopSched()
	sched.Wait()
	sv.async.Wait()
	sv.log.Info("stopped")
	return err
}

// schedule runs the retention sweep every period, as the stack's
// EventBridge Scheduler rate does.
func (sv *server) schedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sv.sweep(ctx)
		}
	}
}

func (sv *server) sweep(ctx context.Context) {
	sv.mu.Lock()
	rs, err := sv.stack.Sweep(ctx, sv.stack.Now())
	var ds []ledgerfn.DigestResult
	if err == nil {
		// As the ledger function's hourly schedule does on AWS.
		ds, err = sv.stack.SignDigests(ctx, false)
	}
	sv.mu.Unlock()
	if err != nil {
		sv.log.ErrorContext(ctx, "scheduled sweep failed", "error", err.Error())
		return
	}
	for _, d := range ds {
		sv.log.InfoContext(ctx, "digest signed", "region", d.Region, "from_seq", d.FromSeq, "to_seq", d.ToSeq, "key_id", d.KeyID)
	}
	t := totals(rs)
	sv.log.InfoContext(ctx, "scheduled sweep", "due", t.Due, "deleted", t.Deleted, "held", t.Held, "emitted", t.Emitted, "items_read", t.ItemsRead)
}

func (sv *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2015-03-31/functions/{name}/invocations", sv.invoke)
	mux.HandleFunc("/v1/", sv.reportsAPI)
	mux.HandleFunc("GET /{$}", sv.index)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONStatus(w, http.StatusNotFound, map[string]string{"message": "no such path: use POST /2015-03-31/functions/{name}/invocations, GET /v1/report, GET /v1/verify or GET /v1/proof"})
	})
	return sv.logRequests(mux)
}

func (sv *server) index(w http.ResponseWriter, r *http.Request) {
	writeJSONStatus(w, http.StatusOK, map[string]any{
		"functions": local.Functions, "regions": sv.stack.Policy.Regions, "default_region": sv.region,
		"invoke":  "POST /2015-03-31/functions/{name}/invocations ({name}: tagger or tagger-eu-central-1; ?region= also works)",
		"reports": []string{"GET /v1/report?from=&to=&kind=&destination=&mechanism=&subject=&format=json|csv|html|table&limit=&cursor=", "GET /v1/verify", "GET /v1/proof?region=&seq= (or &from_size=&to_size=)"},
	})
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// statusWriter remembers the status a handler wrote, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type requestIDKey struct{}

// logRequests gives every request an ID (the x-amzn-RequestId header) and
// logs it: method, path (never the query, which may name a subject),
// status and duration.
func (sv *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := newRequestID()
		w.Header().Set("X-Amzn-Requestid", id)
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		sv.log.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", time.Since(start).Milliseconds())
	})
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// lambdaError answers as the Lambda API does for a request it refuses.
func lambdaError(w http.ResponseWriter, status int, errType, msg string) {
	w.Header().Set("X-Amzn-Errortype", errType)
	writeJSONStatus(w, status, map[string]string{"Type": "User", "message": msg})
}

func arn(region, function string) string {
	return "arn:aws:lambda:" + region + ":" + localAccount + ":function:" + function
}

// resolve reads the function and region an Invoke names: "tagger-eu-central-1"
// or a function ARN name their region; for "tagger", the region is ?region=,
// else the request's SigV4 credential scope (the AWS CLI's --region), else
// the server's default (serve --region, else the policy's first).
func (sv *server) resolve(name, queryRegion, scopeRegion string) (function, region string, err error) {
	arnRegion := ""
	if strings.HasPrefix(name, "arn:") {
		parts := strings.Split(name, ":") // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
		if len(parts) < 7 || parts[2] != "lambda" || parts[5] != "function" {
			return "", "", fmt.Errorf("function not found: %s", name)
		}
		name, arnRegion = parts[6], parts[3]
	}
	for _, f := range local.Functions {
		if name == f {
			function = f
			break
		}
		if r, ok := strings.CutPrefix(name, f+"-"); ok {
			function, region = f, r
			break
		}
	}
	if function == "" {
		return "", "", fmt.Errorf("function not found: %s (functions: %s, optionally suffixed -<region>)", arn(sv.region, name), strings.Join(local.Functions, ", "))
	}
	for _, r := range []string{arnRegion, queryRegion, scopeRegion, sv.region} {
		if region == "" {
			region = r
		}
	}
	if !sv.stack.Policy.HasRegion(region) {
		return "", "", fmt.Errorf("function not found: %s (regions of this deployment: %s)", arn(region, function), strings.Join(sv.stack.Policy.Regions, ", "))
	}
	return function, region, nil
}

// invoke serves the Lambda Invoke API: POST
// /2015-03-31/functions/{name}/invocations with the payload as body.
func (sv *server) invoke(w http.ResponseWriter, r *http.Request) {
	function, region, err := sv.resolve(r.PathValue("name"), r.URL.Query().Get("region"), credentialScopeRegion(r.Header.Get("Authorization")))
	if err != nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", err.Error())
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSyncPayload))
	if err != nil {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("request must be smaller than %d bytes for the Invoke operation", maxSyncPayload))
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	id := requestID(r.Context())
	log := sv.log.With("request_id", id, "function", function, "region", region)
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	switch t := r.Header.Get("X-Amz-Invocation-Type"); t {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "Event":
		if len(payload) > maxAsyncPayload {
			lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", fmt.Sprintf("request must be smaller than %d bytes for an Event invocation", maxAsyncPayload))
			return
		}
		sv.async.Add(1)
		ctx := context.WithoutCancel(r.Context())
		go func() {
			defer sv.async.Done()
			if _, err := sv.call(ctx, function, region, id, payload); err != nil {
				// Lambda would retry, then send it to the on-failure destination.
				log.ErrorContext(ctx, "event invocation failed", "error", err.Error())
				sv.mu.Lock()
				sv.stack.Failed(ctx, function, region, "event invocation "+id, err)
				sv.mu.Unlock()
			}
		}()
		w.WriteHeader(http.StatusAccepted)
	case "", "RequestResponse":
		out, err := sv.call(context.WithoutCancel(r.Context()), function, region, id, payload)
		if err != nil {
			log.Warn("function error", "error_type", errorType(err))
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			writeJSONStatus(w, http.StatusOK, map[string]string{"errorMessage": err.Error(), "errorType": errorType(err)})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(out)
	default:
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", fmt.Sprintf("X-Amz-Invocation-Type %q: use RequestResponse, Event or DryRun", t))
	}
}

// call runs one function's handler on a payload: reports directly (it only
// reads), the others through the stack, one at a time, then delivers what
// they caused. The error is the handler's; a failure to deliver what a
// successful invocation caused is logged, not returned.
func (sv *server) call(ctx context.Context, function, region, id string, payload []byte) (out []byte, err error) {
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id, InvokedFunctionArn: arn(region, function)})
	defer func() {
		if p := recover(); p != nil {
			err = messages.InvokeResponse_Error{Message: fmt.Sprint(p), Type: errorType(p)}
		}
	}()
	if function == "reports" {
		return lambda.NewHandler(sv.reports.Invoke).Invoke(ctx, payload)
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	out, err = sv.stack.Invoke(ctx, function, region, payload)
	if err != nil && out != nil {
		sv.log.ErrorContext(ctx, "delivering what the invocation caused failed", "request_id", id, "function", function, "error", err.Error())
		return out, nil
	}
	return out, err
}

// errorType names an error as the Lambda Go runtime does: its type's name.
func errorType(v any) string {
	var ive messages.InvokeResponse_Error
	if err, ok := v.(error); ok && errors.As(err, &ive) {
		return ive.Type
	}
	t := reflect.TypeOf(v)
	if t == nil {
		return "error"
	}
	if t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	return t.Name()
}

// reportsAPI serves /v1/... as API Gateway does for the reports function:
// the HTTP request becomes an APIGatewayV2HTTPRequest (payload format 2.0),
// the handler's response becomes the HTTP response.
func (sv *server) reportsAPI(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
	if err != nil {
		writeJSONStatus(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "Request Entity Too Large"})
		return
	}
	req := apiRequest(r, requestID(r.Context()), time.Now(), body)
	ctx := lambdacontext.NewContext(r.Context(), &lambdacontext.LambdaContext{AwsRequestID: req.RequestContext.RequestID, InvokedFunctionArn: arn(sv.region, "reports")})
	resp, err := sv.reports.HandleHTTP(ctx, req)
	if err != nil {
		sv.log.ErrorContext(ctx, "reports function failed", "error", err.Error())
		writeJSONStatus(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
		return
	}
	writeAPIResponse(w, resp)
}

// apiRequest translates an HTTP request as API Gateway's HTTP API does.
func apiRequest(r *http.Request, id string, now time.Time, body []byte) lambdaevents.APIGatewayV2HTTPRequest {
	headers := map[string]string{"host": r.Host}
	for k, vs := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var query map[string]string
	if vals := r.URL.Query(); len(vals) > 0 {
		query = map[string]string{}
		for k, vs := range vals {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	delete(headers, "cookie")
	sourceIP, _, _ := net.SplitHostPort(r.RemoteAddr)
	route := r.Method + " " + r.URL.Path
	req := lambdaevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery, Cookies: cookies,
		Headers: headers, QueryStringParameters: query,
		RequestContext: lambdaevents.APIGatewayV2HTTPRequestContext{
			RouteKey: route, AccountID: localAccount, Stage: "$default", RequestID: id, APIID: "local",
			DomainName: r.Host, DomainPrefix: strings.Split(r.Host, ".")[0],
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: lambdaevents.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: sourceIP, UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		req.Body = base64.StdEncoding.EncodeToString(body)
		req.IsBase64Encoded = true
	}
	return req
}

// writeAPIResponse writes a payload format 2.0 response.
func writeAPIResponse(w http.ResponseWriter, resp lambdaevents.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(body)
}

// credentialScopeRegion is the region of a SigV4 Authorization header's
// credential scope ("AWS4-HMAC-SHA256 Credential=AKID/20261202/us-east-1/lambda/aws4_request, ..."),
// or "".
func credentialScopeRegion(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[2]
}
