// Package awsapp wires a function's AWS adapters from its environment (the
// names of package awsenv), once per cold start, so each Lambda main only
// builds its handler and starts. It fails fast with a message naming what is
// missing or wrong.
package awsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/lambdaraw"
	"github.com/residency-dev/residency/shared/metrics"
	"github.com/residency-dev/residency/shared/pseudonym"
)

// App is what a function's main builds its handler from.
type App struct {
	Function string // the function's name, as in logs
	Region   string
	Config   aws.Config
	Log      *slog.Logger
	// Refs is set when the function has an HMAC key (RESIDENCY_HMAC_KEY_ID).
	Refs *pseudonym.Keyer
	env  func(string) string
}

// lambdaConfig is the SDK configuration of a Lambda function: the region and
// the execution role's credentials that Lambda puts in the environment, and
// AWS_ENDPOINT_URL when set (to run the same binary against moto_server).
// The SDK's full default chain (shared files, SSO, IMDS) is never used on
// Lambda, and linking it costs every binary 2.4 MB.
func lambdaConfig(env func(string) string) aws.Config {
	cfg := aws.Config{Region: env("AWS_REGION")}
	if id := env("AWS_ACCESS_KEY_ID"); id != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN")))
	}
	if ep := env("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg
}

// MustLoad is Load for a Lambda main: on error it prints the message and
// exits with status 1, so Lambda reports the failed init with that message.
func MustLoad(ctx context.Context, fn string, required ...string) *App {
	a, err := Load(ctx, fn, required...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return a
}

// Load reads the environment of function fn; required lists the awsenv
// variables it must have. The policy is loaded by the functions that decide
// (policy.Load of RESIDENCY_POLICY), so the reports function does not link
// the policy engine. The SDK honours AWS_ENDPOINT_URL, so the same
// binary runs against moto_server.
func Load(ctx context.Context, fn string, required ...string) (*App, error) {
	a := &App{Function: fn, env: os.Getenv, Log: slog.New(NewLogHandler(os.Stdout, fn, nil))}
	var missing []string
	for _, k := range required {
		if a.env(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing environment variables %s", fn, strings.Join(missing, ", "))
	}
	cfg := lambdaConfig(a.env)
	if cfg.Credentials == nil {
		return nil, fmt.Errorf("%s: no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)", fn)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s: no AWS region (AWS_REGION)", fn)
	}
	a.Config, a.Region = cfg, cfg.Region
	if id := a.env(awsenv.HMACKeyID); id != "" {
		key, err := awsadapter.DeriveKey(ctx, kms.NewFromConfig(cfg), id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		if a.Refs, err = pseudonym.New(key); err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
	}
	return a, nil
}

// Start serves invoke as the function's Lambda handler, with ctx (the one
// Load was given) as the parent of every invocation's context. The payload
// reaches invoke as the runtime received it (lambdaraw.Handler). Start does
// not return.
func Start(ctx context.Context, invoke func(context.Context, json.RawMessage) (any, error)) {
	lambda.StartWithOptions(lambdaraw.Handler(invoke), lambda.WithContext(ctx))
}

func (a *App) getenv(k, def string) string {
	if v := a.env(k); v != "" {
		return v
	}
	return def
}

// Metrics returns the function's metrics writer: EMF lines on stdout,
// which CloudWatch Logs turns into metrics of namespace Residency.
func (a *App) Metrics() *metrics.Emitter {
	return &metrics.Emitter{W: os.Stdout, Function: a.Function, Region: a.Region}
}

// Regions returns the deployment's regions (RESIDENCY_REGIONS).
func (a *App) Regions() []string {
	var out []string
	for _, r := range strings.Split(a.env(awsenv.Regions), ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// Store returns the DynamoDB store, with a client for this region and for
// every region in RESIDENCY_REGIONS.
func (a *App) Store() *dynamostore.Store {
	clients := map[string]dynamostore.API{a.Region: dynamodb.NewFromConfig(a.Config)}
	for _, r := range a.Regions() {
		if r != a.Region {
			clients[r] = dynamodb.NewFromConfig(a.Config, func(o *dynamodb.Options) { o.Region = r })
		}
	}
	return dynamostore.New(a.Region, clients, dynamostore.WithTables(
		a.getenv(awsenv.CatalogTable, awsenv.DefaultCatalogTable), a.getenv(awsenv.LedgerTable, awsenv.DefaultLedgerTable)))
}

// BusName is this region's residency event bus.
func (a *App) BusName() string { return a.getenv(awsenv.EventBus, awsenv.DefaultEventBus) }

// LedgerQueueURL is this region's ledger queue.
func (a *App) LedgerQueueURL() string { return a.env(awsenv.LedgerQueueURL) }

// QuarantineBuckets is the prefix of the quarantine buckets: a region's is
// the prefix followed by the region.
func (a *App) QuarantineBuckets() string {
	return a.getenv(awsenv.QuarantineBucketPrefix, awsenv.DefaultQuarantineBucketPrefix)
}

// QuarantineTable is the quarantine table's name.
func (a *App) QuarantineTable() string {
	return a.getenv(awsenv.QuarantineTable, awsenv.DefaultQuarantineTable)
}
