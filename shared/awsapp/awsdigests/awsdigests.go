// Package awsdigests wires the ledger's signed digests for the Lambda mains
// that sign them (ledger) and check them (reports): the KMS signing key
// (RESIDENCY_SIGNING_KEY_ID) and the Object Lock bucket
// (RESIDENCY_DIGEST_BUCKET). It is apart from package awsapp so that the
// functions that do neither do not link the S3 client.
package awsdigests

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/shared/awsadapter/digests"
	"github.com/residency-dev/residency/shared/awsapp"
	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/ledger"
)

func store(app *awsapp.App) *digests.Store {
	return &digests.Store{API: s3.NewFromConfig(app.Config, func(o *s3.Options) {
		// moto_server (AWS_ENDPOINT_URL) serves buckets by path only.
		o.UsePathStyle = app.Config.BaseEndpoint != nil
	}), Bucket: os.Getenv(awsenv.DigestBucket), Now: time.Now}
}

// Writer signs with the KMS key and stores in the bucket; chain is the
// ledger the digests cover.
func Writer(app *awsapp.App, chain digest.ChainReader) *digest.Writer {
	return &digest.Writer{
		Signer: &digests.Signer{API: kms.NewFromConfig(app.Config), Key: os.Getenv(awsenv.SigningKeyID)},
		Store:  store(app), Chain: chain, Now: time.Now,
	}
}

// MustChecker fetches the signing key's public key from KMS, once, and
// checks the bucket's digests with it, proving each digest's tree head
// consistent with the previous one's from tree (the ledger's stored
// hashes: a rewritten past is caught); on error it prints the message and
// exits with status 1.
func MustChecker(ctx context.Context, app *awsapp.App, tree ledger.NodeReader) *digest.Checker {
	keys, err := digests.Keys(ctx, kms.NewFromConfig(app.Config), os.Getenv(awsenv.SigningKeyID))
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", app.Function, err)
		os.Exit(1)
	}
	return &digest.Checker{Source: store(app), Keys: keys, Tree: tree}
}

// Certificates is the digest bucket as the store of erasure certificates
// (certificates/<request id>.json, written once under Object Lock).
func Certificates(app *awsapp.App) *digests.Store { return store(app) }
