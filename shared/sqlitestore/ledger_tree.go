package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/residency-dev/residency/shared/ledger"
)

// The ledger's Merkle trees: ledger_tree holds, per entry, the stored
// hashes it added (see ledger.TreeBuilder), written in the transaction that
// appends the entry.

var _ ledger.NodeReader = (*Store)(nil)

// querier is what reading the tree needs of a database or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ReadTreeNodes implements ledger.NodeReader.
func (s *Store) ReadTreeNodes(ctx context.Context, region string, seqs []int64) ([][]byte, error) {
	out, err := readTreeNodes(ctx, s.db, region, seqs)
	if err != nil {
		return nil, fmt.Errorf("read the tree of ledger %s: %w", region, err)
	}
	return out, nil
}

func readTreeNodes(ctx context.Context, q querier, region string, seqs []int64) ([][]byte, error) {
	out := make([][]byte, len(seqs))
	if len(seqs) == 0 {
		return out, nil
	}
	at := make(map[int64][]int, len(seqs))
	args := make([]any, 0, len(seqs)+1)
	args = append(args, region)
	for i, seq := range seqs {
		if _, ok := at[seq]; !ok {
			args = append(args, seq)
		}
		at[seq] = append(at[seq], i)
	}
	rows, err := q.QueryContext(ctx, `SELECT seq, nodes FROM ledger_tree WHERE region = ? AND seq IN (?`+
		strings.Repeat(",?", len(args)-2)+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int64
		var nodes []byte
		if err := rows.Scan(&seq, &nodes); err != nil {
			return nil, err
		}
		for _, i := range at[seq] {
			out[i] = nodes
		}
	}
	return out, rows.Err()
}

// chainPage is how many entries a backfill of the tree reads at a time.
const chainPage = 10000

// treeBuilder returns a builder of region's tree whose stored hashes reach
// head: it first computes those of any entry that lacks them (a store
// made before the tree), from the entries.
func treeBuilder(ctx context.Context, tx *sql.Tx, region string, head int64) (*ledger.TreeBuilder, error) {
	b := ledger.NewTreeBuilder(func(seqs []int64) ([][]byte, error) { return readTreeNodes(ctx, tx, region, seqs) })
	// The stored hashes are written in seq order, a transaction at a time:
	// when the head's are there, all are (and Prefetch reads what the next
	// entries need).
	err := b.Prefetch(head)
	if err == nil {
		return b, nil
	}
	if !errors.Is(err, ledger.ErrTreeIncomplete) {
		return nil, err
	}
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM ledger_tree WHERE region = ?`, region).Scan(&size); err != nil {
		return nil, fmt.Errorf("tree size: %w", err)
	}
	if size >= head {
		return b, nil
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO ledger_tree(region, seq, nodes) VALUES (?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	type leaf struct {
		seq  int64
		hash string
	}
	for size < head {
		rows, err := tx.QueryContext(ctx, `SELECT seq, hash FROM ledger WHERE region = ? AND seq > ? ORDER BY seq LIMIT ?`, region, size, chainPage)
		if err != nil {
			return nil, fmt.Errorf("backfill the tree: %w", err)
		}
		var leaves []leaf
		for rows.Next() {
			var l leaf
			if err := rows.Scan(&l.seq, &l.hash); err != nil {
				rows.Close()
				return nil, fmt.Errorf("backfill the tree: %w", err)
			}
			leaves = append(leaves, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("backfill the tree: %w", err)
		}
		if len(leaves) == 0 {
			return nil, fmt.Errorf("backfill the tree: the chain ends at seq %d, before its head %d", size, head)
		}
		for _, l := range leaves {
			if l.seq != size+1 {
				return nil, fmt.Errorf("backfill the tree: the chain has seq %d after seq %d", l.seq, size)
			}
			nodes, err := b.Add(l.seq, l.hash)
			if err != nil {
				return nil, fmt.Errorf("backfill the tree: %w", err)
			}
			if _, err := ins.ExecContext(ctx, region, l.seq, nodes); err != nil {
				return nil, fmt.Errorf("backfill the tree: %w", err)
			}
			size = l.seq
		}
		b.Stored()
	}
	if err := b.Prefetch(head); err != nil {
		return nil, err
	}
	return b, nil
}

// insertTreeRows writes rows (region, seq, nodes, ...) into ledger_tree,
// chunkRows rows a statement.
func insertTreeRows(ctx context.Context, tx *sql.Tx, rows []any) error {
	for len(rows) > 0 {
		n := min(len(rows)/3, chunkRows)
		q := `INSERT INTO ledger_tree(region, seq, nodes) VALUES (?,?,?)` + strings.Repeat(",(?,?,?)", n-1)
		if _, err := tx.ExecContext(ctx, q, rows[:3*n]...); err != nil {
			return fmt.Errorf("write the tree: %w", err)
		}
		rows = rows[3*n:]
	}
	return nil
}

// backfillTrees is the migration that gives every chain its tree.
func backfillTrees(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT region, max(seq) FROM ledger GROUP BY region`)
	if err != nil {
		return err
	}
	heads := map[string]int64{}
	for rows.Next() {
		var r string
		var seq int64
		if err := rows.Scan(&r, &seq); err != nil {
			rows.Close()
			return err
		}
		heads[r] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for r, head := range heads {
		if _, err := treeBuilder(ctx, tx, r, head); err != nil {
			return fmt.Errorf("ledger %s: %w", r, err)
		}
	}
	return nil
}

// BackfillTree computes the stored hashes region's entries lack (the
// migration does it for a whole store; this is for the digest writer).
func (s *Store) BackfillTree(ctx context.Context, region string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var head int64
		if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM ledger WHERE region = ?`, region).Scan(&head); err != nil {
			return err
		}
		_, err := treeBuilder(ctx, tx, region, head)
		return err
	})
	if err != nil {
		return fmt.Errorf("backfill the tree of ledger %s: %w", region, err)
	}
	return nil
}
