// Package awsapp wires a function's AWS adapters from its environment (the
// names of package awsenv), once per cold start, so each Lambda main only
// builds its handler and starts. It fails fast with a message naming what is
// missing or wrong.
package awsapp

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/policy"
	"github.com/residency-dev/residency/shared/pseudonym"
)

// App is what a function's main builds its handler from.
type App struct {
	Region string
	Config aws.Config
	Policy *policy.Policy
	Log    *slog.Logger
	// Refs is set when the function has an HMAC key (RESIDENCY_HMAC_KEY_ID).
	Refs *pseudonym.Keyer
	env  func(string) string
}

// Load reads the environment of function fn; required lists the awsenv
// variables it must have. The SDK honours AWS_ENDPOINT_URL, so the same
// binary runs against moto_server.
func Load(ctx context.Context, fn string, required ...string) (*App, error) {
	a := &App{env: os.Getenv, Log: slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", fn)}
	var missing []string
	for _, k := range append([]string{awsenv.Policy}, required...) {
		if a.env(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: missing environment variables %s", fn, strings.Join(missing, ", "))
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: load AWS config: %w", fn, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s: no AWS region (AWS_REGION)", fn)
	}
	a.Config, a.Region = cfg, cfg.Region
	if a.Policy, err = policy.Load(a.env(awsenv.Policy)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
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

func (a *App) getenv(k, def string) string {
	if v := a.env(k); v != "" {
		return v
	}
	return def
}

// Store returns the DynamoDB store, with a client for this region and for
// every region in RESIDENCY_REGIONS.
func (a *App) Store() *dynamostore.Store {
	clients := map[string]dynamostore.API{a.Region: dynamodb.NewFromConfig(a.Config)}
	for _, r := range strings.Split(a.env(awsenv.Regions), ",") {
		if r = strings.TrimSpace(r); r != "" && r != a.Region {
			clients[r] = dynamodb.NewFromConfig(a.Config, func(o *dynamodb.Options) { o.Region = r })
		}
	}
	return dynamostore.New(a.Region, clients, dynamostore.WithTables(
		a.getenv(awsenv.CatalogTable, awsenv.DefaultCatalogTable), a.getenv(awsenv.LedgerTable, awsenv.DefaultLedgerTable)))
}

// Bus returns this region's residency event bus.
func (a *App) Bus() *awsadapter.Bus {
	return &awsadapter.Bus{API: eventbridge.NewFromConfig(a.Config), Name: a.getenv(awsenv.EventBus, awsenv.DefaultEventBus)}
}

// LedgerQueue returns this region's ledger queue.
func (a *App) LedgerQueue() *awsadapter.LedgerQueue {
	return &awsadapter.LedgerQueue{API: sqs.NewFromConfig(a.Config), URL: a.env(awsenv.LedgerQueueURL)}
}

// Objects returns the S3 adapter of this region.
func (a *App) Objects() *awsadapter.Objects {
	return &awsadapter.Objects{API: s3.NewFromConfig(a.Config)}
}

// QuarantineTable is the quarantine table's name.
func (a *App) QuarantineTable() string {
	return a.getenv(awsenv.QuarantineTable, awsenv.DefaultQuarantineTable)
}
