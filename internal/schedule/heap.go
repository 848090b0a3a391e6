package schedule

import "container/heap"

// The queue keeps two heaps of the same entries: by due time (what the
// periodic work takes next) and by token expiry (the soonest expiry the
// metrics report). entryHeap is both, told apart by its order, and keeps
// each entry's position in it so that an entry whose time changes is fixed
// or removed in O(log n).

// heapOrder says what an entryHeap sorts by and where an entry keeps its
// position in it.
type heapOrder interface {
	key(e *entry) int64
	pos(e *entry) *int32
}

// byDue orders by due time (entry.at); the position is entry.index.
type byDue struct{}

func (byDue) key(e *entry) int64  { return e.at }
func (byDue) pos(e *entry) *int32 { return &e.index }

// byExpiry orders by token expiry; the position is entry.expIndex.
type byExpiry struct{}

func (byExpiry) key(e *entry) int64  { return e.expiresAt }
func (byExpiry) pos(e *entry) *int32 { return &e.expIndex }

// entryHeap implements heap.Interface in O's order. An entry not in it
// has position -1.
type entryHeap[O heapOrder] []*entry

func (h entryHeap[O]) Len() int { return len(h) }
func (h entryHeap[O]) Less(i, j int) bool {
	var o O
	return o.key(h[i]) < o.key(h[j])
}
func (h entryHeap[O]) Swap(i, j int) {
	var o O
	h[i], h[j] = h[j], h[i]
	*o.pos(h[i]) = int32(i)
	*o.pos(h[j]) = int32(j)
}
func (h *entryHeap[O]) Push(x any) {
	var o O
	e := x.(*entry)
	*o.pos(e) = int32(len(*h))
	*h = append(*h, e)
}
func (h *entryHeap[O]) Pop() any {
	var o O
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*o.pos(e) = -1
	*h = old[:n-1]
	return e
}

// appendUnordered adds e at the end without restoring the heap order, for
// a caller that adds many and then calls heap.Init.
func (h *entryHeap[O]) appendUnordered(e *entry) {
	var o O
	*o.pos(e) = int32(len(*h))
	*h = append(*h, e)
}

// remove takes e out, if it is in.
func (h *entryHeap[O]) remove(e *entry) {
	var o O
	if i := *o.pos(e); i >= 0 {
		heap.Remove(h, int(i))
	}
}
