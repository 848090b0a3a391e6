package instagram

import (
	"context"
	"sync"
)

// forEachBounded calls fn for items with at most workers calls at once, in
// item order, and stops handing out items once ctx is done. It returns the
// items it never started, so the caller can put them back.
func forEachBounded[T any](ctx context.Context, workers int, items []T, fn func(T)) (unstarted []T) {
	var wg sync.WaitGroup
	work := make(chan T)
	for range min(workers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				fn(it)
			}
		}()
	}
	i := 0
feed:
	for ; i < len(items); i++ {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- items[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	return items[i:]
}
