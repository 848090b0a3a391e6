package instagram

import (
	"container/heap"
	"hash/fnv"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"
)

// timing is what the schedule keeps per account: enough to recompute the due
// time when the refresh window changes, without reading storage.
type timing struct {
	expiresAt    time.Time // zero: unknown
	issuedAt     time.Time // zero: unknown
	registeredAt time.Time
	retryAt      time.Time // set after a failed refresh: back-off
	status       string

	// Facebook Login accounts are never refreshed (Facebook has no refresh
	// grant): for them the schedule holds the next health check instead.
	login       string
	checkedAt   time.Time     // last health check; zero: none since registration
	checkOffset time.Duration // per-account spread of the hourly checks

	// owners are hashes of the owner's ids at Meta (Instagram user id,
	// app-scoped id; 0 when unknown), so that Meta's deauthorize and
	// data-deletion callbacks find a user's accounts in memory rather than
	// by reading every account from storage. Hashes rather than the ids
	// keep this at 16 bytes an account; a collision only makes a caller
	// load one account more, since callers check the stored ids.
	owners [2]uint64

	// scopes are the scopes granted to the token (empty: unknown), which
	// the schedule keeps as bits (scheduleFigures), not as names.
	scopes []string
}

// ownerHash is an id's entry in timing.owners.
func ownerHash(id string) uint64 {
	if id == "" {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64() | 1 // never 0, which stands for no id
}

// schedule is the in-memory priority queue of accounts by next refresh time.
// A periodic tick pops only what is due, so its cost grows with the work due,
// not with the number of accounts held.
type schedule struct {
	mu     sync.Mutex
	window time.Duration
	queue  schedHeap
	// byName holds every entry in name order: lookups by name (lookupLocked:
	// O(log n), a map would cost another 57 bytes an account) and a page of
	// LIST accounts/ in O(log n + page) (namesAfter). probe is the key of a
	// lookup, kept here so that a lookup allocates nothing.
	byName *btree.BTreeG[*schedEntry]
	probe  schedEntry
	// codes numbers the status and login strings the entries hold.
	codes *stringCodes

	// shards lists the entries by schedule index shard (index.go), so that
	// a shard's storage entry is written from memory; dirty marks the
	// shards whose storage entry may differ from memory (shardRecords).
	shards [indexShards][]*schedEntry
	dirty  [indexShards / 64]uint64

	// built is false until the schedule has been loaded from storage once.
	built       bool
	lastRebuild time.Time

	// While a rebuild reads storage, writes go on: journaling records every
	// change made meanwhile so that replace can apply them on top of what
	// the rebuild read, which may predate them.
	journaling    bool
	journal       []journalEntry
	windowChanged bool

	// figs are the aggregates status and metrics report (schedule_figures.go).
	figs scheduleFigures
}

type journalEntry struct {
	name       string
	timing     timing
	removed    bool
	unverified bool
}

// schedEntry is one account in the schedule: its timing packed into 112
// bytes (a timing is 240), since a mount may hold a million
// (BenchmarkScheduleMemory, BENCHMARKS.md). timingLocked unpacks it.
type schedEntry struct {
	name string
	// The timing's times in Unix nanoseconds, 0 for the zero time
	// (packTime), its owner hashes, and its status and login as codes
	// (stringCodes); its scopes are bits (scopeBits); checkOffset is the
	// name's.
	expiresAt, issuedAt, registeredAt, retryAt, checkedAt int64
	owners                                                [2]uint64
	status, login                                         uint8

	at        int64  // when due, Unix nanoseconds; 0: parked (not queued)
	scopeBits uint64 // granted scopes (figs.scopes)

	index    int32 // position in queue, -1 when not queued
	expIndex int32 // position in figs.expiry, -1 when not there
	shardPos int32 // position in its index shard's list

	scopesKnown bool
	counted     bool // in figs (assignLocked)
	// unverified: the stored account may not match timing (its index
	// record was pending, or its write failed): it is due at once, so the
	// periodic work reads it, and stays pending in the index until then.
	unverified bool
}

func newSchedule() *schedule {
	codes := newStringCodes()
	return &schedule{
		window: defaultRefreshWindow,
		byName: newNameTree(),
		codes:  codes,
		figs:   newScheduleFigures(codes),
	}
}

// lookupLocked is name's entry. Caller holds mu.
func (s *schedule) lookupLocked(name string) (*schedEntry, bool) {
	s.probe.name = name
	return s.byName.Get(&s.probe)
}

// eachLocked calls fn for every entry, in name order. Caller holds mu.
func (s *schedule) eachLocked(fn func(*schedEntry)) {
	s.byName.Ascend(func(e *schedEntry) bool {
		fn(e)
		return true
	})
}

// byNameDegree is the B-tree's degree: nodes of up to 63 entries (504 bytes
// of pointers) keep the tree shallow and its overhead near 8 bytes an entry.
const byNameDegree = 32

func newNameTree() *btree.BTreeG[*schedEntry] {
	return btree.NewG(byNameDegree, func(a, b *schedEntry) bool { return a.name < b.name })
}

// set records an account's timing and (re)queues it at its due time.
func (s *schedule) set(name string, t timing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling {
		s.journal = append(s.journal, journalEntry{name: name, timing: t})
	}
	s.setLocked(name, t)
}

func (s *schedule) setLocked(name string, t timing) {
	e := s.entryLocked(name)
	s.verifiedLocked(e)
	s.assignLocked(e, t)
	s.requeue(e, t.dueAt(s.window))
}

// assignLocked gives e the timing t, keeping the figures in step. Caller
// holds mu.
func (s *schedule) assignLocked(e *schedEntry, t timing) {
	if e.counted {
		s.figs.drop(e)
	}
	s.packLocked(e, t)
	s.figs.add(e)
	e.counted = true
}

// entryLocked returns name's entry, added (not queued) if it had none.
// Caller holds mu.
func (s *schedule) entryLocked(name string) *schedEntry {
	e, ok := s.lookupLocked(name)
	if !ok {
		e = &schedEntry{name: name, index: -1, expIndex: -1}
		s.byName.ReplaceOrInsert(e)
		s.addToShardLocked(e)
	}
	return e
}

// putBack requeues an account that the periodic work took up and found
// nothing to do for: at its due time from t, unless that is not after now.
// Then the account stays where its claim put it, lease from now: a tick must
// not hand out an account again and again without anything written to it
// (issue 13, finding 2). Paths that find an account beyond help write it
// (needs_reauth), so this is the net under them, not the fix.
func (s *schedule) putBack(name string, t timing, now time.Time, lease time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling {
		s.journal = append(s.journal, journalEntry{name: name, timing: t})
	}
	e := s.entryLocked(name)
	s.verifiedLocked(e)
	s.assignLocked(e, t)
	at := t.dueAt(s.window)
	if !at.IsZero() && !at.After(now) {
		at = now.Add(lease)
	}
	s.requeue(e, at)
}

// namesOfUser lists the accounts that may be owned by Meta user userID (the
// caller checks each one's stored ids), and false when the schedule cannot
// say because it has not been built from storage yet. Once built it holds
// every account: writes update it as they happen, during later rebuilds
// too. Scanning 100,000 entries in memory takes about 20 ms; reading them
// from storage takes about a second in process and over ten in Vault
// (BenchmarkFindUsersAccounts, BENCHMARKS.md).
func (s *schedule) namesOfUser(userID string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.built {
		return nil, false
	}
	h := ownerHash(userID)
	var names []string
	if h == 0 {
		return names, true
	}
	s.eachLocked(func(e *schedEntry) {
		if e.owners[0] == h || e.owners[1] == h {
			names = append(names, e.name)
		}
	})
	return names, true
}

// namesAfter returns, in name order, up to limit account names that sort
// after after ("": from the first), and whether more follow; built is false
// when the schedule cannot say because it has not been built from storage
// yet. Once built it holds every stored account (see namesOfUser), and
// perhaps a name whose account is not stored: unverified lists the
// positions in names of those the schedule has not confirmed since a
// crash or a failed write (schedEntry.unverified), for the caller to check.
func (s *schedule) namesAfter(after string, limit int) (names []string, unverified []int, more, built bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.built {
		return nil, nil, false, false
	}
	names = make([]string, 0, min(limit, s.byName.Len()))
	s.byName.AscendGreaterOrEqual(&schedEntry{name: after}, func(e *schedEntry) bool {
		switch {
		case e.name == after:
			return true
		case len(names) == limit:
			more = true
			return false
		}
		if e.unverified {
			unverified = append(unverified, len(names))
		}
		names = append(names, e.name)
		return true
	})
	return names, unverified, more, true
}

// remove forgets an account.
func (s *schedule) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling {
		s.journal = append(s.journal, journalEntry{name: name, removed: true})
	}
	s.removeLocked(name)
}

