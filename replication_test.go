package instagram

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// readOnlyStorage is storage as a performance standby or a performance
// secondary sees the replicated part of it: readable, not writable. Vault
// forwards a request to the node that can write when the backend answers
// logical.ErrReadOnly.
type readOnlyStorage struct{ logical.Storage }

func (readOnlyStorage) Put(context.Context, *logical.StorageEntry) error { return logical.ErrReadOnly }
func (readOnlyStorage) Delete(context.Context, string) error             { return logical.ErrReadOnly }

// replica is a second instance of the backend on e's storage as a
// performance standby or secondary of the given state sees it: readable, not
// writable.
func (e *testEnv) replica(state consts.ReplicationState) (*backend, logical.Storage) {
	e.t.Helper()
	sys := logical.TestSystemView()
	sys.ReplicationStateVal = state
	conf := logical.TestBackendConfig()
	conf.System = sys
	conf.Logger = e.b.Logger()
	conf.StorageView = readOnlyStorage{e.storage}
	r := newBackend(backendOptions{clock: e.clock})
	if err := r.Setup(context.Background(), conf); err != nil {
		e.t.Fatal(err)
	}
	if err := r.Initialize(context.Background(), &logical.InitializationRequest{Storage: conf.StorageView}); err != nil {
		e.t.Fatal(err)
	}
	r.bgWG.Wait() // the schedule is built in the background
	return r, conf.StorageView
}

// TestWritesThatCallMetaAreForwardedFromReplicas: on a performance standby
// or a performance secondary (Vault Enterprise), a write that calls Meta
// before it stores must be refused before its handler runs
// (ForwardPerformanceStandby/ForwardPerformanceSecondary), so that Vault
// forwards it and Meta sees the call once, from the node that can store the
// result. Otherwise the replica spends a single-use authorization code (or
// rotates a token) and then fails to store; the forwarded retry on the
// active node finds the code used.
func TestWritesThatCallMetaAreForwardedFromReplicas(t *testing.T) {
	for _, state := range []consts.ReplicationState{consts.ReplicationPerformanceStandby, consts.ReplicationPerformanceSecondary} {
		name := map[consts.ReplicationState]string{
			consts.ReplicationPerformanceStandby:   "performance standby",
			consts.ReplicationPerformanceSecondary: "performance secondary",
		}[state]
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			e.registerLongLived("existing", "existing_user", e.clock.Now().Add(-48*time.Hour))
			e.secrets = append(e.secrets, e.account("existing").AccessToken)

			replica, storage := e.replica(state)

			newUser := e.meta.AddUser("new_user")
			code := e.meta.MintCode(newUser.UserID, []string{"instagram_business_basic"}, testRedirectURI)
			short := e.meta.MintShortLivedToken(newUser.UserID, []string{"instagram_business_basic"})
			code2 := e.meta.MintCode(e.meta.AddUser("other_user").UserID, []string{"instagram_business_basic"}, testRedirectURI)
			e.secrets = append(e.secrets, code, short, code2)

			for _, tc := range []struct {
				what, path string
				data       map[string]any
			}{
				{"register from a code", "accounts/fromcode", map[string]any{"code": code}},
				{"register from a short-lived token", "accounts/fromshort", map[string]any{"access_token": short}},
				{"replace an account from a code", "accounts/existing", map[string]any{"code": code2}},
				{"manual refresh", "accounts/existing/refresh", nil},
			} {
				before := e.meta.AllCalls()
				req := &logical.Request{Operation: logical.UpdateOperation, Path: tc.path, Data: tc.data, Storage: storage}
				if found, exists, err := replica.HandleExistenceCheck(context.Background(), req); err == nil && found && !exists {
					req.Operation = logical.CreateOperation
				}
				resp, err := replica.HandleRequest(context.Background(), req)
				if !errors.Is(err, logical.ErrReadOnly) {
					t.Errorf("%s (%s) on a %s: %v, %v; want logical.ErrReadOnly, so that Vault forwards it", tc.what, req.Operation, name, resp, err)
				}
				if after := e.meta.AllCalls(); !maps.Equal(before, after) {
					t.Errorf("%s on a %s called Meta before Vault forwarded it: calls %v, then %v", tc.what, name, before, after)
				}
			}
		})
	}
}

// TestInvalidateKeepsReplicaReadsCoherent: a performance standby serves
// token and config reads itself, from its caches. When the active node
// writes (a refresh, a config change), Vault calls the standby's Invalidate
// with the key, and the standby's next read answers what was written.
func TestInvalidateKeepsReplicaReadsCoherent(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	standby, storage := e.replica(consts.ReplicationPerformanceStandby)
	read := func(path string) map[string]any {
		t.Helper()
		resp, err := standby.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: path, Storage: storage})
		if err != nil || resp == nil || resp.IsError() {
			t.Fatalf("read %s on the standby: %v, %v", path, resp, err)
		}
		return resp.Data
	}

	before := read("token/shop")["access_token"]
	_ = read("config")
	e.tick() // the active node refreshes shop
	refreshed := e.account("shop").AccessToken
	e.secrets = append(e.secrets, refreshed)
	if refreshed == before {
		t.Fatal("the active node did not refresh shop")
	}
	e.mustOK(e.write("config", map[string]any{"refresh_window": "480h"}))

	standby.InvalidateKey(context.Background(), accountStoragePrefix+"shop")
	standby.InvalidateKey(context.Background(), configStoragePath)
	if got := read("token/shop")["access_token"]; got != refreshed {
		t.Error("after Invalidate, the standby still serves the token the active node replaced")
	}
	if got := read("config")["refresh_window"]; got != int64(480*3600) {
		t.Errorf("after Invalidate, the standby's config says refresh_window %v, want %d", got, 480*3600)
	}
}

// TestStatusIsForwardedFromReplicas: status reports the refresh
// schedule and the periodic runs, which live on the active node of the
// primary. A performance standby (or a performance secondary) has its own
// schedule, built once from replicated storage and never worked, so its
// answer would be a frozen view. The read must be refused with
// logical.ErrReadOnly before its handler runs, so that Vault forwards it.
func TestStatusIsForwardedFromReplicas(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-48*time.Hour))

	for name, state := range map[string]consts.ReplicationState{
		"performance standby":   consts.ReplicationPerformanceStandby,
		"performance secondary": consts.ReplicationPerformanceSecondary,
	} {
		replica, storage := e.replica(state)
		resp, err := replica.HandleRequest(context.Background(), &logical.Request{Operation: logical.ReadOperation, Path: "status", Storage: storage})
		if !errors.Is(err, logical.ErrReadOnly) {
			t.Errorf("status on a %s: %v, %v; want logical.ErrReadOnly, so that Vault forwards it to the active node", name, resp, err)
		}
	}

	// The active node answers it itself.
	resp := e.mustOK(e.read("status"))
	if resp == nil || resp.Data["accounts_total"] != 1 {
		t.Fatalf("status on the active node: %v", resp)
	}
}
