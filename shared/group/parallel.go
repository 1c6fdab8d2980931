package group

import (
	"runtime"
	"sync"
)

// Grain is the fewest records worth a core of their own when their work
// is some microseconds each (a keyed reference, reading or deciding a
// record, editing its JSON): below it, starting a goroutine costs about
// what it saves.
const Grain = 64

// Parallel calls f on the contiguous chunks [lo, hi) that cover [0, n),
// one chunk per core at the most, each of at least grain elements, at
// once, and returns when every call has. It is for the pure, per-record
// work of a batch (keyed references, decoding, deciding), which would
// otherwise keep one core busy while the others wait: f must only write
// to the elements of its own chunk. With one core, or fewer than two
// grains of work, f runs once, here, on [0, n).
func Parallel(n, grain int, f func(lo, hi int)) {
	chunks := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if chunks <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for c := 1; c < chunks; c++ {
		wg.Go(func() { f(c*n/chunks, (c+1)*n/chunks) })
	}
	f(0, n/chunks) // this goroutine takes the first chunk
	wg.Wait()
}
