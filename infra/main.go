package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	if err := run(); err != nil {
		jsii.Close() // os.Exit skips the deferred call
		fmt.Fprintln(os.Stderr, "residency infra:", err)
		os.Exit(1)
	}
}

// run synthesizes the app: one stack per region of cdk.json's context.
func run() error {
	app := awscdk.NewApp(nil)
	cfg, err := LoadConfig(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) },
		os.Getenv("CDK_DEFAULT_ACCOUNT"))
	if err != nil {
		return err
	}
	// The staged code (bootstrap + residency.yaml per function) is copied
	// into cdk.out by the synthesis; the staging directory is not needed
	// after it.
	staging, err := os.MkdirTemp("", "residency-assets-")
	if err != nil {
		return fmt.Errorf("stage assets: %w", err)
	}
	defer os.RemoveAll(staging)
	if _, err := NewResidencyApp(app, cfg, staging); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
