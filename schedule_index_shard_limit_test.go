package instagram

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// raftEntryLimit is the largest storage entry Vault's integrated storage
// (Raft) takes: 1 MiB, key and value together (max_entry_size's default).
const raftEntryLimit = 1 << 20

// entryLimitStorage refuses, as Raft does, a Put larger than limit.
type entryLimitStorage struct {
	logical.Storage
	limit int
}

func (s *entryLimitStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	if n := len(e.Key) + len(e.Value); n > s.limit {
		return fmt.Errorf("put %s: entry of %d bytes exceeds the %d-byte entry limit", e.Key, n, s.limit)
	}
	return s.Storage.Put(ctx, e)
}

// unkeyedShard is where the first index layout put a name: the top 12 bits
// of FNV-1a, which anyone can compute.
func unkeyedShard(name string) int { return int(fnv1a(14695981039346656037, name) >> 52) }

func fnv1a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// namesInUnkeyedShard finds n valid account names of maxNameLength
// characters in the unkeyed shard of victim: what a registrant who knows
// the victim's name computes in a second.
func namesInUnkeyedShard(victim string, n int) []string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	target := uint64(unkeyedShard(victim))
	prefix := strings.Repeat("p", maxNameLength-8)
	state := fnv1a(14695981039346656037, prefix)
	out := make([]string, 0, n)
	// Seven characters from a counter, then each last character: the hash
	// of the first seven is computed once for 36 names.
	for i := 0; len(out) < n; i++ {
		head := fmt.Sprintf("%07s", strconv.FormatInt(int64(i), 36))
		h7 := fnv1a(state, head)
		for _, c := range []byte(digits) {
			if ((h7^uint64(c))*1099511628211)>>52 == target && len(out) < n {
				out = append(out, prefix+head+string(c))
			}
		}
	}
	return out
}

// storeRawAccounts writes accounts straight into storage, around the
// engine (and its index): a fast way to hold thousands of registrations.
func (e *testEnv) storeRawAccounts(names []string) {
	e.t.Helper()
	now := e.clock.Now()
	for _, name := range names {
		a := &account{SchemaVersion: accountSchemaVersion, Name: name, Login: loginInstagram, AccessToken: "t", Status: statusValid,
			IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), RegisteredAt: now}
		entry, err := logical.StorageEntryJSON(accountStoragePrefix+name, a)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.storage.Put(context.Background(), entry); err != nil {
			e.t.Fatal(err)
		}
	}
}

// TestChosenNamesCannotOverfillAVictimsIndexShard: a registrant who
// knows a victim's account name registers 6,000 names of 128 characters
// chosen to land in the victim's index shard under the unkeyed hash, more
// than Raft's 1 MiB entry takes. On storage that refuses larger entries,
// the engine still builds its index, and every later save of the victim
// (a re-registration, a refresh) succeeds: the mount's own secret key
// decides the shards, so the chosen names spread out.
func TestChosenNamesCannotOverfillAVictimsIndexShard(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.useStorage(&entryLimitStorage{Storage: e.storage, limit: raftEntryLimit})
	e.restart()
	u := e.registerLongLived("victim", "victim_user", e.clock.Now().Add(-30*24*time.Hour))

	chosen := namesInUnkeyedShard("victim", 6000)
	e.storeRawAccounts(chosen)
	e.dropScheduleIndex() // the index is built again from all the accounts
	e.restart()
	if got := e.b.sched.Figures().Total; got != len(chosen)+1 {
		t.Fatalf("schedule of %d accounts, want %d", got, len(chosen)+1)
	}
	if entry, _ := e.storage.Get(context.Background(), indexMetaPath); entry == nil {
		t.Fatal("the index was not built")
	}

	tok := e.secret(e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-26*time.Hour)))
	e.mustOK(e.write("accounts/victim", map[string]any{"access_token": tok}))
	e.mustOK(e.write("accounts/victim/refresh", nil))
	// "_" ends no chosen name: a new account, not one of theirs replaced.
	e.registerLongLived(chosen[0][:maxNameLength-1]+"_", "late_user", e.clock.Now())
	e.tick()
	if r, ok := e.storedIndex()["victim"]; !ok || r.Pending {
		t.Fatalf("the victim's index record: %+v (found %v), want it settled", r, ok)
	}
}

// shardKeyOf is the key e's mount chooses shards with, as an adversary
// who somehow read it would hold it.
func (e *testEnv) shardKeyOf() schedule.ShardKey {
	e.t.Helper()
	key, err := e.b.loadMountKey(context.Background(), e.storage)
	if err != nil {
		e.t.Fatal(err)
	}
	return schedule.NewShardKey([16]byte(deriveKey(key, keyLabelShards)))
}

