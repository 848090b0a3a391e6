package instagram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// recordingStorage records the writes and account reads that reach
// storage, and can die: from the moment dead is set, as after a crash,
// nothing more reaches it.
type recordingStorage struct {
	logical.Storage
	mu           sync.Mutex
	ops          []string // "put <key>", "delete <key>"
	accountReads int
	dead         bool
	failPut      string // a key whose Put fails (once)
}

var errDead = errors.New("the process died")

func (r *recordingStorage) Put(ctx context.Context, e *logical.StorageEntry) error {
	r.mu.Lock()
	if r.dead {
		r.mu.Unlock()
		return errDead
	}
	if e.Key == r.failPut {
		r.failPut = ""
		r.mu.Unlock()
		return errors.New("storage failed")
	}
	r.ops = append(r.ops, "put "+e.Key)
	r.mu.Unlock()
	return r.Storage.Put(ctx, e)
}

func (r *recordingStorage) Delete(ctx context.Context, key string) error {
	r.mu.Lock()
	if r.dead {
		r.mu.Unlock()
		return errDead
	}
	r.ops = append(r.ops, "delete "+key)
	r.mu.Unlock()
	return r.Storage.Delete(ctx, key)
}

func (r *recordingStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	r.mu.Lock()
	if strings.HasPrefix(key, accountStoragePrefix) {
		r.accountReads++
	}
	r.mu.Unlock()
	return r.Storage.Get(ctx, key)
}

func (r *recordingStorage) die() {
	r.mu.Lock()
	r.dead = true
	r.mu.Unlock()
}

// take returns the operations recorded since the last take, and the
// accounts read.
func (r *recordingStorage) take() ([]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ops, reads := r.ops, r.accountReads
	r.ops, r.accountReads = nil, 0
	return ops, reads
}

// useStorage makes e's requests and ticks go through s.
func (e *testEnv) useStorage(s logical.Storage) { e.storage = s }

// restart starts a new backend on e's storage, as a new plugin process
// (after a crash, a reload or a failover) does, and waits for its schedule.
func (e *testEnv) restart() {
	e.t.Helper()
	e.b.Cleanup(context.Background())
	conf := logical.TestBackendConfig()
	conf.Logger = hclog.New(&hclog.LoggerOptions{Output: e.logs, Level: hclog.Trace})
	conf.StorageView = e.storage
	b := newBackend(backendOptions{clock: e.clock, jitter: func() float64 { return 1 }})
	if err := b.Setup(context.Background(), conf); err != nil {
		e.t.Fatal(err)
	}
	if err := b.Initialize(context.Background(), &logical.InitializationRequest{Storage: e.storage}); err != nil {
		e.t.Fatal(err)
	}
	b.bgWG.Wait()
	e.b = b
}

// dropScheduleIndex deletes the schedule index from storage: what a mount
// written by a version before the index holds.
func (e *testEnv) dropScheduleIndex() {
	e.t.Helper()
	ctx := context.Background()
	keys, err := e.storage.List(ctx, indexStoragePrefix)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		if err := e.storage.Delete(ctx, indexStoragePrefix+k); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.storage.Delete(ctx, indexMetaPath); err != nil {
		e.t.Fatal(err)
	}
	if entry, _ := e.storage.Get(ctx, indexMetaPath); entry != nil {
		e.t.Fatal("index-meta survived")
	}
}

// storedIndex reads every stored index record, by name.
func (e *testEnv) storedIndex() map[string]schedule.Record {
	e.t.Helper()
	out := map[string]schedule.Record{}
	for k := range schedule.IndexShards {
		recs, err := readShard(context.Background(), e.storage, k)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range recs {
			if e.b.sched.ShardOf(r.Name) != k {
				e.t.Errorf("%s stored in shard %03x, belongs in %03x", r.Name, k, e.b.sched.ShardOf(r.Name))
			}
			out[r.Name] = r
		}
	}
	return out
}

