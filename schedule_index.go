package instagram

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// The schedule index: what the schedule needs of every account (its timing
// and owner hashes, about 80 bytes), kept in storage in schedule.IndexShards entries
// so that building the schedule at start-up or after a failover reads a few
// thousand entries rather than every account (the first design's rebuild
// read all of them: 11 s at 100,000 accounts in Vault).
//
// # Why an account is never missing from it
//
// saveAccount writes an account's index record BEFORE the account, marked
// pending; deleteAccount deletes the account BEFORE its record. So at any
// instant, and after a crash at any instant, every stored account has a
// record. A pending record says "the account may not match this timing":
// the rebuild makes it due at once (schedule.Queue.Replace), the periodic work
// then reads the stored account and schedules it from what is stored (or
// forgets it, when the write that was to create it never happened). A crash
// between the two writes therefore leaves the account due earlier than
// needed, never later and never unscheduled. Once the account write has
// succeeded, memory holds the timing as settled, and the next write of the
// shard (any writer's, or the periodic flush) stores it settled.
//
// # Writing a shard
//
// A shard's entry holds all its accounts' records, so writing one account's
// record rewrites the shard; a per-shard mutex orders its writers. Once the
// schedule is built the records come from memory (schedule.Queue.ShardRecords)
// plus the records being announced (shard.announced), so a write costs one
// Put; before (the start-up rebuild), from the stored entry, read, changed
// and written back under the same mutex.
//
// Layout: index/<3 hex digits> (shard number, by the mount's keyed hash of
// the name: schedule.ShardKey), and index-meta (indexMeta), written once the
// index holds every account: a mount without it (created before the index
// existed) builds it from its accounts once.
//
// # A shard that outgrows one entry
//
// Storage takes entries up to a size (Raft: 1 MiB). A shard whose encoding
// passes maxShardEntry is spilled over several entries, index/<shard>/<gen>.<part>,
// each under the bound, so its writes never fail for its size. A write stores
// the new entries before it deletes the old ones (under new keys: gen counts
// up), so a crash between leaves a record twice, never missing; a reader
// merges the copies of a name, and two that differ become one pending record
// (the account is read again, as after any interrupted write).
//
// # Layouts
//
// index-meta format 1 was the first layout: shards chosen by an unkeyed
// hash (FNV-1a of the name), which let a registrant fill another account's
// shard (issue 22, finding 5). A start on such an index reads it (where a
// record sits does not matter to a reader), then writes it again under the
// mount's key: index-meta goes first, so a crash meanwhile leaves a mount
// without an index, built again from the accounts at the next start.
//
// How a shard's records are encoded into its entries (and spilled, and
// merged back) is internal/schedule/codec.go; this file stores them.

const (
	indexStoragePrefix = "index/"
	indexMetaPath      = "index-meta"

	// indexMetaFormat is the layout index-meta describes: keyed shards
	// that may spill. indexMetaUnkeyed is the first layout's.
	indexMetaFormat  = 2
	indexMetaUnkeyed = 1

	// maxShardEntry is the most one shard entry holds before the shard
	// spills: a quarter of Raft's 1 MiB entry limit, leaving room for the
	// key, encryption and seal wrapping. A shard holds about 20 KB at a
	// million accounts, so only a shard filled on purpose comes near it.
	maxShardEntry = 256 << 10
)

// errNoIndex says storage holds no usable index: it must be built from the
// accounts (a mount created before the index, or a damaged shard).
var errNoIndex = errors.New("no schedule index")

// indexMeta is stored at indexMetaPath once the index is complete.
type indexMeta struct {
	Format  int       `json:"format"`
	Shards  int       `json:"shards"`
	BuiltAt time.Time `json:"built_at"`
}

func indexShardKey(k int) string { return fmt.Sprintf("%s%03x", indexStoragePrefix, k) }

// indexPartPrefix is the folder of a spilled shard's entries.
func indexPartPrefix(k int) string { return indexShardKey(k) + "/" }

func indexPartKey(k, gen, part int) string {
	return fmt.Sprintf("%s%d.%d", indexPartPrefix(k), gen, part)
}

