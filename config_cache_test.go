package instagram

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// hookStorage runs afterGet once, after it has read key from the storage it
// wraps and before it returns what it read: whatever afterGet does happens
// between a reader's storage read and what the reader does with the result,
// deterministically, without goroutines or sleeps.
type hookStorage struct {
	logical.Storage
	key      string
	afterGet func()
}

func (h *hookStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	entry, err := h.Storage.Get(ctx, key)
	if key == h.key && h.afterGet != nil {
		f := h.afterGet
		h.afterGet = nil
		f()
	}
	return entry, err
}

// configWindow reads config as a client would, on the plain storage:
// refresh_window in seconds, or -1 when no config is stored.
func (e *testEnv) configWindow() int64 {
	e.t.Helper()
	resp := e.mustOK(e.read("config"))
	if resp == nil {
		return -1
	}
	return resp.Data["refresh_window"].(int64)
}

// TestConfigCacheIsNotStaleAfterAnOverlappingChange: a config read that misses the
// cache and reads storage while the config is invalidated, written or
// deleted must not cache what it read: it may be older than what the
// overlapping change left.
func TestConfigCacheIsNotStaleAfterAnOverlappingChange(t *testing.T) {
	const oldWindow, newWindow = 20 * 24 * 3600, 10 * 24 * 3600
	for _, tc := range []struct {
		name string
		// change runs between the read's storage read and its caching.
		change func(e *testEnv)
		want   int64
	}{
		{"invalidate", func(e *testEnv) {
			// The active node wrote the config; replication brings the
			// entry, then Vault calls Invalidate.
			cfg := defaultConfig()
			stored, err := e.storage.Get(context.Background(), configStoragePath)
			if err != nil || stored == nil {
				e.t.Fatal(err)
			}
			if err := stored.DecodeJSON(cfg); err != nil {
				e.t.Fatal(err)
			}
			cfg.RefreshWindow = newWindow * time.Second
			entry, err := logical.StorageEntryJSON(configStoragePath, cfg)
			if err != nil {
				e.t.Fatal(err)
			}
			if err := e.storage.Put(context.Background(), entry); err != nil {
				e.t.Fatal(err)
			}
			e.b.InvalidateKey(context.Background(), configStoragePath)
		}, newWindow},
		{"write", func(e *testEnv) {
			e.mustOK(e.write("config", map[string]any{"refresh_window": newWindow}))
		}, newWindow},
		{"delete", func(e *testEnv) {
			e.mustOK(e.do(logical.DeleteOperation, "config", nil))
		}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(map[string]any{"refresh_window": oldWindow})
			e.b.InvalidateKey(context.Background(), configStoragePath) // the next read misses the cache

			hooked := &hookStorage{Storage: e.storage, key: configStoragePath, afterGet: func() { tc.change(e) }}
			resp, err := e.b.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "config", Storage: hooked})
			if err != nil || resp == nil || resp.IsError() {
				t.Fatalf("the overlapping read: %v, %v", resp, err)
			}
			if hooked.afterGet != nil {
				t.Fatal("the read did not read config from storage: this test tests nothing")
			}
			if got := e.configWindow(); got != tc.want {
				t.Fatalf("after a read overlapping a config %s, config reads refresh_window %d, want %d (-1: none): the read cached what the %s replaced", tc.name, got, tc.want, tc.name)
			}
		})
	}
}

// TestRebuildKeepsRefreshWindowWrittenMeanwhile: a config write that
// changes refresh_window while a schedule rebuild runs, after the rebuild
// read the config, must not be undone when the rebuild swaps in what it
// read (which would last until the next rebuild, an hour later).
func TestRebuildKeepsRefreshWindowWrittenMeanwhile(t *testing.T) {
	const storedWindow = 20 * 24 * time.Hour
	for _, tc := range []struct {
		name string
		// fresh: a new backend instance on the storage, as at start-up,
		// whose schedule still has the default window.
		fresh     bool
		newWindow time.Duration
	}{
		{"hourly rebuild, new window", false, 10 * 24 * time.Hour},
		{"start-up rebuild, back to the default window", true, defaultRefreshWindow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(map[string]any{"refresh_window": int(storedWindow / time.Second)})
			e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-10*24*time.Hour))
			// The schedule index settled, as the end of a periodic run
			// leaves it: a pending record would make shop due at once.
			if err := e.b.flushIndex(context.Background(), e.storage); err != nil {
				t.Fatal(err)
			}

			b := e.b
			if tc.fresh {
				conf := logical.TestBackendConfig()
				conf.Logger = e.b.Logger()
				conf.StorageView = e.storage
				b = newBackend(backendOptions{clock: e.clock})
				if err := b.Setup(context.Background(), conf); err != nil {
					t.Fatal(err)
				}
			}
			b.resetConfig() // the rebuild reads config from storage

			write := func() {
				resp, err := b.HandleRequest(context.Background(), &logical.Request{
					Operation: logical.UpdateOperation, Path: "config", Storage: e.storage,
					Data: map[string]any{"refresh_window": int(tc.newWindow / time.Second)},
				})
				if err != nil || (resp != nil && resp.IsError()) {
					t.Fatalf("config write: %v, %v", resp, err)
				}
			}
			hooked := &hookStorage{Storage: e.storage, key: configStoragePath, afterGet: write}
			if err := b.rebuildSchedule(context.Background(), hooked); err != nil {
				t.Fatal(err)
			}
			if hooked.afterGet != nil {
				t.Fatal("the rebuild did not read config from storage: this test tests nothing")
			}

			window := b.sched.Window()
			if window != tc.newWindow {
				t.Fatalf("after the rebuild the schedule's window is %v, want %v written during the rebuild", window, tc.newWindow)
			}
			want := e.account("shop").scheduled().DueAt(tc.newWindow)
			if got := b.sched.DueTime("shop"); !got.Equal(want) {
				t.Fatalf("shop is due at %v, want %v by the new window", got, want)
			}
		})
	}
}