// scheduleState is what the schedule holds of every account: its due time
// and schedule.Account, by name.
func (e *testEnv) scheduleState() map[string]string {
	out := map[string]string{}
	for after := ""; ; {
		names, _, more, built := e.b.sched.NamesAfter(after, 1000)
		if !built {
			e.t.Fatal("the schedule is not built")
		}
		for _, name := range names {
			r, _ := e.b.sched.RecordOf(name)
			out[name] = fmt.Sprintf("due %d record %x", e.b.sched.DueTime(name).UnixNano(), schedule.RecordKey(r))
		}
		if !more {
			return out
		}
		after = names[len(names)-1]
	}
}

// TestIndexWrittenBeforeTheAccount: a save writes the account's index
// shard before the account, a delete deletes the account before writing
// its shard (schedule_index.go says why), and the index holds exactly the stored
// accounts with their timings.
func TestIndexWrittenBeforeTheAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	ops, _ := rec.take()
	shard := indexShardKey(e.b.sched.ShardOf("shop"))
	if want := []string{"put " + shard, "put accounts/shop"}; !slices.Equal(ops, want) {
		t.Fatalf("registration wrote %v, want %v", ops, want)
	}
	if r, ok := e.storedIndex()["shop"]; !ok || !r.Pending {
		t.Fatalf("index record after the registration: %+v (found %v), want pending", r, ok)
	}
	// The periodic run refreshes shop (due) and writes its shard once
	// more at its end, settled.
	e.tick()
	ops, _ = rec.take()
	if want := []string{"put " + shard, "put accounts/shop", "put " + shard}; !slices.Equal(ops, want) {
		t.Fatalf("a refresh wrote %v, want %v", ops, want)
	}
	a := e.account("shop")
	e.secrets = append(e.secrets, a.AccessToken)
	r := e.storedIndex()["shop"]
	if r.Pending || !reflect.DeepEqual(r.Account, a.scheduled()) {
		t.Fatalf("index record after the tick: %+v, want the stored account's schedule.Account, settled: %+v", r, a.scheduled())
	}

	e.mustOK(e.do(logical.DeleteOperation, "accounts/shop", nil))
	ops, _ = rec.take()
	if want := []string{"delete accounts/shop", "delete " + shard}; !slices.Equal(ops, want) {
		t.Fatalf("a delete did %v, want %v", ops, want)
	}
	if len(e.storedIndex()) != 0 {
		t.Fatalf("index after the delete: %v", e.storedIndex())
	}
	// Deleting what is not there writes nothing.
	e.mustOK(e.do(logical.DeleteOperation, "accounts/shop", nil))
	if ops, _ = rec.take(); !slices.Equal(ops, []string{"delete accounts/shop"}) {
		t.Fatalf("deleting an unknown account did %v", ops)
	}
}

// TestRestartReadsTheIndexNotTheAccounts: a new plugin process builds the
// same schedule from the index, reading no account.
func TestRestartReadsTheIndexNotTheAccounts(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerDue("due", 3)
	e.registerLongLived("fresh", "fresh_user", e.clock.Now().Add(-time.Hour))
	e.storeAccounts("bulk", 300)
	e.clock.Advance(time.Minute)
	e.tick()
	e.rememberStoredTokens([]string{"due-0", "due-1", "due-2"})
	before := e.scheduleState()

	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.restart()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("the rebuild read %d accounts, want none", reads)
	}
	if after := e.scheduleState(); !reflect.DeepEqual(before, after) {
		for name := range before {
			if before[name] != after[name] {
				t.Errorf("%s: before the restart %s, after %s", name, before[name], after[name])
			}
		}
		t.Fatalf("the schedule differs after the restart (%d entries, then %d)", len(before), len(after))
	}
}