// partGen is the generation in a spilled entry's name (within its folder).
func partGen(name string) (int, bool) {
	var gen, part int
	if _, err := fmt.Sscanf(name, "%d.%d", &gen, &part); err != nil || fmt.Sprintf("%d.%d", gen, part) != name {
		return 0, false
	}
	return gen, true
}

// scheduleIndex is the backend's state for writing the index.
type scheduleIndex struct {
	shards [schedule.IndexShards]indexShard
}

type indexShard struct {
	mu sync.Mutex
	// announced are records written to the shard's entry (pending) whose
	// account write has not finished: the shard's other writers keep them.
	// Guarded by mu.
	announced map[string]schedule.Account
	// keys are the storage entries holding the shard (its own key, or
	// spilled entries), once known (from a listing); gen is the highest
	// generation of spilled entries. Guarded by mu.
	known bool
	keys  []string
	gen   int
}

// shardOf is name's index shard, under the mount's key.
func (b *backend) shardOf(name string) int { return b.sched.ShardOf(name) }

// announceIndex is step one of an account write: the account's record,
// pending, goes to storage before the account does. settleIndex ends it.
func (b *backend) announceIndex(ctx context.Context, s logical.Storage, name string, t schedule.Account) error {
	// No shard is written under any other key than the mount's.
	if _, err := b.loadMountKey(ctx, s); err != nil {
		return fmt.Errorf("writing the schedule index for account %q: %w", name, err)
	}
	k := b.shardOf(name)
	sh := &b.index.shards[k]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.announced == nil {
		sh.announced = make(map[string]schedule.Account)
	}
	sh.announced[name] = t
	if err := b.writeShardLocked(ctx, s, k, ""); err != nil {
		delete(sh.announced, name)
		return fmt.Errorf("writing the schedule index for account %q: %w", name, err)
	}
	return nil
}

// settleIndex is the last step of an account write, after the account's
// Put (stored reports whether it succeeded) and, if it did, after the
// schedule took the new timing: the record is no longer announced. Memory
// now holds the account settled, or, when the Put failed (perhaps after
// storing it), unverified: due at once, to be read from storage. Either way
// the stored shard still says pending, until its next write.
func (b *backend) settleIndex(name string, t schedule.Account, stored bool) {
	if !stored {
		b.sched.SetUnverified(name, t, b.clock.Now())
	}
	k := b.shardOf(name)
	sh := &b.index.shards[k]
	sh.mu.Lock()
	delete(sh.announced, name)
	sh.mu.Unlock()
	b.sched.MarkDirty(k)
}

// dropFromIndex is the last step of an account delete, after the account
// and its schedule entry are gone: the shard is written without it.
func (b *backend) dropFromIndex(ctx context.Context, s logical.Storage, name string) error {
	if _, err := b.loadMountKey(ctx, s); err != nil {
		return fmt.Errorf("removing account %q from the schedule index: %w", name, err)
	}
	k := b.shardOf(name)
	sh := &b.index.shards[k]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if err := b.writeShardLocked(ctx, s, k, name); err != nil {
		return fmt.Errorf("removing account %q from the schedule index: %w", name, err)
	}
	return nil
}

// writeShardLocked writes shard k's entry: from memory once the schedule is
// built, else from the stored entry without drop; the announced records
// either way. The caller holds the shard's mutex.
func (b *backend) writeShardLocked(ctx context.Context, s logical.Storage, k int, drop string) error {
	sh := &b.index.shards[k]
	if err := b.knowShardLocked(ctx, s, k); err != nil {
		return err
	}
	recs, fromMemory := b.sched.ShardRecords(k, true)
	if !fromMemory {
		var err error
		if recs, err = readShardEntries(ctx, s, k, sh.keys); err != nil {
			return err
		}
		recs = slices.DeleteFunc(recs, func(r schedule.Record) bool { return r.Name == drop })
	}
	for name, t := range sh.announced {
		recs = slices.DeleteFunc(recs, func(r schedule.Record) bool { return r.Name == name })
		recs = append(recs, schedule.Record{Name: name, Account: t, Pending: true})
	}
	err := b.putShardLocked(ctx, s, k, recs)
	if err != nil && fromMemory {
		b.sched.MarkDirty(k)
	}
	return err
}

