package mototest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

var (
	once     sync.Once
	endpoint string
	proc     *exec.Cmd
	startErr error
)

// Run runs the package's tests and stops moto_server afterwards; call it
// from TestMain: os.Exit(mototest.Run(m)).
func Run(m *testing.M) int {
	code := m.Run()
	if proc != nil && proc.Process != nil {
		proc.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { proc.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			proc.Process.Kill()
		}
	}
	return code
}

// Endpoint returns the URL of the package's moto_server, starting it on
// first use.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	once.Do(start)
	if startErr != nil {
		if os.Getenv("CI") == "" {
			tb.Skipf("moto_server unavailable (%v): install moto (pip install 'moto[server]') to run the AWS adapter tests", startErr)
		}
		tb.Fatalf("moto_server unavailable under CI: %v", startErr)
	}
	return endpoint
}

func start() {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		startErr = err
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		startErr = err
		return
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	proc = exec.Command(path, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	proc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	proc.Stdout, proc.Stderr = nil, nil
	if err := proc.Start(); err != nil {
		startErr = err
		return
	}
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	startErr = fmt.Errorf("moto_server did not answer on %s within 60s", endpoint)
}

// serialized sends one request at a time to moto_server. moto handles
// requests in threads without isolation: a DynamoDB transaction that fails
// restores a snapshot of the whole table taken when it began, undoing any
// write that committed meanwhile. DynamoDB serializes conflicting writes;
// serializing the requests gives moto the same semantics, while the callers
// still race (their reads and writes interleave).
type serialized struct {
	mu   sync.Mutex
	next http.RoundTripper
}

func (s *serialized) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next.RoundTrip(r)
}

var client = &http.Client{Transport: &serialized{next: http.DefaultTransport}}

// Config returns an SDK configuration for region that sends every request
// to moto_server, one at a time, with static test credentials.
func Config(tb testing.TB, region string) aws.Config {
	tb.Helper()
	ep := Endpoint(tb)
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(ep),
		HTTPClient:   client,
	}
}

// Context returns a context that ends with the test, bounded to a minute.
func Context(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// Reset empties every moto backend, for a test that needs fixed resource
// names; tests using it must not run in parallel.
func Reset(tb testing.TB) {
	tb.Helper()
	resp, err := client.Post(Endpoint(tb)+"/moto-api/reset", "application/json", nil)
	if err != nil {
		tb.Fatalf("reset moto: %v", err)
	}
	resp.Body.Close()
}

// LockedBucket creates bucket in region with S3 Object Lock enabled (as
// the stack's digest and quarantine buckets are) and, when retention is
// not nil, that default retention.
func LockedBucket(tb testing.TB, ctx context.Context, api *s3.Client, bucket, region string, retention *s3types.DefaultRetention) {
	tb.Helper()
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)}
	if region != "us-east-1" { // us-east-1 takes no location constraint
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := api.CreateBucket(ctx, in); err != nil {
		tb.Fatalf("create bucket %s: %v", bucket, err)
	}
	if retention == nil {
		return
	}
	if _, err := api.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(bucket),
		ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
			Rule: &s3types.ObjectLockRule{DefaultRetention: retention}}}); err != nil {
		tb.Fatalf("lock bucket %s: %v", bucket, err)
	}
}
