package instagram

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// checkIndex is the hourly safety net (rescanEvery), in case the schedule
// ever drifted from storage: it compares a listing of the accounts' keys,
// the stored schedule index and memory, shard by shard, and reads only the
// accounts on which they disagree, to schedule each from what is stored
// (or forget it) and write its shard again. Reading every account, as the
// rebuild once did, would take minutes at a million.
func (b *backend) checkIndex(ctx context.Context, s logical.Storage) error {
	now := b.clock.Now()
	// Settled records still pending in storage would all differ.
	if err := b.flushIndex(ctx, s); err != nil {
		return err
	}
	meta, err := s.Get(ctx, indexMetaPath)
	if err != nil {
		return fmt.Errorf("reading the schedule index: %w", err)
	}
	if meta == nil {
		// The start-up migration could not finish writing the index.
		if err := b.buildIndex(ctx, s); err != nil {
			return err
		}
	}
	names, err := s.List(ctx, accountStoragePrefix)
	if err != nil {
		return fmt.Errorf("listing accounts: %w", err)
	}
	listed := make([][]string, schedule.IndexShards)
	for _, name := range names {
		k := b.shardOf(name)
		listed[k] = append(listed[k], name)
	}
	stored, err := b.listShards(ctx, s, true)
	if err != nil {
		return err
	}
	shards := make([]int, schedule.IndexShards)
	for k := range shards {
		shards[k] = k
	}
	var (
		mu       sync.Mutex
		suspects []string
		firstErr error
	)
	forEachBounded(context.WithoutCancel(ctx), rebuildLoaders, shards, func(k int) {
		inIndex, err := readShardEntries(ctx, s, k, stored[k])
		mem, _ := b.sched.ShardRecords(k, false)
		mu.Lock()
		defer mu.Unlock()
		if keepFirst(&firstErr, err) {
			return
		}
		suspects = append(suspects, disagreements(listed[k], inIndex, mem)...)
	})
	if firstErr != nil {
		return firstErr
	}
	fixed := 0
	for _, name := range suspects {
		changed, err := b.recheckAccount(ctx, s, name)
		if err != nil {
			return err
		}
		if changed {
			fixed++
		}
	}
	if fixed > 0 {
		b.Logger().Warn("the hourly check found the schedule behind storage and fixed it", "accounts", fixed)
	}
	if err := b.flushIndex(ctx, s); err != nil {
		return err
	}
	b.sched.Checked(now)
	return nil
}

// disagreements lists the names of one shard that are not listed, stored
// in the index and held in memory alike, with the same record.
func disagreements(listed []string, stored, mem []schedule.Record) []string {
	records := func(recs []schedule.Record) map[string]string {
		m := make(map[string]string, len(recs))
		for _, r := range recs {
			m[r.Name] = schedule.RecordKey(r)
		}
		return m
	}
	inIndex, inMemory := records(stored), records(mem)
	seen := make(map[string]bool, len(listed))
	var out []string
	for _, name := range listed {
		seen[name] = true
		i, ok1 := inIndex[name]
		m, ok2 := inMemory[name]
		if !ok1 || !ok2 || i != m {
			out = append(out, name)
		}
	}
	for _, recs := range [][]schedule.Record{stored, mem} {
		for _, r := range recs {
			if !seen[r.Name] {
				seen[r.Name] = true
				out = append(out, r.Name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// recheckAccount schedules name from what storage holds, under its lock
// (so no write of it is in flight), and reports whether memory changed.
func (b *backend) recheckAccount(ctx context.Context, s logical.Storage, name string) (bool, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	a, err := loadAccount(ctx, s, name)
	if err != nil {
		return false, err
	}
	before, known := b.sched.RecordOf(name)
	if a == nil {
		b.sched.Remove(name)
		return known, nil
	}
	t := a.scheduled()
	b.sched.Set(name, t)
	b.sched.MarkDirty(b.shardOf(name))
	return !known || schedule.RecordKey(before) != schedule.RecordKey(schedule.Record{Name: name, Account: t}), nil
}