// knowShardLocked learns which entries hold shard k, from a listing of its
// spill folder, unless known. Its own key is taken as stored: deleting it
// when it is not costs nothing. The caller holds the shard's mutex.
func (b *backend) knowShardLocked(ctx context.Context, s logical.Storage, k int) error {
	sh := &b.index.shards[k]
	if sh.known {
		return nil
	}
	parts, err := s.List(ctx, indexPartPrefix(k))
	if err != nil {
		return fmt.Errorf("listing schedule index shard %03x: %w", k, err)
	}
	sh.setKeys(k, true, parts)
	return nil
}

// setKeys records the shard's stored entries: its own key if single, and
// the spilled entries parts (names within its folder).
func (sh *indexShard) setKeys(k int, single bool, parts []string) {
	sh.keys = sh.keys[:0]
	if single {
		sh.keys = append(sh.keys, indexShardKey(k))
	}
	for _, p := range parts {
		if gen, ok := partGen(p); ok {
			sh.keys = append(sh.keys, indexPartPrefix(k)+p)
			sh.gen = max(sh.gen, gen)
		}
	}
	sh.known = true
}

// putShardLocked stores shard k's records: in its own entry when they fit
// in maxShardEntry, else spilled over new entries; then deletes the
// entries the shard no longer uses. An empty shard has no entry. The
// caller holds the shard's mutex and knows its keys.
func (b *backend) putShardLocked(ctx context.Context, s logical.Storage, k int, recs []schedule.Record) error {
	sh := &b.index.shards[k]
	var entries [][]byte
	if len(recs) > 0 {
		entries = schedule.SpillShard(recs, maxShardEntry)
	}
	var keys []string
	switch len(entries) {
	case 0:
	case 1:
		keys = []string{indexShardKey(k)}
	default:
		sh.gen++
		for p := range entries {
			keys = append(keys, indexPartKey(k, sh.gen, p))
		}
	}
	for i, key := range keys {
		if err := s.Put(ctx, &logical.StorageEntry{Key: key, Value: entries[i]}); err != nil {
			// What was written stays known as stored, with what was there.
			sh.keys = mergeKeys(sh.keys, keys[:i])
			return err
		}
	}
	old := sh.keys
	sh.keys = mergeKeys(keys, old)
	for _, key := range old {
		if slices.Contains(keys, key) {
			continue
		}
		if err := s.Delete(ctx, key); err != nil {
			return err
		}
		sh.keys = slices.DeleteFunc(sh.keys, func(k string) bool { return k == key })
	}
	return nil
}