func (s *schedule) removeLocked(name string) {
	if e, ok := s.lookupLocked(name); ok {
		if e.counted {
			s.figs.drop(e)
		}
		if e.index >= 0 {
			heap.Remove(&s.queue, int(e.index))
		}
		s.byName.Delete(e)
		s.removeFromShardLocked(e)
	}
}

// requeue moves e to time at; the zero time parks it. Caller holds mu.
func (s *schedule) requeue(e *schedEntry, at time.Time) {
	e.at = packTime(at)
	switch {
	case at.IsZero() && e.index >= 0:
		heap.Remove(&s.queue, int(e.index))
	case at.IsZero():
	case e.index >= 0:
		heap.Fix(&s.queue, int(e.index))
	default:
		heap.Push(&s.queue, e)
	}
}

// claimDue returns up to max accounts due at now, in due order, and moves
// each one's slot to now+lease. The lease is a safety net: a refresh that
// saves the account requeues it properly; one that dies before saving leaves
// the account due again once the lease runs out, so nothing is ever dropped.
func (s *schedule) claimDue(now time.Time, max int, lease time.Duration) []claim {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []claim
	nowNano := packTime(now)
	for len(s.queue) > 0 && len(out) < max {
		e := s.queue[0]
		if e.at > nowNano {
			break
		}
		c := claim{name: e.name, dueAt: unpackTime(e.at), leasedUntil: now.Add(lease)}
		out = append(out, c)
		e.at = packTime(c.leasedUntil)
		heap.Fix(&s.queue, 0)
	}
	return out
}