// TestOverfullIndexShardSpillsInsteadOfFailingWrites: even a registrant
// who knew the mount's key, and filled the victim's shard with 6,000
// names of 128 characters (over 1 MiB of records), fails no write: the
// shard spills over several entries, each under the bound, on storage
// that refuses entries over 1 MiB; the victim's saves succeed, and a
// restart reads every record back without reading an account.
func TestOverfullIndexShardSpillsInsteadOfFailingWrites(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.useStorage(&entryLimitStorage{Storage: e.storage, limit: raftEntryLimit})
	e.restart()
	u := e.registerLongLived("victim", "victim_user", e.clock.Now().Add(-30*24*time.Hour))
	k := e.b.shardOf("victim")
	chosen := e.shardKeyOf().NamesIn(k, strings.Repeat("p", maxNameLength-8), 6000)
	e.storeRawAccounts(chosen)
	e.dropScheduleIndex()
	e.restart()

	tok := e.secret(e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-26*time.Hour)))
	e.mustOK(e.write("accounts/victim", map[string]any{"access_token": tok}))
	e.mustOK(e.write("accounts/victim/refresh", nil))
	e.tick()

	parts := e.storedKeys(indexPartPrefix(k))
	if len(parts) < 2 {
		t.Fatalf("the victim's shard is held in %v, want it spilled over several entries", parts)
	}
	total := 0
	for _, key := range parts {
		entry, _ := e.storage.Get(context.Background(), key)
		if len(entry.Value) > maxShardEntry {
			t.Errorf("%s holds %d bytes, over the %d bound", key, len(entry.Value), maxShardEntry)
		}
		total += len(entry.Value)
	}
	if total <= raftEntryLimit {
		t.Fatalf("the shard's records take %d bytes: the test did not fill it past 1 MiB", total)
	}
	if entry, _ := e.storage.Get(context.Background(), indexShardKey(k)); entry != nil {
		t.Error("the spilled shard's own entry is still stored")
	}
	idx := e.storedIndex()
	if len(idx) != len(chosen)+1 {
		t.Fatalf("the index holds %d records, want %d", len(idx), len(chosen)+1)
	}
	if r := idx["victim"]; r.Pending || !reflect.DeepEqual(r.Account, e.account("victim").scheduled()) {
		t.Fatalf("the victim's record %+v, want it settled as stored", r)
	}

	before := e.scheduleState()
	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.restart()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("the start read %d accounts, want the spilled index read instead", reads)
	}
	if after := e.scheduleState(); !reflect.DeepEqual(before, after) {
		t.Fatal("the schedule read from the spilled index differs from the one written")
	}
}

