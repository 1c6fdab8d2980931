package awsadapter

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// GenerateMacAPI is the part of the KMS client DeriveKey uses.
type GenerateMacAPI interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, optFns ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

var _ GenerateMacAPI = (*kms.Client)(nil)

// KeyLabel is the message whose KMS HMAC is the pseudonym key. A new label
// makes new references (a key rotation).
const KeyLabel = "residency pseudonym key v1"

// DeriveKey returns the pseudonym key: the HMAC-SHA-256, under the KMS HMAC
// key keyID, of KeyLabel. The KMS key never leaves KMS; the derived key is
// known only to roles allowed kms:GenerateMac on it, and is derived once per
// cold start instead of one KMS call per reference.
func DeriveKey(ctx context.Context, api GenerateMacAPI, keyID string) ([]byte, error) {
	out, err := api.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: aws.String(keyID), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: []byte(KeyLabel)})
	if err != nil {
		return nil, fmt.Errorf("derive pseudonym key from %s: %w", keyID, err)
	}
	return out.Mac, nil
}
