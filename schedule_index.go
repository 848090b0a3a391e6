package instagram

import (
	"math/bits"
	"time"
)

// The schedule's side of the schedule index (index.go): which entries belong
// to which index shard, which shards' storage entries may be behind memory,
// and the records a shard's storage entry is written from.

// addToShardLocked lists e in its index shard. Caller holds mu.
func (s *schedule) addToShardLocked(e *schedEntry) {
	k := indexShardOf(e.name)
	e.shardPos = int32(len(s.shards[k]))
	s.shards[k] = append(s.shards[k], e)
}

// removeFromShardLocked takes e off its shard's list (the last entry takes
// its place) and marks the shard dirty: its storage entry still holds e.
// Caller holds mu.
func (s *schedule) removeFromShardLocked(e *schedEntry) {
	k := indexShardOf(e.name)
	list := s.shards[k]
	last := list[len(list)-1]
	list[e.shardPos] = last
	last.shardPos = e.shardPos
	list[len(list)-1] = nil
	s.shards[k] = list[:len(list)-1]
	s.markDirtyLocked(k)
}

// verifiedLocked clears e's unverified mark: its timing now comes from the
// stored account. The shard's storage entry still says pending for it, and
// is rewritten at the next flush. Caller holds mu.
func (s *schedule) verifiedLocked(e *schedEntry) {
	if e.unverified {
		e.unverified = false
		s.markDirtyLocked(indexShardOf(e.name))
	}
}

// setUnverified records a timing the stored account may not have (its write
// failed, perhaps after storing it): the entry is due at once, so that the
// periodic work reads what is stored, and stays pending in the index until
// then. An entry already known keeps its timing.
func (s *schedule) setUnverified(name string, t timing, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.journaling {
		s.journal = append(s.journal, journalEntry{name: name, timing: t, unverified: true})
	}
	s.setUnverifiedLocked(name, t, now)
}

func (s *schedule) setUnverifiedLocked(name string, t timing, now time.Time) {
	e, known := s.lookupLocked(name)
	if !known {
		e = s.entryLocked(name)
		s.assignLocked(e, t)
	}
	if !e.unverified {
		e.unverified = true
		s.markDirtyLocked(indexShardOf(name))
	}
	s.requeue(e, earliest(s.timingLocked(e).dueAt(s.window), now))
}

// earliest is the earlier of a due time (zero: parked) and now.
func earliest(due, now time.Time) time.Time {
	if due.IsZero() || now.Before(due) {
		return now
	}
	return due
}

func (s *schedule) markDirty(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.markDirtyLocked(k)
}

func (s *schedule) markDirtyLocked(k int) {
	s.dirty[k/64] |= 1 << (k % 64)
}

// dirtyShards lists the shards whose storage entry may be behind memory.
func (s *schedule) dirtyShards() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for w, word := range s.dirty {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			out = append(out, w*64+b)
			word &^= 1 << b
		}
	}
	return out
}

// shardRecords returns what shard k's storage entry should hold, by
// memory: a record per entry, pending where unverified. take also clears
// the shard's dirty mark, for a caller about to write them (who marks it
// again if the write fails). false when the schedule is not built, and
// memory cannot say.
func (s *schedule) shardRecords(k int, take bool) ([]indexRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.built {
		return nil, false
	}
	recs := make([]indexRecord, 0, len(s.shards[k])+1)
	var scopeNames []string
	for _, e := range s.shards[k] {
		recs = append(recs, s.recordLocked(e, &scopeNames))
	}
	if take {
		s.dirty[k/64] &^= 1 << (k % 64)
	}
	return recs, true
}

// isBuilt reports whether the schedule has been built from storage.
func (s *schedule) isBuilt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.built
}

// recordLocked is e as an index record: its timing with the scope names
// back (the schedule keeps them as bits), pending if unverified. names
// caches the scope table by bit across calls. Caller holds mu.
func (s *schedule) recordLocked(e *schedEntry, names *[]string) indexRecord {
	t := s.timingLocked(e)
	if e.scopesKnown {
		if *names == nil {
			*names = s.scopeNamesLocked()
		}
		for bit, name := range *names {
			if name != "" && e.scopeBits&(1<<bit) != 0 {
				t.scopes = append(t.scopes, name)
			}
		}
	}
	return indexRecord{name: e.name, timing: t, pending: e.unverified}
}

// scopeNamesLocked is the figures' scope table by bit: the schedule keeps an
// entry's scopes as bits (scheduleFigures), the index as names. Caller
// holds mu.
func (s *schedule) scopeNamesLocked() []string {
	names := make([]string, 64)
	for name, bit := range s.figs.scopes.bits {
		names[bits.TrailingZeros64(bit)] = name
	}
	return names
}
