package schedule

import (
	"container/heap"
	"iter"
	"slices"
	"time"
)

// A rebuild (start-up, failover, the periodic check against storage) reads
// storage while writes go on, so what it read may predate them. Between
// BeginRebuild and Replace the queue journals every change; Replace loads
// what the rebuild read and then applies the journal on top, so the later
// write always wins.

// journal is the changes made while a rebuild reads storage.
type journal struct {
	on            bool
	entries       []journalEntry
	windowChanged bool // Reschedule was called: its window wins
}

type journalEntry struct {
	name       string
	account    Account
	removed    bool
	unverified bool
}

// add records e while a rebuild is under way.
func (j *journal) add(e journalEntry) {
	if j.on {
		j.entries = append(j.entries, e)
	}
}

// windowSet records that config set the window while a rebuild was under
// way.
func (j *journal) windowSet() {
	if j.on {
		j.windowChanged = true
	}
}

// BeginRebuild starts journaling changes for a rebuild about to read
// storage; Replace applies and ends the journal, AbortRebuild drops it.
func (q *Queue) BeginRebuild() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal = journal{on: true}
}

// AbortRebuild ends a rebuild that failed: the changes it journaled are
// already applied to the queue, which stays as it was.
func (q *Queue) AbortRebuild() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal = journal{}
}

// Replace swaps in a freshly built queue (start-up, failover, a migration):
// records read from the schedule index or from the accounts. A pending
// record (its account write may not have happened) becomes an unverified
// entry, due at now.
func (q *Queue) Replace(window time.Duration, records []Record, now time.Time) {
	q.ReplaceFrom(window, len(records), slices.Values(records), now)
}

// ReplaceFrom is Replace from n records, as records yields them.
func (q *Queue) ReplaceFrom(window time.Duration, n int, records iter.Seq[Record], now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.journal.on && q.journal.windowChanged {
		// config changed the window after the rebuild read it.
		window = q.window
	}
	q.window = window
	q.due = make(entryHeap[byDue], 0, n)
	q.byName = newNameTree()
	q.shards = [IndexShards][]*entry{}
	q.dirty = [IndexShards / 64]uint64{}
	// One allocation for all the entries rather than a million small
	// ones (a faster rebuild, less for the collector to track). An entry
	// removed later keeps its slot until the next rebuild.
	block := make([]entry, 0, n)
	for r := range records {
		if len(block) == cap(block) {
			block = make([]entry, 0, max(n/8, 64)) // more than announced
		}
		block = append(block, entry{})
		e := &block[len(block)-1]
		*e = entry{name: r.Name, index: -1, expIndex: -1, counted: true, unverified: r.Pending}
		q.packLocked(e, r.Account)
		at := r.Account.DueAt(window)
		if r.Pending {
			at = earliest(at, now)
		}
		e.at = packTime(at)
		q.byName.ReplaceOrInsert(e)
		q.addToShardLocked(e)
		if e.at != 0 {
			q.due.appendUnordered(e)
		}
	}
	heap.Init(&q.due)
	q.figs.rebuild(q.byName)
	for _, j := range q.journal.entries {
		switch {
		case j.removed:
			q.removeLocked(j.name)
		case j.unverified:
			q.setUnverifiedLocked(j.name, j.account, now)
		default:
			q.setLocked(j.name, j.account)
		}
		// What the rebuild read of this account's shard predates the
		// write: the shard is written again from memory.
		q.markDirtyLocked(q.shardKey.Of(j.name))
	}
	q.journal = journal{}
	q.built = true
	q.lastCheck = now
}
