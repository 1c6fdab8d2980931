package awse2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/mototest"
)

// BenchmarkColdStart measures a function's init: from starting its binary
// (built for this machine) to its first call to the Lambda runtime API for an
// invocation, against a local runtime API and moto_server (KMS key
// derivation included). One op is one cold start.
func BenchmarkColdStart(b *testing.B) {
	for _, fn := range []string{"tagger", "router", "ledger", "retention", "reports"} {
		b.Run(fn, func(b *testing.B) {
			dir := b.TempDir()
			bin := filepath.Join(dir, "bootstrap")
			build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", bin, "../"+fn+"/lambda")
			if out, err := build.CombinedOutput(); err != nil {
				b.Fatalf("build %s: %v\n%s", fn, err, out)
			}
			policy, _ := filepath.Abs("../../shared/policy/example.yaml")
			cfg := mototest.Config(b, "eu-central-1")
			key, err := kms.NewFromConfig(cfg).CreateKey(mototest.Context(b), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
			if err != nil {
				b.Fatal(err)
			}
			// The reports function fetches the digest signing key's public
			// key at init.
			sign, err := kms.NewFromConfig(cfg).CreateKey(mototest.Context(b), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecEccNistP256, KeyUsage: kmstypes.KeyUsageTypeSignVerify})
			if err != nil {
				b.Fatal(err)
			}
			next := make(chan struct{}, 1)
			rt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/invocation/next") {
					select {
					case next <- struct{}{}:
					default:
					}
					<-r.Context().Done() // hold the long poll until the process ends
				}
			}))
			defer rt.Close()
			env := append(os.Environ(), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(rt.URL, "http://"), "AWS_REGION=eu-central-1",
				"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_ENDPOINT_URL="+mototest.Endpoint(b),
				awsenv.Policy+"="+policy, awsenv.CatalogTable+"=c", awsenv.LedgerTable+"=l", awsenv.EventBus+"=residency",
				awsenv.LedgerQueueURL+"=http://q", awsenv.HMACKeyID+"="+aws.ToString(key.KeyMetadata.KeyId), awsenv.Regions+"=eu-central-1,us-east-1",
				awsenv.SigningKeyID+"="+aws.ToString(sign.KeyMetadata.Arn), awsenv.DigestBucket+"=digests")
			var total time.Duration
			starts := 0
			for b.Loop() {
				cmd := exec.Command(bin)
				cmd.Env = env
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				select {
				case <-next:
				case <-time.After(20 * time.Second):
					cmd.Process.Kill()
					b.Fatalf("%s did not reach the runtime API within 20s", fn)
				}
				total += time.Since(start)
				starts++
				cmd.Process.Kill()
				cmd.Wait()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(starts), "init-ms")
		})
	}
}
