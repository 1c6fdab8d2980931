package awsdigests

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/residency-dev/residency/shared/awsadapter/digests"
)

// The digest adapters receive the S3 and KMS clients as method values of
// the operations they call, for the reason package awsapp gives (the
// reports function executes an html/template: a client stored in an
// interface, or in a field of a type stored in one, would keep all its
// operations, 1.9 MB for S3).

// s3Client is the part of the S3 client digests.Store uses.
type s3Client struct {
	putObject     func(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	getObject     func(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	listObjectsV2 func(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ digests.S3API = s3Client{}

func newS3Client(c *s3.Client) s3Client {
	return s3Client{putObject: c.PutObject, getObject: c.GetObject, listObjectsV2: c.ListObjectsV2}
}

func (c s3Client) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return c.putObject(ctx, in, optFns...)
}

func (c s3Client) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return c.getObject(ctx, in, optFns...)
}

func (c s3Client) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return c.listObjectsV2(ctx, in, optFns...)
}

// kmsClient is the part of the KMS client the signer and digests.Keys use.
type kmsClient struct {
	sign         func(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
	getPublicKey func(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ digests.KMSAPI = kmsClient{}

func newKMSClient(c *kms.Client) kmsClient {
	return kmsClient{sign: c.Sign, getPublicKey: c.GetPublicKey}
}

func (c kmsClient) Sign(ctx context.Context, in *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error) {
	return c.sign(ctx, in, optFns...)
}

func (c kmsClient) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	return c.getPublicKey(ctx, in, optFns...)
}
