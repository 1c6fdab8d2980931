package ledger

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// Each region's chain is also an RFC 6962 Merkle tree, hashed by
// golang.org/x/mod/sumdb/tlog: leaf i (index seq-1) is the entry's chain
// hash, its 32 bytes (hex-decoded), so the leaf hash is
// SHA-256(0x00 || hash). A proof that carries an entry lets its checker
// recompute the entry's hash from its fields and prev_hash, then the leaf,
// then the path to a signed root.
//
// The stores keep tlog's stored hashes (tlog.StoredHashes) with the
// entries, in the same write: the hashes the entry at seq adds are packed
// as one value, level 0 (its leaf hash) first, then the hashes of the
// subtrees it completes (TreeNodes). A proof or a tree head then reads
// O(log n) of those values.

// ErrTreeIncomplete marks a tree whose stored hashes stop short of the
// size asked for (a store made before the tree, not yet backfilled).
var ErrTreeIncomplete = errors.New("the ledger's tree is incomplete")

// LeafHash returns the tree's leaf hash of an entry whose chain hash is
// hash (hex): tlog.RecordHash of its 32 bytes.
func LeafHash(hash string) (tlog.Hash, error) {
	var raw [32]byte
	if len(hash) != 64 {
		return tlog.Hash{}, fmt.Errorf("hash %.16q is not 64 hex digits", hash)
	}
	if _, err := hex.Decode(raw[:], []byte(hash)); err != nil {
		return tlog.Hash{}, fmt.Errorf("hash %.16q is not hex: %w", hash, err)
	}
	return tlog.RecordHash(raw[:]), nil
}

// NodeCount is how many stored hashes the entry at seq adds: its leaf and
// the subtrees it completes.
func NodeCount(seq int64) int { return bits.TrailingZeros64(uint64(seq)) + 1 }

// NodeReader reads the packed stored hashes of a region's entries (both
// stores implement it): one value per seq asked for, in order, nil for an
// entry whose hashes are not stored.
type NodeReader interface {
	ReadTreeNodes(ctx context.Context, region string, seqs []int64) ([][]byte, error)
}

// storedAt says where tlog's stored hash index lives: the seq of the entry
// that added it, and its level in that entry's packed value.
func storedAt(index int64) (seq int64, level int) {
	level, n := tlog.SplitStoredHashIndex(index)
	return (n + 1) << level, level
}

// hashReader reads stored hashes from packed values: those of pending
// (written in the same transaction, not yet readable) first, then read.
type hashReader struct {
	read    func(seqs []int64) ([][]byte, error)
	pending map[int64][]byte
}

