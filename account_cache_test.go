package instagram

import (
	"context"
	"testing"
	"time"
)

// TestCacheHoldsWhatIsRead: registering does not fill the cache; the first
// read does; later writes replace the cached record, deletes drop it.
func TestCacheHoldsWhatIsRead(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	if _, ok := e.b.cache.get("shop"); ok {
		t.Fatal("a registration nobody read is in the cache")
	}
	first := e.mustOK(e.read("token/shop")).Data["access_token"]
	if _, ok := e.b.cache.get("shop"); !ok {
		t.Fatal("a read did not fill the cache")
	}
	e.mustOK(e.write("accounts/shop/refresh", nil))
	cached, _ := e.b.cache.get("shop")
	stored, err := loadAccount(context.Background(), e.storage, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if cached.AccessToken != stored.AccessToken || cached.AccessToken == first {
		t.Fatal("the cache did not take the refreshed token")
	}
	e.secrets = append(e.secrets, stored.AccessToken)
	e.mustOK(e.do("delete", "accounts/shop", nil))
	if _, ok := e.b.cache.get("shop"); ok {
		t.Fatal("a deleted account is still cached")
	}
}
