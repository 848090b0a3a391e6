package instagram

import (
	"context"
	"errors"
	"testing"
)

// TestUpdateAccount: updateAccount hands change the stored record under the
// account's lock, saves what change returns (storage, cache and schedule),
// saves nothing when change returns nil or the stored record itself, and
// answers change's error after saving.
func TestUpdateAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	ctx := context.Background()
	b := e.b

	// No account: change sees nil; nothing is stored.
	got, err := b.updateAccount(ctx, e.storage, "shop", func(stored *account) (*account, error) {
		if stored != nil {
			t.Errorf("change got %v for an unknown account", stored)
		}
		if b.accountLock("shop").TryLock() {
			t.Error("change runs without the account's lock")
		}
		return nil, nil
	})
	if got != nil || err != nil || e.account("shop") != nil {
		t.Fatalf("nothing to change: %v, %v, stored %v", got, err, e.account("shop"))
	}

	e.registerFromCode("shop", "shop_owner")
	before := e.storageSnapshot()

	// The stored record back, or nil: nothing saved.
	for _, keep := range []bool{true, false} {
		got, err = b.updateAccount(ctx, e.storage, "shop", func(stored *account) (*account, error) {
			if stored == nil || stored.Name != "shop" {
				t.Fatalf("change got %v", stored)
			}
			if keep {
				return stored, nil
			}
			return nil, nil
		})
		if err != nil || got == nil || got.Name != "shop" {
			t.Fatalf("unchanged: %v, %v", got, err)
		}
		if after := e.storageSnapshot(); after["accounts/shop"] != before["accounts/shop"] {
			t.Fatal("an unchanged account was saved")
		}
	}

	// A changed clone is saved everywhere, and change's error answered.
	boom := errors.New("boom")
	got, err = b.updateAccount(ctx, e.storage, "shop", func(stored *account) (*account, error) {
		next := stored.clone()
		next.Username = "renamed"
		return next, boom
	})
	if !errors.Is(err, boom) || got == nil || got.Username != "renamed" {
		t.Fatalf("changed: %v, %v", got, err)
	}
	if a := e.account("shop"); a.Username != "renamed" {
		t.Errorf("storage holds username %q", a.Username)
	}
	if got := e.mustOK(e.read("accounts/shop")).Data["username"]; got != "renamed" {
		t.Errorf("accounts/shop reads username %v", got)
	}
	if !b.accountLock("shop").TryLock() {
		t.Fatal("the account's lock is still held")
	}
	b.accountLock("shop").Unlock()
}
