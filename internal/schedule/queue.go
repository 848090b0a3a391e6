package schedule

import (
	"container/heap"
	"sync"
	"time"

	"github.com/google/btree"
)

// Queue is the in-memory schedule: every account's Account, ordered by when
// the periodic work should next take it up. A periodic run pops only what
// is due, so its cost grows with the work due, not with the number of
// accounts held. It also answers, from memory, which accounts a Meta user
// owns (NamesOfUser), a page of names (NamesAfter), the figures status and
// metrics report (Figures), and what each index shard should hold
// (ShardRecords). It is safe for concurrent use.
type Queue struct {
	mu     sync.Mutex
	window time.Duration
	due    entryHeap[byDue]
	// byName holds every entry in name order: lookups by name (lookupLocked:
	// O(log n), a map would cost another 57 bytes an account) and a page of
	// LIST accounts/ in O(log n + page) (NamesAfter). probe is the key of a
	// lookup, kept here so that a lookup allocates nothing.
	byName *btree.BTreeG[*entry]
	probe  entry
	// codes numbers the status and login strings the entries hold.
	codes *stringCodes

	// shards lists the entries by index shard (shardKey.Of), so that a shard's
	// storage entry is written from memory; dirty marks the shards whose
	// storage entry may differ from memory (ShardRecords).
	// shardKey chooses an entry's shard (SetShardKey).
	shards   [IndexShards][]*entry
	dirty    [IndexShards / 64]uint64
	shardKey ShardKey

	// built is false until the queue has been loaded from storage once
	// (Replace); lastCheck is when it was last loaded or checked against
	// storage (Checked).
	built     bool
	lastCheck time.Time

	// While a rebuild reads storage, writes go on: the journal records
	// every change made meanwhile so that Replace can apply them on top of
	// what the rebuild read, which may predate them (journal.go).
	journal journal

	// figs are the aggregates status and metrics report (figures.go).
	figs figures
}

// NewQueue is an empty queue, not built, with the given refresh window.
func NewQueue(window time.Duration) *Queue {
	codes := newStringCodes()
	return &Queue{
		window: window,
		byName: newNameTree(),
		codes:  codes,
		figs:   newFigures(codes),
	}
}

// lookupLocked is name's entry. Caller holds mu.
func (q *Queue) lookupLocked(name string) (*entry, bool) {
	q.probe.name = name
	return q.byName.Get(&q.probe)
}

// eachLocked calls fn for every entry, in name order. Caller holds mu.
func (q *Queue) eachLocked(fn func(*entry)) {
	q.byName.Ascend(func(e *entry) bool {
		fn(e)
		return true
	})
}

// byNameDegree is the B-tree's degree: nodes of up to 63 entries (504 bytes
// of pointers) keep the tree shallow and its overhead near 8 bytes an entry.
const byNameDegree = 32

func newNameTree() *btree.BTreeG[*entry] {
	return btree.NewG(byNameDegree, func(a, b *entry) bool { return a.name < b.name })
}

// Window is the refresh window due times are computed with.
func (q *Queue) Window() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.window
}

// Set records an account and (re)queues it at its due time.
func (q *Queue) Set(name string, a Account) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal.add(journalEntry{name: name, account: a})
	q.setLocked(name, a)
}

func (q *Queue) setLocked(name string, a Account) {
	e := q.entryLocked(name)
	q.verifiedLocked(e)
	q.assignLocked(e, a)
	q.requeueLocked(e, a.DueAt(q.window))
}

// assignLocked gives e the account a, keeping the figures in step. Caller
// holds mu.
func (q *Queue) assignLocked(e *entry, a Account) {
	if e.counted {
		q.figs.drop(e)
	}
	q.packLocked(e, a)
	q.figs.add(e)
	e.counted = true
}

// entryLocked returns name's entry, added (not queued) if it had none.
// Caller holds mu.
func (q *Queue) entryLocked(name string) *entry {
	e, ok := q.lookupLocked(name)
	if !ok {
		e = &entry{name: name, index: -1, expIndex: -1}
		q.byName.ReplaceOrInsert(e)
		q.addToShardLocked(e)
	}
	return e
}