// claim is one account handed to a refresh worker.
type claim struct {
	name        string
	dueAt       time.Time
	leasedUntil time.Time
}

// release puts back a claim that was never worked on (the tick ran out of
// time), at its original due time, unless something requeued it meanwhile.
func (s *schedule) release(c claim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.lookupLocked(c.name); ok && e.at == packTime(c.leasedUntil) {
		s.requeue(e, c.dueAt)
	}
}

// reschedule applies a new refresh window to every account at once.
func (s *schedule) reschedule(window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling {
		// Even when the window is the one the schedule has: a rebuild
		// may have read another from the config before this write (at
		// start-up the schedule holds the default, not the config's).
		s.windowChanged = true
	}
	if s.window == window {
		return
	}
	s.window = window
	s.queue = s.queue[:0]
	s.eachLocked(func(e *schedEntry) {
		e.index = -1
		if !e.unverified {
			// An unverified entry stays due at once.
			e.at = packTime(s.timingLocked(e).dueAt(window))
		}
		if e.at != 0 {
			e.index = int32(len(s.queue))
			s.queue = append(s.queue, e)
		}
	})
	heap.Init(&s.queue)
}

// replace swaps in a freshly built schedule (start-up, failover, a
// migration): records read from the schedule index or from the accounts.
// A pending record (its account write may not have happened) becomes an
// unverified entry, due at now.
func (s *schedule) replace(window time.Duration, records []indexRecord, now time.Time) {
	s.replaceFrom(window, len(records), slices.Values(records), now)
}

