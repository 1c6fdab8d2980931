package dynamostore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// slowAPI answers UpdateItem and BatchWriteItem after a round trip's
// latency and records how many calls were in flight at once.
type slowAPI struct {
	API
	latency          time.Duration
	inFlight, most   atomic.Int32
	mu               sync.Mutex
	updates, batches int
}

func (a *slowAPI) enter() func() {
	n := a.inFlight.Add(1)
	for {
		m := a.most.Load()
		if n <= m || a.most.CompareAndSwap(m, n) {
			break
		}
	}
	time.Sleep(a.latency)
	return func() { a.inFlight.Add(-1) }
}

func (a *slowAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer a.enter()()
	a.mu.Lock()
	a.updates++
	a.mu.Unlock()
	return &dynamodb.UpdateItemOutput{}, nil
}

func (a *slowAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	defer a.enter()()
	a.mu.Lock()
	a.batches++
	a.mu.Unlock()
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func tagWrites(n int) []record.TagWrite {
	w := make([]record.TagWrite, n)
	for i := range w {
		w[i] = record.TagWrite{Key: record.Key{"pk": fmt.Sprintf("USER#u-%d", i), "sk": "PROFILE"},
			Tag: record.Tag{Jurisdiction: "DE", HomeRegion: "eu-central-1", OriginRegion: "eu-central-1", PolicyVersion: "1"}}
	}
	return w
}

func entries(n int) []catalog.Entry {
	e := make([]catalog.Entry, n)
	for i := range e {
		e[i] = catalog.Entry{Region: "us-east-1", Source: "users", SourceKind: "table", Key: record.Key{"pk": fmt.Sprintf("USER#u-%d", i), "sk": "PROFILE"},
			SubjectRef: fmt.Sprintf("sub_%d", i), Category: "profile", HomeRegion: "eu-central-1", TaggedAt: time.Unix(1, 0)}
	}
	return e
}

// A batch's tag writes and catalog writes are in flight several at once,
// never more than parallel.
func TestWritesInParallel(t *testing.T) {
	api := &slowAPI{latency: 2 * time.Millisecond}
	s := New("us-east-1", map[string]API{"us-east-1": api})
	errs, err := s.UpdateTags(context.Background(), "us-east-1", "users", tagWrites(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		if e != nil {
			t.Fatal(e)
		}
	}
	if api.updates != 100 || api.most.Load() < 2 || api.most.Load() > parallel {
		t.Fatalf("expect 100 updates, 2 to %d at once, got %d, %d at once", parallel, api.updates, api.most.Load())
	}
	api.most.Store(0)
	if err := s.PutEntries(context.Background(), entries(200)); err != nil {
		t.Fatal(err)
	}
	if api.batches != 8 || api.most.Load() < 2 {
		t.Fatalf("expect 200 entries in 8 batch writes, several at once, got %d, %d at once", api.batches, api.most.Load())
	}
}

// BenchmarkBatchWrites tags and catalogs a 1,000-record stream batch
// against a DynamoDB answering each call after 4 ms (a round trip from a
// Lambda function in the same region, with the conditional write's work).
func BenchmarkBatchWrites(b *testing.B) {
	api := &slowAPI{latency: 4 * time.Millisecond}
	s := New("us-east-1", map[string]API{"us-east-1": api})
	w, e := tagWrites(1000), entries(1000)
	for b.Loop() {
		if _, err := s.UpdateTags(context.Background(), "us-east-1", "users", w); err != nil {
			b.Fatal(err)
		}
		if err := s.PutEntries(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/batch")
}