// PutBack requeues an account that the periodic work took up and found
// nothing to do for: at its due time from a, unless that is not after now.
// Then the account stays where its claim put it, lease from now: a run must
// not hand out an account again and again without anything written to it
// (issue 13, finding 2). Paths that find an account beyond help write it
// (needs_reauth), so this is the net under them, not the fix.
func (q *Queue) PutBack(name string, a Account, now time.Time, lease time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal.add(journalEntry{name: name, account: a})
	e := q.entryLocked(name)
	q.verifiedLocked(e)
	q.assignLocked(e, a)
	at := a.DueAt(q.window)
	if !at.IsZero() && !at.After(now) {
		at = now.Add(lease)
	}
	q.requeueLocked(e, at)
}

// Remove forgets an account.
func (q *Queue) Remove(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal.add(journalEntry{name: name, removed: true})
	q.removeLocked(name)
}

func (q *Queue) removeLocked(name string) {
	if e, ok := q.lookupLocked(name); ok {
		if e.counted {
			q.figs.drop(e)
		}
		q.due.remove(e)
		q.byName.Delete(e)
		q.removeFromShardLocked(e)
	}
}

// requeueLocked moves e to time at; the zero time parks it. Caller holds
// mu.
func (q *Queue) requeueLocked(e *entry, at time.Time) {
	e.at = packTime(at)
	switch {
	case at.IsZero():
		q.due.remove(e)
	case e.index >= 0:
		heap.Fix(&q.due, int(e.index))
	default:
		heap.Push(&q.due, e)
	}
}

// Claim is one account handed to a refresh worker.
type Claim struct {
	Name        string
	DueAt       time.Time
	LeasedUntil time.Time
}

// ClaimDue returns up to max accounts due at now, in due order, and moves
// each one's slot to now+lease. The lease is a safety net: a refresh that
// saves the account requeues it properly; one that dies before saving leaves
// the account due again once the lease runs out, so nothing is ever dropped.
func (q *Queue) ClaimDue(now time.Time, max int, lease time.Duration) []Claim {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Claim
	nowNano := packTime(now)
	for len(q.due) > 0 && len(out) < max {
		e := q.due[0]
		if e.at > nowNano {
			break
		}
		c := Claim{Name: e.name, DueAt: unpackTime(e.at), LeasedUntil: now.Add(lease)}
		out = append(out, c)
		e.at = packTime(c.LeasedUntil)
		heap.Fix(&q.due, 0)
	}
	return out
}

// Release puts back a claim that was never worked on (the run ran out of
// time), at its original due time, unless something requeued it meanwhile.
func (q *Queue) Release(c Claim) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.lookupLocked(c.Name); ok && e.at == packTime(c.LeasedUntil) {
		q.requeueLocked(e, c.DueAt)
	}
}

// Reschedule applies a new refresh window to every account at once.
func (q *Queue) Reschedule(window time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	// Even when the window is the one the queue has: a rebuild may have
	// read another from the config before this write (at start-up the
	// queue holds the default, not the config's).
	q.journal.windowSet()
	if q.window == window {
		return
	}
	q.window = window
	q.due = q.due[:0]
	q.eachLocked(func(e *entry) {
		e.index = -1
		if !e.unverified {
			// An unverified entry stays due at once.
			e.at = packTime(q.accountLocked(e).DueAt(window))
		}
		if e.at != 0 {
			q.due.appendUnordered(e)
		}
	})
	heap.Init(&q.due)
}

// DueTime is the due time of one account (zero if unknown or parked).
func (q *Queue) DueTime(name string) time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.lookupLocked(name); ok {
		return unpackTime(e.at)
	}
	return time.Time{}
}

// Built reports whether the queue has been built from storage.
func (q *Queue) Built() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.built
}

// NeedsRebuild reports whether the queue was never built or was last built
// or checked against storage (Checked) longer than every ago.
func (q *Queue) NeedsRebuild(now time.Time, every time.Duration) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.built || now.Sub(q.lastCheck) >= every
}

// Checked records a completed check of the queue against storage.
func (q *Queue) Checked(now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lastCheck = now
}

// RecordOf is name's entry as an index record (its scopes included), and
// whether it has one.
func (q *Queue) RecordOf(name string) (Record, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if e, ok := q.lookupLocked(name); ok {
		var names []string
		return q.recordLocked(e, &names), true
	}
	return Record{}, false
}

// AccountOf is name's Account (its scopes included), and whether it has an
// entry.
func (q *Queue) AccountOf(name string) (Account, bool) {
	r, ok := q.RecordOf(name)
	return r.Account, ok
}