// TestCrashBetweenIndexAndAccountWrites: a process dies after writing an
// account's index record and before writing the account, during a new
// registration and during a refresh. After the restart every stored
// account is scheduled, the one whose refresh was lost due at once (its
// record is pending) and refreshed by the first periodic run, and the
// registration that never stored its account is not listed and is
// forgotten by that run.
func TestCrashBetweenIndexAndAccountWrites(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerDue("due", 2)
	e.registerLongLived("steady", "steady_user", e.clock.Now().Add(-time.Hour))
	oldToken := e.account("due-0").AccessToken
	e.secrets = append(e.secrets, oldToken)

	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	crashed := map[string]bool{}
	var mu sync.Mutex
	e.b.crashPoint = func(_ hclog.Logger, point, name string) {
		mu.Lock()
		defer mu.Unlock()
		if point == crashAfterIndexWrite && (name == "due-0" || name == "fresh") {
			crashed[name] = true
			rec.die()
		}
	}
	// The refresh of due-0 crashes (due-1 may be refreshed first, or
	// fail because the process is dead): Meta answered due-0's refresh,
	// and the answer is lost.
	e.tick()
	if !crashed["due-0"] {
		t.Fatal("the refresh did not reach the crash point")
	}
	e.secrets = append(e.secrets, e.meta.CurrentToken(e.account("due-0").UserID))
	refreshesBefore := e.meta.Calls("refresh")
	// A registration meets a process that already died: nothing of it
	// is stored. So that it writes its index record first, it runs on a
	// storage that is alive, and dies at the crash point.
	rec.mu.Lock()
	rec.dead = false
	rec.mu.Unlock()
	u := e.meta.AddUser("fresh_user")
	tok := e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-time.Hour))
	e.secrets = append(e.secrets, tok)
	if resp, err := e.write("accounts/fresh", map[string]any{"access_token": tok}); err == nil && !resp.IsError() {
		t.Fatal("the registration succeeded past its crash point")
	}
	if r, ok := e.storedIndex()["fresh"]; !ok || !r.Pending {
		t.Fatalf("fresh's index record: %+v %v; want pending", r, ok)
	}
	if e.account("fresh") != nil {
		t.Fatal("fresh's account was stored past the crash point")
	}

	// The restart, on the storage as the crash left it.
	e.useStorage(rec.Storage)
	e.restart()
	st := e.b.sched
	for _, name := range []string{"due-0", "due-1", "steady"} {
		if _, ok := st.AccountOf(name); !ok {
			t.Fatalf("%s is stored and not scheduled after the restart", name)
		}
	}
	if at := st.DueTime("due-0"); at.After(e.clock.Now()) {
		t.Errorf("due-0, whose refresh was lost, is due at %s, after now (%s)", at, e.clock.Now())
	}
	if keys := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(keys, []string{"due-0", "due-1", "steady"}) {
		t.Errorf("LIST after the restart: %v", keys)
	}

	e.tick()
	if got := e.meta.Calls("refresh") - refreshesBefore; got < 1 {
		t.Errorf("the first run after the restart made %d refreshes, want due-0's", got)
	}
	a := e.account("due-0")
	if a.AccessToken == oldToken || a.Status != statusValid {
		t.Errorf("due-0 after the first run: status %s, token replaced %v", a.Status, a.AccessToken != oldToken)
	}
	e.rememberStoredTokens([]string{"due-0", "due-1"})
	if _, ok := st.AccountOf("fresh"); ok {
		t.Error("fresh, never stored, is still scheduled after the first run")
	}
	idx := e.storedIndex()
	if _, ok := idx["fresh"]; ok || len(idx) != 3 {
		t.Errorf("the index after the first run: %v", idx)
	}
	for name, r := range idx {
		if r.Pending || !reflect.DeepEqual(r.Account, e.account(name).scheduled()) {
			t.Errorf("%s's index record after the first run: %+v, want %+v settled", name, r, e.account(name).scheduled())
		}
	}
}

// TestFailedAccountWriteIsVerified: an account Put that fails (perhaps
// after storing it) leaves the account unverified: listed only if stored,
// due at once, and read from storage by the next run.
func TestFailedAccountWriteIsVerified(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	rec := &recordingStorage{Storage: e.storage, failPut: accountStoragePrefix + "shop"}
	e.useStorage(rec)
	u := e.meta.AddUser("shop_user")
	tok := e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, e.clock.Now().Add(-time.Hour))
	e.secrets = append(e.secrets, tok)
	if resp, err := e.write("accounts/shop", map[string]any{"access_token": tok}); err == nil && !resp.IsError() {
		t.Fatal("the registration succeeded though its account write failed")
	}
	if len(e.listPage(nil).Data) != 0 {
		t.Fatal("an account whose write failed is listed")
	}
	if at := e.b.sched.DueTime("shop"); at.IsZero() || at.After(e.clock.Now()) {
		t.Fatalf("unverified shop due at %v", at)
	}
	e.tick()
	if _, ok := e.b.sched.AccountOf("shop"); ok {
		t.Fatal("the run did not forget the account that was never stored")
	}
	if len(e.storedIndex()) != 0 {
		t.Fatalf("index: %v", e.storedIndex())
	}
}

