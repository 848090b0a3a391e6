package schedule

import (
	"math/bits"
	"time"
)

// The queue's side of the schedule index that the plugin keeps in storage:
// which entries belong to which index shard, which shards' storage entries
// may be behind memory, and the records a shard's storage entry is written
// from. The plugin's schedule_index.go says how the index is stored and why its
// write order never loses an account.

// IndexShards spreads accounts so that a shard stays small: about 250
// records (20 KB) at a million accounts, 25 at 100,000, and a rebuild reads
// at most 4,096 entries. It is part of the storage layout: a change
// rebuilds the index from the accounts.
const IndexShards = 4096

// ShardKey is a mount's secret key for choosing shards. The first layout
// chose them by an unkeyed hash of the name (FNV-1a), so anyone who knew
// an account's name could compute thousands of names for its shard and,
// by registering them, grow that shard's storage entry past what storage
// takes (Raft: 1 MiB), failing every later save of the account (issue 22,
// finding 5). Keyed, the choice cannot be computed without the key, which
// never leaves storage.
type ShardKey struct{ k0, k1 uint64 }

// NewShardKey makes a key of 16 secret bytes.
func NewShardKey(b [16]byte) ShardKey {
	return ShardKey{k0: le64(string(b[:8])), k1: le64(string(b[8:]))}
}

// Of is the index shard of name: SipHash-2-4's top 12 bits.
func (k ShardKey) Of(name string) int {
	return int(sipHash24(k.k0, k.k1, name) >> (64 - 12))
}

// NamesIn returns n names of prefix plus 8 characters (letters and
// digits) in shard under k, for tests that play an adversary who somehow
// learnt the key. The prefix's length is a multiple of 8, so that
// SipHash's state after it is computed once.
func (k ShardKey) NamesIn(shard int, prefix string, n int) []string {
	const digits = "0123456789abcdefghijklmnopqrstuv" // 32: five bits each
	if len(prefix)%8 != 0 {
		panic("schedule: NamesIn's prefix must be a multiple of 8 bytes long")
	}
	s := newSipState(k.k0, k.k1)
	s.words(prefix)
	out := make([]string, 0, n)
	for i := uint64(0); len(out) < n; i++ {
		var word uint64
		for j := range 8 {
			word |= uint64(digits[(i>>(5*j))&31]) << (8 * j)
		}
		t := s
		t.compress(word)
		if int(t.finish("", len(prefix)+8)>>(64-12)) == shard {
			var suffix [8]byte
			for j := range suffix {
				suffix[j] = byte(word >> (8 * j))
			}
			out = append(out, prefix+string(suffix[:]))
		}
	}
	return out
}

// SetShardKey sets the key the queue chooses shards with. The backend sets
// it before it writes any shard; entries already held move to their shard
// under the new key (and, once built, every shard is written again).
func (q *Queue) SetShardKey(k ShardKey) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shardKey == k {
		return
	}
	q.shardKey = k
	q.shards = [IndexShards][]*entry{}
	q.eachLocked(q.addToShardLocked)
	if q.built {
		for i := range q.dirty {
			q.dirty[i] = ^uint64(0)
		}
	}
}

// ShardOf is the index shard holding name's record under the queue's key.
func (q *Queue) ShardOf(name string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shardKey.Of(name)
}

// addToShardLocked lists e in its index shard. Caller holds mu.
func (q *Queue) addToShardLocked(e *entry) {
	k := q.shardKey.Of(e.name)
	e.shardPos = int32(len(q.shards[k]))
	q.shards[k] = append(q.shards[k], e)
}

// removeFromShardLocked takes e off its shard's list (the last entry takes
// its place) and marks the shard dirty: its storage entry still holds e.
// Caller holds mu.
func (q *Queue) removeFromShardLocked(e *entry) {
	k := q.shardKey.Of(e.name)
	list := q.shards[k]
	last := list[len(list)-1]
	list[e.shardPos] = last
	last.shardPos = e.shardPos
	list[len(list)-1] = nil
	q.shards[k] = list[:len(list)-1]
	q.markDirtyLocked(k)
}

// verifiedLocked clears e's unverified mark: its Account now comes from the
// stored account. The shard's storage entry still says pending for it, and
// is rewritten at the next flush. Caller holds mu.
func (q *Queue) verifiedLocked(e *entry) {
	if e.unverified {
		e.unverified = false
		q.markDirtyLocked(q.shardKey.Of(e.name))
	}
}

// SetUnverified records an Account the stored account may not have (its
// write failed, perhaps after storing it): the entry is due at once, so
// that the periodic work reads what is stored, and stays pending in the
// index until then. An entry already known keeps its Account.
func (q *Queue) SetUnverified(name string, a Account, now time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.journal.add(journalEntry{name: name, account: a, unverified: true})
	q.setUnverifiedLocked(name, a, now)
}

func (q *Queue) setUnverifiedLocked(name string, a Account, now time.Time) {
	e, known := q.lookupLocked(name)
	if !known {
		e = q.entryLocked(name)
		q.assignLocked(e, a)
	}
	if !e.unverified {
		e.unverified = true
		q.markDirtyLocked(q.shardKey.Of(name))
	}
	q.requeueLocked(e, earliest(q.accountLocked(e).DueAt(q.window), now))
}

// earliest is the earlier of a due time (zero: parked) and now.
func earliest(due, now time.Time) time.Time {
	if due.IsZero() || now.Before(due) {
		return now
	}
	return due
}

// MarkDirty says shard k's storage entry may be behind memory (a write of
// it failed, or storage changed under it).
func (q *Queue) MarkDirty(k int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.markDirtyLocked(k)
}

func (q *Queue) markDirtyLocked(k int) {
	q.dirty[k/64] |= 1 << (k % 64)
}

// DirtyShards lists the shards whose storage entry may be behind memory.
func (q *Queue) DirtyShards() []int {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []int
	for w, word := range q.dirty {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, w*64+b)
			word &^= 1 << b
		}
	}
	return out
}

// ShardRecords returns what shard k's storage entry should hold, by
// memory: a record per entry, pending where unverified. take also clears
// the shard's dirty mark, for a caller about to write them (who marks it
// again if the write fails). false when the queue is not built, and memory
// cannot say.
func (q *Queue) ShardRecords(k int, take bool) ([]Record, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.built {
		return nil, false
	}
	recs := make([]Record, 0, len(q.shards[k])+1)
	var scopeNames []string
	for _, e := range q.shards[k] {
		recs = append(recs, q.recordLocked(e, &scopeNames))
	}
	if take {
		q.dirty[k/64] &^= 1 << (k % 64)
	}
	return recs, true
}

// recordLocked is e as an index record: its Account with the scope names
// back (the queue keeps them as bits), pending if unverified. names caches
// the scope table by bit across calls. Caller holds mu.
func (q *Queue) recordLocked(e *entry, names *[]string) Record {
	a := q.accountLocked(e)
	if e.scopesKnown {
		if *names == nil {
			*names = q.figs.scopes.byBit()
		}
		for bit, name := range *names {
			if name != "" && e.scopeBits&(1<<bit) != 0 {
				a.Scopes = append(a.Scopes, name)
			}
		}
	}
	return Record{Name: e.name, Account: a, Pending: e.unverified}
}
