package schedule

import (
	"container/heap"
	"math"
	"time"
)

// AccountFigure is one account's line in the per-account metrics.
type AccountFigure struct {
	Name          string
	Status        string
	ExpiresAt     time.Time
	MissingScopes bool
}

// urgentScanChunk is how many entries MostUrgent looks at per hold of the
// queue's lock: token reads and refreshes wait for the lock, so a scan of
// a million entries must not hold it throughout.
const urgentScanChunk = 4096

// MostUrgent returns the n most urgent accounts, most urgent first, and
// how many accounts the queue holds. Urgency is the status
// (needs_reauth, then refresh_failing, expiring, valid, then any other),
// then the soonest expiry (an unknown one last), then the name. It keeps
// only n accounts however many are held (a bounded heap over one pass of
// the names, in chunks of urgentScanChunk under the lock), so its memory
// is O(n) and its time O(accounts · log n). Accounts that change while the
// scan runs are seen as they were or as they are, like any scrape.
func (q *Queue) MostUrgent(n int) ([]AccountFigure, int) {
	if n <= 0 {
		return nil, q.Figures().Total
	}
	h := &urgentHeap{}
	var (
		total   int
		last    string
		started bool
	)
	for {
		seen, more := q.scanUrgentChunk(h, n, last, started)
		started = true
		if !more {
			q.mu.Lock()
			total = q.byName.Len()
			q.mu.Unlock()
			break
		}
		last = seen
	}
	out := make([]AccountFigure, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(h).(urgentItem).fig
	}
	return out, total
}

// scanUrgentChunk offers up to urgentScanChunk entries named after after
// (all from the first unless started) to h, keeping its n most urgent; it
// returns the last name it looked at and whether entries remain.
func (q *Queue) scanUrgentChunk(h *urgentHeap, n int, after string, started bool) (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	looked, more, last := 0, false, after
	visit := func(e *entry) bool {
		if started && e.name == after {
			return true
		}
		if looked == urgentScanChunk {
			more = true
			return false
		}
		looked++
		last = e.name
		it := urgentItem{rank: statusRank(q.codes.str(e.status)), expires: e.expiresAt}
		if it.expires == 0 {
			it.expires = math.MaxInt64 // unknown: after every known expiry
		}
		it.fig.Name = e.name
		full := h.Len() == n
		if full && !it.lessThan(&(*h)[0]) {
			return true // less urgent than every account kept
		}
		it.fig.Status = q.codes.str(e.status)
		it.fig.ExpiresAt = unpackTime(e.expiresAt)
		it.fig.MissingScopes = q.figs.lacksWanted(e)
		if full {
			// Replace the least urgent in place: no allocation per
			// account, whatever order the names come in.
			(*h)[0] = it
			heap.Fix(h, 0)
		} else {
			heap.Push(h, it)
		}
		return true
	}
	if started {
		q.byName.AscendGreaterOrEqual(&entry{name: after}, visit)
	} else {
		q.byName.Ascend(visit)
	}
	return last, more
}

// statusRank orders the statuses by urgency.
func statusRank(status string) int {
	switch status {
	case StatusNeedsReauth:
		return 0
	case StatusRefreshFailing:
		return 1
	case StatusExpiring:
		return 2
	case StatusValid:
		return 3
	}
	return 4
}

type urgentItem struct {
	rank    int
	expires int64
	fig     AccountFigure
}

// lessThan reports whether it is more urgent than o.
func (it *urgentItem) lessThan(o *urgentItem) bool {
	if it.rank != o.rank {
		return it.rank < o.rank
	}
	if it.expires != o.expires {
		return it.expires < o.expires
	}
	return it.fig.Name < o.fig.Name
}

// urgentHeap keeps the least urgent of the accounts kept at its root, to
// be dropped when a more urgent one comes.
type urgentHeap []urgentItem

func (h urgentHeap) Len() int           { return len(h) }
func (h urgentHeap) Less(i, j int) bool { return h[j].lessThan(&h[i]) }
func (h urgentHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *urgentHeap) Push(x any)        { *h = append(*h, x.(urgentItem)) }
func (h *urgentHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
