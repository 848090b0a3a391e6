package instagram

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"
)

// TestConcurrentRegisterRefreshDeleteRead hammers three accounts with every
// operation at once (run with -race) and then checks that what the cache
// serves is exactly what storage holds, that the schedule knows exactly the
// stored accounts, and that every stored token is one Meta still accepts.
func TestConcurrentRegisterRefreshDeleteRead(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 4})
	names := []string{"alpha", "beta", "gamma"}
	users := map[string]string{}
	for _, n := range names {
		users[n] = e.meta.AddUser(n + "_owner").UserID
	}
	issued := e.clock.Now().Add(-40 * 24 * time.Hour)

	do := func(op logical.Operation, path string, data map[string]any) {
		_, _ = e.b.HandleRequest(context.Background(), &logical.Request{
			Operation: op, Path: path, Data: data, Storage: e.storage,
		})
	}
	var wg sync.WaitGroup
	for round := range 25 {
		for _, n := range names {
			tok := e.meta.MintLongLivedToken(users[n], nil, issued)
			e.secrets = append(e.secrets, tok)
			expires := issued.Add(longLivedLifetime).Format(time.RFC3339)
			wg.Add(5)
			go func() {
				defer wg.Done()
				do(logical.UpdateOperation, "accounts/"+n, map[string]any{"access_token": tok, "expires_at": expires})
			}()
			go func() { defer wg.Done(); do(logical.UpdateOperation, "accounts/"+n+"/refresh", nil) }()
			go func() { defer wg.Done(); do(logical.ReadOperation, "token/"+n, nil) }()
			go func() { defer wg.Done(); do(logical.ReadOperation, "accounts/"+n, nil) }()
			go func() {
				defer wg.Done()
				if round%5 == 4 {
					do(logical.DeleteOperation, "accounts/"+n, nil)
				} else {
					_ = e.b.PeriodicFunc(context.Background(), &logical.Request{Storage: e.storage})
				}
			}()
		}
	}
	wg.Wait()

	scheduled := e.b.sched.Figures().Total
	stored := 0
	for _, n := range names {
		fromStorage, err := loadAccount(context.Background(), e.storage, n)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := e.b.getAccount(context.Background(), e.storage, n)
		if err != nil {
			t.Fatal(err)
		}
		if fromStorage == nil {
			if cached != nil {
				t.Fatalf("%s: deleted from storage but still served from the cache", n)
			}
			if !e.b.sched.DueTime(n).IsZero() {
				t.Fatalf("%s: deleted but still scheduled", n)
			}
			continue
		}
		stored++
		if !reflect.DeepEqual(fromStorage, cached) {
			t.Fatalf("%s: the cache serves a different record than storage holds", n)
		}
		e.secrets = append(e.secrets, fromStorage.AccessToken)
		info, ok := e.meta.TokenInfo(fromStorage.AccessToken)
		if !ok || info.Revoked || !e.clock.Now().Before(info.ExpiresAt) {
			t.Fatalf("%s: the stored token is not one Meta accepts", n)
		}
	}
	if scheduled != stored {
		t.Fatalf("schedule holds %d accounts, storage %d", scheduled, stored)
	}
	t.Logf("%d of %d accounts stored at the end", stored, len(names))
}
