package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NewResidencyApp adds one stack per configured region to app, its
// functions' code staged under stagingDir (which must outlive the app's
// synthesis), and the cdk-nag AwsSolutions checks to the whole app. It
// returns the stacks by region.
func NewResidencyApp(app awscdk.App, cfg *Config, stagingDir string) (map[string]awscdk.Stack, error) {
	assets, err := StageAssets(cfg, stagingDir)
	if err != nil {
		return nil, err
	}
	stacks := map[string]awscdk.Stack{}
	for _, region := range cfg.Regions {
		env := &awscdk.Environment{Region: jsii.String(region)}
		if cfg.Account != "" {
			env.Account = jsii.String(cfg.Account)
		}
		stacks[region] = NewResidencyStack(app, StackName(region), &ResidencyStackProps{
			StackProps: awscdk.StackProps{
				Env:         env,
				Description: jsii.String("Residency (" + region + "): data residency enforcement, transfer ledger and retention"),
			},
			Policy:               cfg.Policy,
			PolicyFile:           cfg.PolicyFile,
			Assets:               assets,
			Streams:              cfg.Streams[region],
			BucketRegions:        cfg.BucketRegions,
			SweepSchedule:        cfg.SweepSchedule,
			DigestRetentionYears: cfg.DigestRetentionYears,
			ExposureSLO:          cfg.ExposureSLO,
		})
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stacks, nil
}
