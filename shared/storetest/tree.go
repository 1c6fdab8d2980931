package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/errgroup"

	"github.com/residency-dev/residency/shared/ledger"
)

// TreeStore is a store that keeps the ledger's Merkle trees.
type TreeStore interface {
	Store
	ledger.NodeReader
	BackfillTree(ctx context.Context, region string) error
}

// RunTree checks the stored hashes of the ledger's trees: after appends in
// batches of every size, from concurrent appenders, the stores' tree heads
// and proofs are those of the tree rebuilt from the entries alone; and
// after dropTree removes a region's stored hashes (a store made before the
// tree), reopen (nil: s itself) returns a store whose next append computes
// them again from the entries.
func RunTree(t *testing.T, open func(t *testing.T) TreeStore, dropTree func(t *testing.T, s TreeStore, region string) TreeStore) {
	ctx := context.Background()
	const region = "eu-central-1"
	draft := func(id string) ledger.Entry {
		return ledger.Entry{ID: id, Time: t0, Kind: ledger.KindTransfer, Region: region, Actor: "test", Record: "rec_" + id}
	}

	t.Run("tree heads and proofs match the entries", func(t *testing.T) {
		s := open(t)
		n := 0
		for _, batch := range []int{1, 1, 5, 13, 60, 2} { // 60: more than one DynamoDB transaction
			var ds []ledger.Entry
			for range batch {
				n++
				ds = append(ds, draft(fmt.Sprintf("b-%d", n)))
			}
			if _, err := s.Append(ctx, region, ds); err != nil {
				t.Fatal(err)
			}
		}
		concurrently(t, 4, func(w int) error {
			for i := range 5 {
				if _, err := s.Append(ctx, region, []ledger.Entry{draft(fmt.Sprintf("w-%d-%d", w, i))}); err != nil {
					return err
				}
			}
			return nil
		})
		checkTree(t, s, region, int64(n+20))
	})

	t.Run("a store without stored hashes gets them from the entries", func(t *testing.T) {
		s := open(t)
		for i := range 11 {
			if _, err := s.Append(ctx, region, []ledger.Entry{draft(fmt.Sprintf("old-%d", i))}); err != nil {
				t.Fatal(err)
			}
		}
		s = dropTree(t, s, region)
		if got, err := s.ReadTreeNodes(ctx, region, []int64{11}); err == nil && got[0] != nil {
			// A migration on open may have computed them already.
			checkTree(t, s, region, 11)
		} else if _, err := (ledger.Tree{Nodes: s}).Root(ctx, region, 11); !errors.Is(err, ledger.ErrTreeIncomplete) {
			t.Fatalf("expect ErrTreeIncomplete before the backfill, got %v", err)
		}
		if _, err := s.Append(ctx, region, []ledger.Entry{draft("new-1"), draft("new-2")}); err != nil {
			t.Fatal(err)
		}
		checkTree(t, s, region, 13)
		// BackfillTree (the digest writer's, when no append comes) too.
		s = dropTree(t, s, region)
		if err := s.BackfillTree(ctx, region); err != nil {
			t.Fatal(err)
		}
		checkTree(t, s, region, 13)
	})
}

// checkTree compares region's stored tree with the one rebuilt from its
// entries, at every size, and checks every inclusion proof at size and
// the consistency proofs between sizes.
func checkTree(t *testing.T, s TreeStore, region string, size int64) {
	t.Helper()
	ctx := context.Background()
	var mem []tlog.Hash // tlog's stored hashes, computed here from the entries
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = mem[x]
		}
		return out, nil
	})
	var leaves []tlog.Hash
	err := s.ScanChain(ctx, region, func(e *ledger.Entry) error {
		leaf, err := ledger.LeafHash(e.Hash)
		if err != nil {
			return err
		}
		hs, err := tlog.StoredHashesForRecordHash(e.Seq-1, leaf, reader)
		if err != nil {
			return err
		}
		mem = append(mem, hs...)
		leaves = append(leaves, leaf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(leaves)) != size {
		t.Fatalf("expect %d entries, got %d", size, len(leaves))
	}
	tree := ledger.Tree{Nodes: s}
	roots := make([]tlog.Hash, size+1)
	for n := int64(1); n <= size; n++ {
		want, _ := tlog.TreeHash(n, reader)
		got, err := tree.Root(ctx, region, n)
		if err != nil {
			t.Fatalf("root at size %d: %v", n, err)
		}
		if got != want {
			t.Fatalf("root at size %d: expect %v (from the entries), got %v", n, want, got)
		}
		roots[n] = got
	}
	for seq := int64(1); seq <= size; seq++ {
		p, err := tree.ProveEntry(ctx, region, seq, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, size, roots[size], seq-1, leaves[seq-1]); err != nil {
			t.Fatalf("inclusion proof of seq %d at size %d: %v", seq, size, err)
		}
		if seq > 1 && tlog.CheckRecord(p, size, roots[size], seq-1, leaves[seq-2]) == nil {
			t.Fatalf("expect the proof of seq %d to fail for another entry", seq)
		}
	}
	for _, old := range []int64{1, 2, 3, size / 2, size - 1} {
		if old < 1 || old >= size {
			continue
		}
		p, err := tree.ProveConsistency(ctx, region, old, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(p, size, roots[size], old, roots[old]); err != nil {
			t.Fatalf("consistency proof from size %d to %d: %v", old, size, err)
		}
	}
}

// concurrently runs fn for workers 0 to workers-1 at once, each stopping at
// its first error, and fails t with the first error any returned once all
// are done.
func concurrently(t *testing.T, workers int, fn func(w int) error) {
	t.Helper()
	var g errgroup.Group
	for w := range workers {
		g.Go(func() error { return fn(w) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// RewritePast is what a rewrite of a ledger's past by someone with write
// access to its store leaves: entries[from] (from >= 1) with its decision
// changed to "rewritten", and every entry after it re-linked (PrevHash,
// Hash) so the chain verifies on its own. It returns the entries from
// entries[from] on, to write back over the store's; only signed digests
// and the tree heads they hold can tell.
func RewritePast(entries []ledger.Entry, from int) []ledger.Entry {
	head := ledger.Head{Seq: entries[from-1].Seq, Hash: entries[from-1].Hash}
	out := make([]ledger.Entry, 0, len(entries)-from)
	for i := from; i < len(entries); i++ {
		d := entries[i]
		d.Seq, d.PrevHash, d.Hash = 0, "", ""
		if i == from {
			d.Decision = "rewritten"
		}
		var e ledger.Entry
		e, head = ledger.Link(head, d)
		out = append(out, e)
	}
	return out
}