// TestMigrationFromTheLayoutBeforeTheIndex starts the engine on storage as
// the version before the schedule index left it (testdata: config and
// accounts, no index): it builds the schedule from the accounts, then the
// index, once; the next start reads the index only.
func TestMigrationFromTheLayoutBeforeTheIndex(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	old := e.loadStorageFixture("testdata/storage-before-index.json")
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range old {
			if n, ok := strings.CutPrefix(k, accountStoragePrefix); ok && !yield(n) {
				return
			}
		}
	})
	if len(names) < 3 {
		t.Fatalf("fixture holds %d accounts", len(names))
	}
	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.restart()
	if _, reads := rec.take(); reads != len(names) {
		t.Fatalf("the migration read %d accounts, want each of the %d once", reads, len(names))
	}
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, names) {
		t.Fatalf("LIST after the migration: %v, want %v", got, names)
	}
	idx := e.storedIndex()
	for _, name := range names {
		r, ok := idx[name]
		if a := e.account(name); !ok || r.Pending || !reflect.DeepEqual(r.Account, a.scheduled()) {
			t.Errorf("%s's index record: %+v (found %v), want %+v", name, r, ok, a.scheduled())
		}
	}
	if entry, _ := e.storage.Get(context.Background(), indexMetaPath); entry == nil {
		t.Fatal("no index-meta after the migration")
	}
	before := e.scheduleState()
	rec.take()
	e.restart()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("the start after the migration read %d accounts", reads)
	}
	if after := e.scheduleState(); !reflect.DeepEqual(before, after) {
		t.Fatalf("the schedule from the index differs from the one from the accounts:\n%v\n%v", before, after)
	}
}

// TestHourlyCheckReadsOnlyWhatDiffers: the safety net compares a listing
// of the accounts with the index and memory and reads only the accounts on
// which they disagree: one written behind the engine's back, one deleted
// behind it, one whose memory drifted.
func TestHourlyCheckReadsOnlyWhatDiffers(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.storeAccounts("a", 200)
	e.tick() // the index is written settled
	ctx := context.Background()
	now := e.clock.Now()
	ghost := &account{Name: "ghost", Login: loginInstagram, AccessToken: "t", Status: statusValid, IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), RegisteredAt: now}
	entry, _ := logical.StorageEntryJSON(accountStoragePrefix+"ghost", ghost)
	if err := e.storage.Put(ctx, entry); err != nil {
		t.Fatal(err)
	}
	if err := e.storage.Delete(ctx, accountStoragePrefix+"a00007"); err != nil {
		t.Fatal(err)
	}
	drifted, _ := e.b.sched.AccountOf("a00042")
	drifted.Status = statusNeedsReauth
	e.b.sched.Set("a00042", drifted) // memory only: storage and the index still say valid

	rec := &recordingStorage{Storage: e.storage}
	e.useStorage(rec)
	e.clock.Advance(rescanEvery)
	e.tick()
	if _, reads := rec.take(); reads != 3 {
		t.Fatalf("the hourly check read %d accounts, want the 3 that differ", reads)
	}
	want := map[string]bool{"ghost": true, "a00007": false, "a00042": true}
	for name, kept := range want {
		tm, ok := e.b.sched.AccountOf(name)
		if ok != kept || (ok && tm.Status != statusValid) {
			t.Errorf("%s after the check: scheduled %v status %q, want scheduled %v valid", name, ok, tm.Status, kept)
		}
		if _, inIndex := e.storedIndex()[name]; inIndex != kept {
			t.Errorf("%s in the index after the check: %v, want %v", name, inIndex, kept)
		}
	}
	// An hour later nothing differs, and nothing is read.
	e.clock.Advance(rescanEvery)
	e.tick()
	if _, reads := rec.take(); reads != 0 {
		t.Fatalf("a check with nothing to fix read %d accounts", reads)
	}
}

