// Package group splits a batch by a key and keeps its order: the functions
// and the stores make one call per region and table of a batch. Parallel
// spreads a batch's pure per-record work over the cores.
package group

// By splits xs into groups of equal key, in the order their keys first
// appear, each group in xs's order. When every element has the same key,
// the one group is xs itself, not a copy.
func By[T any, K comparable](xs []T, key func(T) K) [][]T {
	if len(xs) == 0 {
		return nil
	}
	first, one := key(xs[0]), true
	for _, x := range xs[1:] {
		if key(x) != first {
			one = false
			break
		}
	}
	if one {
		return [][]T{xs}
	}
	at := map[K]int{}
	var out [][]T
	for _, x := range xs {
		k := key(x)
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], x)
	}
	return out
}