func (r *hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var seqs []int64
	var want []int
	for i, idx := range indexes {
		seq, level := storedAt(idx)
		if p, ok := r.pending[seq]; ok {
			if err := unpack(p, seq, level, &out[i]); err != nil {
				return nil, err
			}
			continue
		}
		seqs = append(seqs, seq)
		want = append(want, i)
	}
	if len(seqs) == 0 {
		return out, nil
	}
	vals, err := r.read(seqs)
	if err != nil {
		return nil, err
	}
	if len(vals) != len(seqs) {
		return nil, fmt.Errorf("read tree nodes: %d values for %d entries", len(vals), len(seqs))
	}
	for j, i := range want {
		_, level := storedAt(indexes[i])
		if err := unpack(vals[j], seqs[j], level, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func unpack(p []byte, seq int64, level int, h *tlog.Hash) error {
	if p == nil {
		return fmt.Errorf("%w: no stored hashes for seq %d", ErrTreeIncomplete, seq)
	}
	if len(p) != NodeCount(seq)*tlog.HashSize {
		return fmt.Errorf("the stored hashes of seq %d are %d bytes, want %d", seq, len(p), NodeCount(seq)*tlog.HashSize)
	}
	copy(h[:], p[level*tlog.HashSize:])
	return nil
}

// TreeBuilder computes the stored hashes of entries as a store appends
// them, in seq order, reading older ones through Read. The zero value is
// not ready: use NewTreeBuilder.
type TreeBuilder struct {
	r hashReader
}

// NewTreeBuilder builds on the stored hashes read returns (read sees what
// the store holds; the builder remembers what it computed since).
func NewTreeBuilder(read func(seqs []int64) ([][]byte, error)) *TreeBuilder {
	return &TreeBuilder{r: hashReader{read: read, pending: map[int64][]byte{}}}
}

// Add returns the packed stored hashes the entry at seq with chain hash
// hash adds to the tree (see NodeReader), and keeps them for later
// entries.
func (b *TreeBuilder) Add(seq int64, hash string) ([]byte, error) {
	if seq < 1 {
		return nil, fmt.Errorf("tree: seq %d", seq)
	}
	leaf, err := LeafHash(hash)
	if err != nil {
		return nil, fmt.Errorf("tree: seq %d: %w", seq, err)
	}
	hs, err := tlog.StoredHashesForRecordHash(seq-1, leaf, &b.r)
	if err != nil {
		return nil, fmt.Errorf("tree: seq %d: %w", seq, err)
	}
	p := make([]byte, 0, len(hs)*tlog.HashSize)
	for _, h := range hs {
		p = append(p, h[:]...)
	}
	b.r.pending[seq] = p
	return p, nil
}

// Prefetch reads, in one call, the stored hashes of the complete subtrees
// of a tree of size entries: all that Add reads of the entries before size
// (the entries up to size must have theirs stored).
func (b *TreeBuilder) Prefetch(size int64) error {
	var seqs []int64
	for l, start := 62, int64(0); l >= 0; l-- {
		if size&(1<<l) != 0 {
			start += 1 << l
			seqs = append(seqs, start) // the subtree's last entry
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	vals, err := b.r.read(seqs)
	if err != nil {
		return fmt.Errorf("tree: read the right edge at size %d: %w", size, err)
	}
	if len(vals) != len(seqs) {
		return fmt.Errorf("tree: read the right edge at size %d: %d values for %d entries", size, len(vals), len(seqs))
	}
	for i, seq := range seqs {
		if vals[i] == nil {
			return fmt.Errorf("%w: no stored hashes for seq %d", ErrTreeIncomplete, seq)
		}
		b.r.pending[seq] = vals[i]
	}
	return nil
}

// Stored tells b that the store now returns every value Add returned:
// b forgets them.
func (b *TreeBuilder) Stored() { clear(b.r.pending) }

// Tree answers tree heads and proofs of a ledger's chains from their
// stored hashes.
type Tree struct{ Nodes NodeReader }

func (t Tree) reader(ctx context.Context, region string) *hashReader {
	return &hashReader{read: func(seqs []int64) ([][]byte, error) { return t.Nodes.ReadTreeNodes(ctx, region, seqs) }}
}

// Root returns the root hash of region's tree at size entries.
func (t Tree) Root(ctx context.Context, region string, size int64) (tlog.Hash, error) {
	h, err := tlog.TreeHash(size, t.reader(ctx, region))
	if err != nil {
		return h, fmt.Errorf("tree head of %s at size %d: %w", region, size, err)
	}
	return h, nil
}

// ProveEntry returns the audit path of the entry at seq in region's tree
// at size entries.
func (t Tree) ProveEntry(ctx context.Context, region string, seq, size int64) (tlog.RecordProof, error) {
	if seq < 1 || seq > size {
		return nil, fmt.Errorf("inclusion proof of %s seq %d: not in a tree of size %d", region, seq, size)
	}
	p, err := tlog.ProveRecord(size, seq-1, t.reader(ctx, region))
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of %s seq %d at size %d: %w", region, seq, size, err)
	}
	return p, nil
}

// ProveConsistency returns the proof that region's tree at size extends
// the tree at oldSize.
func (t Tree) ProveConsistency(ctx context.Context, region string, oldSize, size int64) (tlog.TreeProof, error) {
	if oldSize < 1 || oldSize > size {
		return nil, fmt.Errorf("consistency proof of %s from size %d to %d: need 1 <= from-size <= to-size", region, oldSize, size)
	}
	p, err := tlog.ProveTree(size, oldSize, t.reader(ctx, region))
	if err != nil {
		return nil, fmt.Errorf("consistency proof of %s from size %d to %d: %w", region, oldSize, size, err)
	}
	return p, nil
}

// frontier is the right edge of a tree being rebuilt from its entries: the
// stored hashes of its complete subtrees, largest (leftmost) first, as
// tlog numbers them. It is all that tlog.StoredHashes and tlog.TreeHash
// read of a tree whose entries come in order, so a verification rebuilds
// the tree holding O(log n) hashes.
type frontier struct {
	nodes []frontierNode
	buf   []tlog.Hash // ReadHashes' answer, reused: tlog reads it before the next call
}

type frontierNode struct {
	index int64
	hash  tlog.Hash
}

func (f *frontier) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := slices.Grow(f.buf[:0], len(indexes))[:len(indexes)]
	f.buf = out
	for i, idx := range indexes {
		found := false
		for j := len(f.nodes) - 1; j >= 0; j-- {
			if f.nodes[j].index == idx {
				out[i], found = f.nodes[j].hash, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("tree: stored hash %d is not on the right edge", idx)
		}
	}
	return out, nil
}

// add appends leaf n (0-based). The subtrees it completes are the last
// ones of the edge: they merge into one.
func (f *frontier) add(n int64, leaf tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, f)
	if err != nil {
		return err
	}
	merged := len(hs) - 1
	f.nodes = f.nodes[:len(f.nodes)-merged]
	f.nodes = append(f.nodes, frontierNode{tlog.StoredHashIndex(0, n) + int64(merged), hs[merged]})
	return nil
}

// root is the tree hash at size (the number of leaves added).
func (f *frontier) root(size int64) (tlog.Hash, error) { return tlog.TreeHash(size, f) }