// TestSpilledShardWritesLoseNoRecord: a spilled shard is written as new
// entries before the old ones go, so a write that fails part way (a crash)
// leaves every record readable (a copy that differs is read as pending);
// and a shard that shrinks goes back to one entry, its spilled ones
// deleted.
func TestSpilledShardWritesLoseNoRecord(t *testing.T) {
	e := newTestEnv(t)
	k := e.b.shardOf("victim")
	now := e.clock.Now()
	// putShardLocked stores what it is given: any names fill the shard.
	names := make([]string, 3000)
	for i := range names {
		names[i] = fmt.Sprintf("%s%08d", strings.Repeat("q", maxNameLength-8), i)
	}
	recs := func(names []string, status string) []schedule.Record {
		out := make([]schedule.Record, len(names))
		for i, n := range names {
			out[i] = schedule.Record{Name: n, Account: schedule.Account{Status: status, Login: loginInstagram, ExpiresAt: now.Add(longLivedLifetime), CheckOffset: schedule.CheckOffset(n)}}
		}
		return out
	}
	sh := &e.b.index.shards[k]
	put := func(s logical.Storage, r []schedule.Record) error {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if err := e.b.knowShardLocked(context.Background(), s, k); err != nil {
			return err
		}
		return e.b.putShardLocked(context.Background(), s, k, r)
	}
	if err := put(e.storage, recs(names, statusValid)); err != nil {
		t.Fatal(err)
	}
	first := e.storedKeys(indexPartPrefix(k))
	if len(first) < 2 {
		t.Fatalf("3,000 long names in %v, want spilled", first)
	}

	// The next write stores its new entries, then fails deleting the old.
	failing := &failDeleteStorage{Storage: e.storage}
	if err := put(failing, recs(names, statusNeedsReauth)); err == nil {
		t.Fatal("the write did not report the failed delete")
	}
	got, err := readShard(context.Background(), e.storage, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(names) {
		t.Fatalf("after the interrupted write the shard reads %d records, want %d", len(got), len(names))
	}
	for _, r := range got {
		if !r.Pending {
			t.Fatalf("%s read settled from two differing copies", r.Name)
		}
	}

	// Shrunk to a few records: one entry again, no spilled one left.
	if err := put(e.storage, recs(names[:3], statusValid)); err != nil {
		t.Fatal(err)
	}
	if left := e.storedKeys(indexPartPrefix(k)); len(left) != 0 {
		t.Errorf("spilled entries left after the shard shrank: %v", left)
	}
	if got, _ := readShard(context.Background(), e.storage, k); len(got) != 3 || got[0].Pending {
		t.Errorf("the shrunk shard reads %+v", got)
	}
}

// failDeleteStorage fails every Delete.
type failDeleteStorage struct{ logical.Storage }

func (failDeleteStorage) Delete(context.Context, string) error { return errors.New("storage failed") }

// TestMountKeyIsMadeOnceAndKeptEverywhere: the shard key comes from a
// secret each mount generates once, stores seal-wrapped and replicated,
// and keeps across restarts; a performance standby reads the same one;
// two mounts have different ones.
func TestMountKeyIsMadeOnceAndKeptEverywhere(t *testing.T) {
	e := newTestEnv(t)
	entry, _ := e.storage.Get(context.Background(), mountKeyPath)
	if entry == nil {
		t.Fatal("no mount key stored at the first start")
	}
	stored := string(entry.Value)
	if !slices.Contains(e.b.PathsSpecial.SealWrapStorage, mountKeyPath) || slices.Contains(e.b.PathsSpecial.LocalStorage, mountKeyPath) {
		t.Error("the mount key is not seal-wrapped and replicated")
	}
	names := namesInUnkeyedShard("victim", 50)
	shards := func(b *backend) []int {
		out := make([]int, len(names))
		for i, n := range names {
			out[i] = b.shardOf(n)
		}
		return out
	}
	want := shards(e.b)
	if spread := len(slices.Compact(slices.Sorted(slices.Values(want)))); spread < 40 {
		t.Errorf("50 names chosen for one unkeyed shard sit in %d keyed shards, want them spread", spread)
	}
	e.restart()
	if entry, _ := e.storage.Get(context.Background(), mountKeyPath); string(entry.Value) != stored {
		t.Fatal("a restart changed the mount key")
	}
	if got := shards(e.b); !reflect.DeepEqual(got, want) {
		t.Error("a restart moved names to other shards")
	}
	r, _ := e.replica(consts.ReplicationPerformanceStandby)
	if got := shards(r); !reflect.DeepEqual(got, want) {
		t.Error("a performance standby chooses other shards")
	}
	if other := newTestEnv(t); reflect.DeepEqual(shards(other.b), want) {
		t.Error("two mounts choose the same shards")
	}
}

// TestLegacyIndexIsResharded: a mount whose index the first layout wrote
// (shards by unkeyed FNV-1a, testdata/storage-index-v1.json, six of its
// nine accounts in one shard) starts from that index, reading no account,
// and writes it again under the mount's key; the next start reads the new
// index, to the same schedule.
func TestLegacyIndexIsResharded(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	names := e.loadIndexFixture("testdata/storage-index-v1.json")
	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.restart()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("the start read %d accounts, want the old index read instead", reads)
	}
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, names) {
		t.Fatalf("LIST after the upgrade: %v, want %v", got, names)
	}
	entry, _ := e.storage.Get(context.Background(), indexMetaPath)
	var meta indexMeta
	if entry == nil || entry.DecodeJSON(&meta) != nil || meta.Format != indexMetaFormat {
		t.Fatalf("index-meta after the upgrade: %v", entry)
	}
	idx := e.storedIndex() // checks that each record sits in its keyed shard
	for _, name := range names {
		r, ok := idx[name]
		if a := e.account(name); !ok || r.Pending || !reflect.DeepEqual(r.Account, a.scheduled()) {
			t.Errorf("%s's index record: %+v (found %v), want %+v", name, r, ok, a.scheduled())
		}
	}
	if len(idx) != len(names) {
		t.Errorf("the index holds %d records, want %d", len(idx), len(names))
	}
	before := e.scheduleState()
	rec.take()
	e.restart()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("the start after the upgrade read %d accounts", reads)
	}
	if after := e.scheduleState(); !reflect.DeepEqual(before, after) {
		t.Fatalf("the schedule from the new index differs:\n%v\n%v", before, after)
	}
	if !strings.Contains(e.logs.String(), "writing the schedule index again with shards chosen by the mount's key") {
		t.Error("no log line says the index was written again")
	}
}

// loadIndexFixture stores a fixture of accounts and an index (index/ values
// base64 of the binary entries) in place of e's index, and returns the
// account names, sorted.
func (e *testEnv) loadIndexFixture(path string) []string {
	e.t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(data, &entries); err != nil {
		e.t.Fatal(err)
	}
	e.dropScheduleIndex()
	var names []string
	for k, v := range entries {
		value := []byte(v)
		switch {
		case strings.HasPrefix(k, "_"):
			continue
		case strings.HasPrefix(k, indexStoragePrefix):
			var text string
			if err := json.Unmarshal(v, &text); err != nil {
				e.t.Fatal(err)
			}
			if value, err = base64.StdEncoding.DecodeString(text); err != nil {
				e.t.Fatal(err)
			}
		case strings.HasPrefix(k, accountStoragePrefix):
			names = append(names, strings.TrimPrefix(k, accountStoragePrefix))
			var a account
			_ = json.Unmarshal(v, &a)
			if len(a.AccessToken) > 1 { // "t" stands for a token in storeAccounts' records
				e.secrets = append(e.secrets, a.AccessToken, a.UserAccessToken)
			}
		}
		if err := e.storage.Put(context.Background(), &logical.StorageEntry{Key: k, Value: value}); err != nil {
			e.t.Fatal(err)
		}
	}
	slices.Sort(names)
	return names
}
