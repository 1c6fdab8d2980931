package ledger_test

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/residency-dev/residency/shared/ledger"
)

// benchChain is a chain of a million entries, kept small in memory: only
// each entry's id and hash differ (prev_hash is the one before), so the
// benchmarks fill one Entry per step.
type benchChain struct {
	base   ledger.Entry
	ids    []string
	hashes []string
}

const benchEntries = 1_000_000

var (
	benchOnce sync.Once
	bench     *benchChain
)

func millionEntries() *benchChain {
	benchOnce.Do(func() {
		c := &benchChain{base: ledger.Entry{Time: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), Kind: ledger.KindTransfer,
			Region: "eu-central-1", Source: "users", Record: "rec_0123456789abcdef0123456789abcdef",
			SubjectRef: "sub_0123456789abcdef0123456789abcdef", Category: "events", FromRegion: "eu-central-1",
			FromCountry: "DE", ToRegion: "us-east-1", ToCountry: "US", Importer: "Acme Inc", Mechanism: "scc",
			Reference: "scc-acme-inc-2024 (Commission Implementing Decision (EU) 2021/914, Module 2 (controller to processor); TIA TIA-2024-07)",
			Decision:  "allowed", PolicyVersion: "2026-11-01", Actor: "router"}}
		head := ledger.Head{}
		for i := range benchEntries {
			d := c.base
			d.ID = fmt.Sprintf("tra_%028d", i)
			var e ledger.Entry
			e, head = ledger.Link(head, d)
			c.ids, c.hashes = append(c.ids, e.ID), append(c.hashes, e.Hash)
		}
		bench = c
	})
	return bench
}

// entry fills e with entry i (0-based) of the chain.
func (c *benchChain) entry(e *ledger.Entry, i int) {
	*e = c.base
	e.Seq, e.ID, e.Hash = int64(i+1), c.ids[i], c.hashes[i]
	e.PrevHash = ledger.GenesisHash
	if i > 0 {
		e.PrevHash = c.hashes[i-1]
	}
}

// BenchmarkVerifyMillion verifies a chain of a million entries three ways,
// side by side: the chain alone; the chain and its Merkle tree rebuilt from
// the entries against a signed root (what verify does with version 2
// digests); and the raw SHA-256 of each entry's canonical bytes, the least
// any check of every entry does. Goal (issue 18): tree at most 2x raw.
func BenchmarkVerifyMillion(b *testing.B) {
	c := millionEntries()
	// The signed root of the whole tree, as a digest would carry it.
	root := treeRoot(b, c)
	b.Run("raw-sha256", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		var e ledger.Entry
		for b.Loop() {
			for i := range benchEntries {
				c.entry(&e, i)
				buf = e.AppendCanonical(buf[:0])
				sum := sha256.Sum256(buf)
				_ = sum
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/entry")
	})
	// verify verifies the chain, and with tree its Merkle tree too.
	verify := func(b *testing.B, tree bool) {
		b.ReportAllocs()
		var e ledger.Entry
		for b.Loop() {
			v := ledger.NewVerifier("eu-central-1")
			if tree {
				v.AnchorTree(benchEntries, root, "the digest")
			}
			for i := range benchEntries {
				c.entry(&e, i)
				v.Add(&e)
			}
			if err := v.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries), "ns/entry")
	}
	b.Run("chain", func(b *testing.B) { verify(b, false) })
	b.Run("chain+tree", func(b *testing.B) { verify(b, true) })
}

// treeRoot computes the root with tlog's stored hashes in memory, apart
// from the Verifier.
func treeRoot(b *testing.B, c *benchChain) tlog.Hash {
	var mem []tlog.Hash
	r := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = mem[x]
		}
		return out, nil
	})
	for i, h := range c.hashes {
		leaf, err := ledger.LeafHash(h)
		if err != nil {
			b.Fatal(err)
		}
		hs, err := tlog.StoredHashesForRecordHash(int64(i), leaf, r)
		if err != nil {
			b.Fatal(err)
		}
		mem = append(mem, hs...)
	}
	root, err := tlog.TreeHash(int64(len(c.hashes)), r)
	if err != nil {
		b.Fatal(err)
	}
	return root
}
