package digests_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/residency-dev/residency/shared/awsadapter"
	"github.com/residency-dev/residency/shared/awsadapter/digests"
	"github.com/residency-dev/residency/shared/digest"
)

// racingS3 is a bucket where another conditional write of every key is in
// flight for the first conflicts PutObject calls: S3 answers them with a
// ConditionalRequestConflict (409) and writes nothing. Later calls write
// once (If-None-Match: *), answering PreconditionFailed (412) over an object.
type racingS3 struct {
	mu        sync.Mutex
	conflicts int
	objects   map[string][]byte
	puts      []string // the body of each PutObject call
	gets      int
}

var _ digests.S3API = (*racingS3)(nil)

func apiError(code, msg string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithy.GenericAPIError{Code: code, Message: msg}}
}

func (f *racingS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.puts = append(f.puts, string(b))
	if f.conflicts > 0 {
		f.conflicts--
		return nil, apiError("ConditionalRequestConflict", "A conflicting conditional operation is currently in progress against this resource.")
	}
	key := aws.ToString(in.Key)
	if _, ok := f.objects[key]; ok && aws.ToString(in.IfNoneMatch) == "*" {
		return nil, apiError("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	}
	if f.objects == nil {
		f.objects = map[string][]byte{}
	}
	f.objects[key] = b
	return &s3.PutObjectOutput{}, nil
}

func (f *racingS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	b, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(string(b)))}, nil
}

func (f *racingS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

// A ConditionalRequestConflict decides nothing: the certificate's write is
// sent again (never taken for a certificate already there and read back),
// a bounded number of times; a PreconditionFailed still means the first
// certificate stands.
func TestStoreCertificateRetriesAConditionalConflict(t *testing.T) {
	const body = `{"request":"dsr-1"}`
	cases := map[string]struct {
		conflicts  int
		existing   string // a certificate there before
		wantStored string
		created    bool
		puts, gets int
		wantErr    string
	}{
		"409 once, then written":    {conflicts: 1, wantStored: body, created: true, puts: 2},
		"409 on every attempt":      {conflicts: 1000, puts: awsadapter.Retries + 1, wantErr: "still in conflict with another write of the key after 6 attempts"},
		"412: the first one stands": {existing: `{"request":"dsr-1","first":true}`, wantStored: `{"request":"dsr-1","first":true}`, puts: 1, gets: 1},
		"409, then 412":             {conflicts: 2, existing: `{"first":true}`, wantStored: `{"first":true}`, puts: 3, gets: 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := &racingS3{conflicts: c.conflicts}
			if c.existing != "" {
				f.objects = map[string][]byte{digests.CertificateKey("dsr-1"): []byte(c.existing)}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			stored, created, err := (&digests.Store{API: f, Bucket: "digests"}).StoreCertificate(ctx, "dsr-1", []byte(body))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !awsadapter.ConditionalRequestConflict(err) {
					t.Fatalf("expect an error saying %q that wraps the ConditionalRequestConflict, got %v", c.wantErr, err)
				}
			} else if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if string(stored) != c.wantStored || created != c.created {
				t.Errorf("expect stored %q created %v, got %q %v", c.wantStored, c.created, stored, created)
			}
			if len(f.puts) != c.puts || f.gets != c.gets {
				t.Errorf("expect %d PutObject and %d GetObject calls, got %d and %d", c.puts, c.gets, len(f.puts), f.gets)
			}
			for i, p := range f.puts {
				if p != body {
					t.Errorf("expect PutObject call %d to send the whole certificate, got %q", i+1, p)
				}
			}
		})
	}
}

// A digest's write in conflict with another is sent again too; one over a
// digest already there is still refused.
func TestPutRetriesAConditionalConflict(t *testing.T) {
	f := &racingS3{conflicts: 1}
	st := &digests.Store{API: f, Bucket: "digests"}
	d := &digest.Digest{Region: "eu-central-1", Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), FromSeq: 1, ToSeq: 4}
	ctx := context.Background()
	if err := st.Put(ctx, d); err != nil {
		t.Fatalf("expect the digest written on the second attempt, got %v", err)
	}
	if len(f.puts) != 2 || len(f.objects[digests.Key(d)]) == 0 {
		t.Fatalf("expect 2 PutObject calls and the digest stored, got %d calls, objects %v", len(f.puts), f.objects)
	}
	if err := st.Put(ctx, d); !awsadapter.PreconditionFailed(err) {
		t.Fatalf("expect PreconditionFailed over an existing digest, got %v", err)
	}
}
