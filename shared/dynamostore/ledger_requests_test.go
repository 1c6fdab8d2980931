package dynamostore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/residency-dev/residency/shared/dynamostore"
	"github.com/residency-dev/residency/shared/ledger"
	"github.com/residency-dev/residency/shared/mototest"
)

// countingAPI counts a client's GetItem and BatchGetItem requests, and the
// most of them in flight at once (each held for delay).
type countingAPI struct {
	dynamostore.API
	delay          time.Duration
	mu             sync.Mutex
	gets, batches  int
	inFlight, most int
}

func (c *countingAPI) enter(get bool) func() {
	c.mu.Lock()
	if get {
		c.gets++
	} else {
		c.batches++
	}
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.mu.Unlock()
	time.Sleep(c.delay)
	return func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer c.enter(true)()
	return c.API.GetItem(ctx, in, o...)
}

func (c *countingAPI) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	defer c.enter(false)()
	return c.API.BatchGetItem(ctx, in, o...)
}

func (c *countingAPI) take() (gets, batches int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	gets, batches, c.gets, c.batches = c.gets, c.batches, 0, 0
	return gets, batches
}

// A ledger batch reads its drafts' id items, and the stored entries of the
// ids the chain holds, with a BatchGetItem each, not a GetItem per draft,
// and beside the head, the one GetItem of a batch (docs/capacity.md's
// first bottleneck from 10x on).
func TestAppendReadsABatchsIDsTogether(t *testing.T) {
	ctx := mototest.Context(t)
	n := seq.Add(1)
	catalogTable, ledgerTable := fmt.Sprintf("catalog-%d", n), fmt.Sprintf("ledger-%d", n)
	c := dynamodb.NewFromConfig(mototest.Config(t, "eu-central-1"))
	if err := dynamostore.CreateTables(ctx, c, catalogTable, ledgerTable); err != nil {
		t.Fatal(err)
	}
	// Each read held 50 ms: the head's and the ids' overlap.
	api := &countingAPI{API: c, delay: 50 * time.Millisecond}
	s := dynamostore.New("eu-central-1", map[string]dynamostore.API{"eu-central-1": api}, dynamostore.WithTables(catalogTable, ledgerTable))
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	draft := func(id string) ledger.Entry {
		return ledger.Entry{ID: id, Time: t0, Kind: ledger.KindRelocation, Region: "eu-central-1", Actor: "router"}
	}
	var first []ledger.Entry
	for i := range 10 {
		first = append(first, draft(fmt.Sprintf("rel-%02d", i)))
	}
	stored, err := s.Append(ctx, "eu-central-1", first)
	if err != nil || len(stored) != 10 {
		t.Fatalf("expect 10 entries appended, got %d, %v", len(stored), err)
	}
	if gets, _ := api.take(); gets != 1 {
		t.Errorf("expect one GetItem (the head) for a batch of 10 new entries, got %d", gets)
	}
	if api.most < 2 {
		t.Errorf("expect the head and the ids read side by side, got at most %d read at once", api.most)
	}

	// A redelivered batch with two new drafts and one twice: the stored
	// entries come back as stored, read together.
	again := append(append([]ledger.Entry{}, first...), draft("rel-new-1"), first[3], draft("rel-new-2"))
	out, err := s.Append(ctx, "eu-central-1", again)
	if err != nil || len(out) != len(again) {
		t.Fatalf("expect %d entries back, got %d, %v", len(again), len(out), err)
	}
	for i := range first {
		if out[i].Seq != stored[i].Seq || out[i].Hash != stored[i].Hash {
			t.Errorf("expect %s as stored (seq %d), got seq %d", first[i].ID, stored[i].Seq, out[i].Seq)
		}
	}
	if out[10].Seq != 11 || out[11].Seq != stored[3].Seq || out[12].Seq != 12 {
		t.Errorf("expect the new drafts linked at 11 and 12 and the repeat as stored, got %d, %d, %d", out[10].Seq, out[11].Seq, out[12].Seq)
	}
	gets, batches := api.take()
	if gets != 1 || batches < 2 {
		t.Errorf("expect one GetItem (the head) and the id items and stored entries in BatchGetItems, got %d GetItem, %d BatchGetItem", gets, batches)
	}
	v := ledger.NewVerifier("eu-central-1")
	if err := s.ScanChain(ctx, "eu-central-1", v.Add); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("expect the chain to verify, got %v", err)
	}
}