// replaceFrom is replace from n records, as records yields them.
func (s *schedule) replaceFrom(window time.Duration, n int, records iter.Seq[indexRecord], now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling && s.windowChanged {
		// config changed the window after the rebuild read it.
		window = s.window
	}
	s.window = window
	s.queue = make(schedHeap, 0, n)
	s.byName = newNameTree()
	s.shards = [indexShards][]*schedEntry{}
	s.dirty = [indexShards / 64]uint64{}
	// One allocation for all the entries rather than a million small
	// ones (a faster rebuild, less for the collector to track). An entry
	// removed later keeps its slot until the next rebuild.
	block := make([]schedEntry, 0, n)
	for r := range records {
		if len(block) == cap(block) {
			block = make([]schedEntry, 0, max(n/8, 64)) // more than announced
		}
		block = append(block, schedEntry{})
		e := &block[len(block)-1]
		*e = schedEntry{name: r.name, index: -1, expIndex: -1, counted: true, unverified: r.pending}
		s.packLocked(e, r.timing)
		at := r.timing.dueAt(window)
		if r.pending {
			at = earliest(at, now)
		}
		e.at = packTime(at)
		s.byName.ReplaceOrInsert(e)
		s.addToShardLocked(e)
		if e.at != 0 {
			e.index = int32(len(s.queue))
			s.queue = append(s.queue, e)
		}
	}
	heap.Init(&s.queue)
	s.figs.rebuild(s.byName)
	for _, j := range s.journal {
		switch {
		case j.removed:
			s.removeLocked(j.name)
		case j.unverified:
			s.setUnverifiedLocked(j.name, j.timing, now)
		default:
			s.setLocked(j.name, j.timing)
		}
		// What the rebuild read of this account's shard predates the
		// write: the shard is written again from memory.
		s.markDirtyLocked(indexShardOf(j.name))
	}
	s.endJournal()
	s.built = true
	s.lastRebuild = now
}

// beginRebuild starts journaling changes for a rebuild about to read
// storage; replace applies and ends the journal, abortRebuild drops it.
func (s *schedule) beginRebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endJournal()
	s.journaling = true
}

func (s *schedule) abortRebuild() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endJournal()
}

func (s *schedule) endJournal() {
	s.journaling, s.journal, s.windowChanged = false, nil, false
}

// needsRebuild reports whether the schedule was never built or its last
// rebuild is older than every.
func (s *schedule) needsRebuild(now time.Time, every time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.built || now.Sub(s.lastRebuild) >= every
}

// snapshot summarises the schedule for the status path.
type scheduleSnapshot struct {
	byStatus map[string]int
	total    int
	nextDue  time.Time
	nextName string
}

func (s *schedule) snapshot() scheduleSnapshot {
	f := s.figures()
	return scheduleSnapshot{byStatus: f.byStatus, total: f.total, nextDue: f.nextDue, nextName: f.nextName}
}

// dueTime is the scheduled time of one account (zero if unknown or parked).
func (s *schedule) dueTime(name string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.lookupLocked(name); ok {
		return unpackTime(e.at)
	}
	return time.Time{}
}

// schedHeap implements heap.Interface ordered by due time.
type schedHeap []*schedEntry

func (h schedHeap) Len() int           { return len(h) }
func (h schedHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h schedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = int32(i)
	h[j].index = int32(j)
}
func (h *schedHeap) Push(x any) {
	e := x.(*schedEntry)
	e.index = int32(len(*h))
	*h = append(*h, e)
}
func (h *schedHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}
