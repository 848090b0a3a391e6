package instagram

import (
	"context"
	"sync"
	"testing"
)

func TestForEachBoundedRunsAllWithinTheBound(t *testing.T) {
	var (
		mu            sync.Mutex
		running, peak int
		seen          = map[int]bool{}
	)
	release := make(chan struct{})
	items := make([]int, 50)
	for i := range items {
		items[i] = i
	}
	go func() {
		// Let workers pile up before any finishes, so the bound is tested.
		for range items {
			release <- struct{}{}
		}
	}()
	left := forEachBounded(context.Background(), 4, items, func(i int) {
		mu.Lock()
		running++
		peak = max(peak, running)
		seen[i] = true
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
	})
	if len(left) != 0 || len(seen) != len(items) {
		t.Fatalf("ran %d of %d, %d left", len(seen), len(items), len(left))
	}
	if peak > 4 {
		t.Fatalf("%d calls at once with a bound of 4", peak)
	}
}

func TestForEachBoundedStopsHandingOutWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	left := forEachBounded(ctx, 2, []int{1, 2, 3}, func(int) { t.Error("started an item after cancellation") })
	if len(left) != 3 {
		t.Fatalf("left %v, want every item back", left)
	}

	// Cancelled midway: whatever was not started comes back, in order.
	ctx, cancel = context.WithCancel(context.Background())
	var ran []int
	left = forEachBounded(ctx, 1, []int{1, 2, 3, 4, 5, 6}, func(i int) {
		ran = append(ran, i)
		if i == 2 {
			cancel()
		}
	})
	all := append(append([]int(nil), ran...), left...)
	if len(ran) < 2 || len(left) == 0 && len(ran) != 6 || len(all) != 6 {
		t.Fatalf("ran %v, left %v", ran, left)
	}
	for i, v := range all {
		if v != i+1 {
			t.Fatalf("ran %v then left %v: not the items in order", ran, left)
		}
	}
}