// TestUndecodableIndexIsRebuilt: a shard that does not decode makes the
// start-up build the schedule, and the index, from the accounts.
func TestUndecodableIndexIsRebuilt(t *testing.T) {
	e := newTestEnv(t)
	names := e.storeAccounts("a", 20)
	k := e.b.sched.ShardOf(names[3])
	if err := e.storage.Put(context.Background(), &logical.StorageEntry{Key: indexShardKey(k), Value: []byte{schedule.ShardFormat, 200}}); err != nil {
		t.Fatal(err)
	}
	e.restart()
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, names) {
		t.Fatalf("LIST: %v", got)
	}
	if len(e.storedIndex()) != len(names) {
		t.Fatalf("index holds %d records, want %d", len(e.storedIndex()), len(names))
	}
	if !strings.Contains(e.logs.String(), "building the schedule index from the accounts") {
		t.Error("no log line says why the index was rebuilt")
	}
}

// TestIndexShardWritersInParallel: writers of accounts in one shard,
// at once, each keep the others' records (the shard's mutex and the
// announced records), and a delete among them too.
func TestIndexShardWritersInParallel(t *testing.T) {
	e := newTestEnv(t)
	var same []string
	for i := 0; len(same) < 24; i++ {
		if name := fmt.Sprintf("n%d", i); e.b.sched.ShardOf(name) == e.b.sched.ShardOf("n0") {
			same = append(same, name)
		}
	}
	ctx := context.Background()
	now := e.clock.Now()
	save := func(name string) {
		unlock := e.b.lockAccount(name)
		defer unlock()
		a := &account{Name: name, Login: loginInstagram, AccessToken: "t", Status: statusValid, IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), RegisteredAt: now}
		if err := e.b.saveAccount(ctx, e.storage, a); err != nil {
			t.Error(err)
		}
	}
	save(same[0])
	var wg sync.WaitGroup
	for _, name := range same[1:] {
		wg.Go(func() { save(name) })
	}
	wg.Go(func() {
		unlock := e.b.lockAccount(same[0])
		defer unlock()
		if err := e.b.deleteAccount(ctx, e.storage, same[0]); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	idx := e.storedIndex()
	if len(idx) != len(same)-1 {
		t.Fatalf("the shard holds %d records, want %d", len(idx), len(same)-1)
	}
	for _, name := range same[1:] {
		if _, ok := idx[name]; !ok {
			t.Errorf("%s missing from its shard", name)
		}
	}
}

// TestReplicaBuildsWithoutAnIndex: a performance standby on storage without
// an index builds its schedule from the accounts and writes nothing.
func TestReplicaBuildsWithoutAnIndex(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccounts("a", 5)
	e.dropScheduleIndex()
	r, _ := e.replica(consts.ReplicationPerformanceStandby)
	if n := r.sched.Figures().Total; n != 5 {
		t.Fatalf("schedule of %d accounts, want 5", n)
	}
	if entry, _ := e.storage.Get(context.Background(), indexMetaPath); entry != nil {
		t.Fatal("a replica wrote the index")
	}
}

// loadStorageFixture stores the entries of a JSON fixture (key: value, keys
// starting with "_" skipped) in e's storage, in place of any schedule
// index, and returns them.
func (e *testEnv) loadStorageFixture(path string) map[string]json.RawMessage {
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
	for k, v := range entries {
		if strings.HasPrefix(k, "_") {
			delete(entries, k)
			continue
		}
		if err := e.storage.Put(context.Background(), &logical.StorageEntry{Key: k, Value: v}); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, v := range entries {
		var a account
		_ = json.Unmarshal(v, &a)
		e.secrets = append(e.secrets, a.AccessToken, a.UserAccessToken)
	}
	return entries
}

// recordsOf is timings as the settled records a rebuild passes to
// schedule.replace.
func recordsOf(timings map[string]schedule.Account) []schedule.Record {
	recs := make([]schedule.Record, 0, len(timings))
	for name, t := range timings {
		recs = append(recs, schedule.Record{Name: name, Account: t})
	}
	return recs
}
