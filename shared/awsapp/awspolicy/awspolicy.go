// Package awspolicy loads the policy file a function's package bundles
// (RESIDENCY_POLICY), for the Lambda mains of the functions that decide. It
// is apart from package awsapp so that the reports function does not link the
// policy engine.
package awspolicy

import (
	"fmt"
	"os"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/policy"
)

// MustLoad loads the policy named by RESIDENCY_POLICY; on error it prints
// the file:line errors and exits with status 1.
func MustLoad(fn string) *policy.Policy {
	p, err := policy.Load(os.Getenv(awsenv.Policy))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", fn, err)
		os.Exit(1)
	}
	return p
}