// mergeKeys is a with b's keys it lacks.
func mergeKeys(a, b []string) []string {
	out := slices.Clone(a)
	for _, k := range b {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// readShard reads shard k's stored records (none if it has no entry),
// listing its spill folder.
func readShard(ctx context.Context, s logical.Storage, k int) ([]schedule.Record, error) {
	parts, err := s.List(ctx, indexPartPrefix(k))
	if err != nil {
		return nil, fmt.Errorf("listing schedule index shard %03x: %w", k, err)
	}
	var sh indexShard
	sh.setKeys(k, true, parts)
	return readShardEntries(ctx, s, k, sh.keys)
}

// readShardEntries reads and merges the entries keys of shard k.
func readShardEntries(ctx context.Context, s logical.Storage, k int, keys []string) ([]schedule.Record, error) {
	var lists [][]schedule.Record
	for _, key := range keys {
		entry, err := s.Get(ctx, key)
		if err != nil || entry == nil {
			if err != nil {
				return nil, err
			}
			continue
		}
		recs, err := schedule.DecodeShard(entry.Value)
		if err != nil {
			return nil, fmt.Errorf("schedule index shard %03x: %w", k, err)
		}
		lists = append(lists, recs)
	}
	return schedule.MergeRecords(lists), nil
}

// flushIndex writes the shards whose stored entry may be behind memory
// (settled accounts still pending there, accounts forgotten), while ctx
// lasts. A crash before it only costs a read of those accounts after the
// restart. It does nothing before the schedule is built.
func (b *backend) flushIndex(ctx context.Context, s logical.Storage) error {
	if !b.sched.Built() {
		return nil
	}
	var firstErr error
	for _, k := range b.sched.DirtyShards() {
		if ctx.Err() != nil {
			break
		}
		sh := &b.index.shards[k]
		sh.mu.Lock()
		err := b.writeShardLocked(ctx, s, k, "")
		sh.mu.Unlock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("writing the schedule index: %w", err)
		}
	}
	return firstErr
}

// indexRecords are the records loadIndex read, still encoded as stored
// (about 80 bytes an account, where decoded records take over 200: at a
// million accounts the difference is most of the plugin's memory during a
// rebuild), decoded one at a time as the schedule is built. shards holds
// each shard's entries: one, or a spilled shard's several.
type indexRecords struct {
	shards [][][]byte
	n      int
	// format is index-meta's: indexMetaUnkeyed asks for a re-shard.
	format int
}

// all decodes the records, shard by shard (loadIndex decoded them once
// already, so they decode). A spilled shard's are merged first.
func (r indexRecords) all() iter.Seq[schedule.Record] {
	return func(yield func(schedule.Record) bool) {
		for _, entries := range r.shards {
			if len(entries) > 1 {
				var lists [][]schedule.Record
				for _, data := range entries {
					recs, _ := schedule.DecodeShard(data)
					lists = append(lists, recs)
				}
				for _, rec := range schedule.MergeRecords(lists) {
					if !yield(rec) {
						return
					}
				}
				continue
			}
			for _, data := range entries {
				stop := false
				_ = schedule.DecodeShardEach(data, func(rec schedule.Record) bool {
					stop = !yield(rec)
					return !stop
				})
				if stop {
					return
				}
			}
		}
	}
}

// loadIndex reads every stored shard, rebuildLoaders at a time: the
// schedule's records at start-up. errNoIndex when there is none to trust
// (no indexMeta, another layout, or a shard that does not decode). It also
// learns which entries hold each shard, for the writers.
func (b *backend) loadIndex(ctx context.Context, s logical.Storage) (indexRecords, error) {
	entry, err := s.Get(ctx, indexMetaPath)
	if err != nil {
		return indexRecords{}, fmt.Errorf("reading the schedule index: %w", err)
	}
	var meta indexMeta
	if entry == nil {
		return indexRecords{}, errNoIndex
	}
	if err := entry.DecodeJSON(&meta); err != nil || (meta.Format != indexMetaFormat && meta.Format != indexMetaUnkeyed) || meta.Shards != schedule.IndexShards {
		return indexRecords{}, fmt.Errorf("%w: index-meta %s", errNoIndex, strings.TrimSpace(string(entry.Value)))
	}
	listed, err := b.listShards(ctx, s, meta.Format == indexMetaFormat)
	if err != nil {
		return indexRecords{}, err
	}
	type job struct {
		k   int
		key string
	}
	var jobs []job
	for k, keys := range listed {
		for _, key := range keys {
			jobs = append(jobs, job{k, key})
		}
	}
	var (
		mu       sync.Mutex
		shards   = make([][][]byte, schedule.IndexShards)
		total    int
		firstErr error
	)
	forEachBounded(context.WithoutCancel(ctx), rebuildLoaders, jobs, func(j job) {
		entry, err := s.Get(ctx, j.key)
		n := 0
		if err == nil && entry != nil {
			// Decoded once here, to know it decodes and how many it holds.
			if err = schedule.DecodeShardEach(entry.Value, func(schedule.Record) bool { n++; return true }); err != nil {
				err = fmt.Errorf("schedule index shard %03x: %w", j.k, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if keepFirst(&firstErr, err) {
			return
		}
		if entry != nil {
			shards[j.k] = append(shards[j.k], entry.Value)
			total += n
		}
	})
	if firstErr != nil {
		var decodeErr *schedule.ShardDecodeError
		if errors.As(firstErr, &decodeErr) {
			return indexRecords{}, fmt.Errorf("%w: %v", errNoIndex, firstErr)
		}
		return indexRecords{}, firstErr
	}
	return indexRecords{shards: shards, n: total, format: meta.Format}, nil
}

// listShards lists the index's stored entries by shard: each shard's own
// key, and, with spilled, its spilled entries. The writers learn them.
func (b *backend) listShards(ctx context.Context, s logical.Storage, spilled bool) ([][]string, error) {
	keys, err := s.List(ctx, indexStoragePrefix)
	if err != nil {
		return nil, fmt.Errorf("listing the schedule index: %w", err)
	}
	out := make([][]string, schedule.IndexShards)
	for _, key := range keys {
		name, folder := strings.CutSuffix(key, "/")
		var k int
		if _, err := fmt.Sscanf(name, "%03x", &k); err != nil || indexShardKey(k) != indexStoragePrefix+name {
			continue // not a shard: ignored
		}
		if !folder {
			out[k] = append(out[k], indexShardKey(k))
			continue
		}
		if !spilled {
			continue
		}
		parts, err := s.List(ctx, indexPartPrefix(k))
		if err != nil {
			return nil, fmt.Errorf("listing schedule index shard %03x: %w", k, err)
		}
		for _, p := range parts {
			if _, ok := partGen(p); ok {
				out[k] = append(out[k], indexPartPrefix(k)+p)
			}
		}
	}
	for k := range out {
		sh := &b.index.shards[k]
		sh.mu.Lock()
		if !sh.known {
			// What a writer learnt meanwhile is newer than this listing.
			var parts []string
			single := false
			for _, key := range out[k] {
				if key == indexShardKey(k) {
					single = true
				} else {
					parts = append(parts, strings.TrimPrefix(key, indexPartPrefix(k)))
				}
			}
			sh.setKeys(k, single, parts)
		}
		sh.mu.Unlock()
	}
	return out, nil
}

// buildIndex writes every shard from memory, which the caller has just
// built (from the accounts, or from an index of the first layout), deletes
// stored shards memory has no account for, and then stores indexMeta: from
// then on start-ups read the index. index-meta is deleted first, so that a
// crash meanwhile leaves no index to trust. Writers meanwhile keep their
// records (writeShardLocked under each shard's mutex); the ordering
// argument above holds throughout, since memory and the announced records
// cover every stored account.
func (b *backend) buildIndex(ctx context.Context, s logical.Storage) error {
	if _, err := b.loadMountKey(ctx, s); err != nil {
		return fmt.Errorf("writing the schedule index: %w", err)
	}
	if err := s.Delete(ctx, indexMetaPath); err != nil {
		return fmt.Errorf("writing the schedule index: %w", err)
	}
	listed, err := b.listShards(ctx, s, true)
	if err != nil {
		return err
	}
	for k := range schedule.IndexShards {
		recs, ok := b.sched.ShardRecords(k, false)
		if !ok {
			return errors.New("the schedule is not built")
		}
		if len(recs) == 0 && len(listed[k]) == 0 {
			continue
		}
		sh := &b.index.shards[k]
		sh.mu.Lock()
		err := b.writeShardLocked(ctx, s, k, "")
		sh.mu.Unlock()
		if err != nil {
			return fmt.Errorf("writing the schedule index: %w", err)
		}
	}
	entry, err := logical.StorageEntryJSON(indexMetaPath, indexMeta{Format: indexMetaFormat, Shards: schedule.IndexShards, BuiltAt: b.clock.Now()})
	if err != nil {
		return err
	}
	return s.Put(ctx, entry)
}

// keepFirst records err in *first unless an error is there already, and
// reports whether err is one: of concurrent shard reads, the first failure
// is the one reported. Callers hold the mutex that guards *first.
func keepFirst(first *error, err error) bool {
	if err != nil && *first == nil {
		*first = err
	}
	return err != nil
}
