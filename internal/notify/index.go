package notify

import (
	"container/heap"
	"slices"
	"time"

	"github.com/google/btree"
)

// entry is what the outbox keeps in memory of one stored event: enough to
// order, schedule and count it. The body stays in storage and is read at
// each attempt, so memory holds no reason text or consent link.
type entry struct {
	key     string // storage key under StoragePrefix
	seq     uint64
	account string
	at      time.Time // the event's "at": its age counts from here
	// nextAt is when the next attempt is due; failures the failed
	// attempts in a row (not kept across restarts: a restart retries at
	// once, then backs off again from FirstRetry).
	nextAt   time.Time
	failures int
	// ready is false while the entry's storage write is in flight: it is
	// in the index to hold its place in its account's order, but it is
	// not delivered nor dropped until it is stored.
	ready bool
	queue *accountQueue
}

// accountQueue is one account's pending events in sequence order. Only its
// head is ever delivered, so an account's events reach the receiver in the
// order they were made. App-level events form a queue of their own (the
// empty account).
type accountQueue struct {
	account string
	entries []*entry
	// busy: a worker is delivering the head.
	busy bool
	// pos is the queue's place in the index's due heap, -1 when not in
	// it (empty, busy, or its head not yet stored).
	pos int
}

func (q *accountQueue) head() *entry { return q.entries[0] }

// index is the outbox's in-memory view of the stored events. It is not safe
// for concurrent use: the Outbox guards it with its mutex.
type index struct {
	bySeq    *btree.BTreeG[*entry] // every entry, oldest first
	byKey    map[string]*entry
	accounts map[string]*accountQueue
	due      dueHeap // queues whose head is ready, by the head's nextAt
}

func newIndex() *index {
	return &index{
		bySeq:    btree.NewG(16, func(a, b *entry) bool { return a.seq < b.seq }),
		byKey:    map[string]*entry{},
		accounts: map[string]*accountQueue{},
	}
}

func (x *index) len() int { return x.bySeq.Len() }

// add inserts e in its account's queue at its sequence place.
func (x *index) add(e *entry) {
	q := x.accounts[e.account]
	if q == nil {
		q = &accountQueue{account: e.account, pos: -1}
		x.accounts[e.account] = q
	}
	e.queue = q
	i, _ := slices.BinarySearchFunc(q.entries, e.seq, func(a *entry, seq uint64) int {
		switch {
		case a.seq < seq:
			return -1
		case a.seq > seq:
			return 1
		}
		return 0
	})
	if i == 0 && len(q.entries) > 0 && q.busy {
		// Only a load can insert before a head, and nothing is delivered
		// before the load ends; keep the head in flight first regardless.
		i = 1
	}
	q.entries = slices.Insert(q.entries, i, e)
	x.bySeq.ReplaceOrInsert(e)
	x.byKey[e.key] = e
	x.reschedule(q)
}

// remove takes e out of the index. A busy queue stays out of the heap until
// its worker calls release.
func (x *index) remove(e *entry) {
	q := e.queue
	if i := slices.Index(q.entries, e); i >= 0 {
		q.entries = slices.Delete(q.entries, i, i+1)
	}
	x.bySeq.Delete(e)
	delete(x.byKey, e.key)
	if len(q.entries) == 0 && !q.busy {
		if q.pos >= 0 {
			heap.Remove(&x.due, q.pos)
		}
		delete(x.accounts, q.account)
		return
	}
	x.reschedule(q)
}

// reschedule puts q in the due heap at its head's nextAt when the head can
// be delivered, and takes it out otherwise.
func (x *index) reschedule(q *accountQueue) {
	deliverable := !q.busy && len(q.entries) > 0 && q.head().ready
	switch {
	case deliverable && q.pos >= 0:
		heap.Fix(&x.due, q.pos)
	case deliverable:
		heap.Push(&x.due, q)
	case q.pos >= 0:
		heap.Remove(&x.due, q.pos)
	}
}

// take returns the head of the queue due first if it is due at now, marking
// its queue busy; nil if nothing is due.
func (x *index) take(now time.Time) *entry {
	if len(x.due) == 0 || x.due[0].head().nextAt.After(now) {
		return nil
	}
	q := heap.Pop(&x.due).(*accountQueue)
	q.busy = true
	return q.head()
}

// release ends a worker's hold on e's queue (e itself already removed, or
// rescheduled with a new nextAt).
func (x *index) release(e *entry) {
	q := e.queue
	q.busy = false
	if len(q.entries) == 0 {
		delete(x.accounts, q.account)
		return
	}
	x.reschedule(q)
}

// nextDue is when the first deliverable head is due; ok is false when
// there is none.
func (x *index) nextDue() (t time.Time, ok bool) {
	if len(x.due) == 0 {
		return time.Time{}, false
	}
	return x.due[0].head().nextAt, true
}

// oldestDroppable is the oldest entry that may be dropped: stored, and not
// being delivered.
func (x *index) oldestDroppable() *entry {
	var found *entry
	x.bySeq.Ascend(func(e *entry) bool {
		if e.ready && !(e.queue.busy && e.queue.head() == e) {
			found = e
			return false
		}
		return true
	})
	return found
}

// oldest is the entry with the lowest sequence number, nil when empty.
func (x *index) oldest() *entry {
	e, _ := x.bySeq.Min()
	return e
}

// dueHeap orders account queues by their head's nextAt, then sequence.
type dueHeap []*accountQueue

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(i, j int) bool {
	a, b := h[i].head(), h[j].head()
	if !a.nextAt.Equal(b.nextAt) {
		return a.nextAt.Before(b.nextAt)
	}
	return a.seq < b.seq
}
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *dueHeap) Push(v any) {
	q := v.(*accountQueue)
	q.pos = len(*h)
	*h = append(*h, q)
}
func (h *dueHeap) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	q.pos = -1
	return q
}
