package instagram

import (
	"context"
	"errors"
	"fmt"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"
)

// listCountingStorage counts List calls, to show where a page comes from.
type listCountingStorage struct {
	logical.Storage
	lists int
}

func (s *listCountingStorage) List(ctx context.Context, prefix string) ([]string, error) {
	s.lists++
	return s.Storage.List(ctx, prefix)
}

// storeAccounts stores n accounts named prefix00000.. without calling Meta
// (what a page of LIST needs is names), through saveAccount as a
// registration does.
func (e *testEnv) storeAccounts(prefix string, n int) []string {
	e.t.Helper()
	names := make([]string, n)
	now := e.clock.Now()
	for i := range n {
		names[i] = fmt.Sprintf("%s%05d", prefix, i)
		a := &account{Name: names[i], Login: loginInstagram, AccessToken: "t", Status: statusValid,
			IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime), RegisteredAt: now}
		if err := e.b.saveAccount(context.Background(), e.storage, a); err != nil {
			e.t.Fatal(err)
		}
	}
	return names
}

// listPage lists accounts/ with data and returns the answer.
func (e *testEnv) listPage(data map[string]any) *logical.Response {
	e.t.Helper()
	return e.mustOK(e.do(logical.ListOperation, "accounts/", data))
}

// TestAccountsListPages: LIST accounts/ answers at most limit names in
// order after the name given as after, and next (the after of the following
// page) exactly when more remain; following next visits every account once.
func TestAccountsListPages(t *testing.T) {
	e := newTestEnv(t)
	names := e.storeAccounts("acct", 7)

	var seen []string
	after := ""
	for page := 0; ; page++ {
		data := map[string]any{"limit": 3}
		if after != "" {
			data["after"] = after
		}
		resp := e.listPage(data)
		keys := resp.Data["keys"].([]string)
		next, more := resp.Data["next"]
		if len(resp.Warnings) != 0 {
			t.Errorf("page %d with after/limit carries warnings %v", page, resp.Warnings)
		}
		seen = append(seen, keys...)
		if !more {
			if len(keys) != 1 {
				t.Errorf("last page %v, want the 7th account alone", keys)
			}
			break
		}
		if len(keys) != 3 || next != keys[2] {
			t.Fatalf("page %d: keys %v next %v; want 3 keys and next = the last", page, keys, next)
		}
		after = next.(string)
	}
	if !reflect.DeepEqual(seen, names) {
		t.Fatalf("pages listed %v, want %v", seen, names)
	}

	// after need not be a registered name: the page starts at the next one.
	if got := e.listPage(map[string]any{"after": "acct00002x", "limit": 2}).Data["keys"]; !reflect.DeepEqual(got, []string{"acct00003", "acct00004"}) {
		t.Errorf("after a name between two accounts: %v", got)
	}
	// A page exactly as long as what remains has no next.
	resp := e.listPage(map[string]any{"after": "acct00003", "limit": 3})
	if _, more := resp.Data["next"]; more || len(resp.Data["keys"].([]string)) != 3 {
		t.Errorf("the last three: %v", resp.Data)
	}
	// Past the end: no keys (Vault answers a 404 to an empty list).
	if data := e.listPage(map[string]any{"after": "zzz"}).Data; len(data) != 0 {
		t.Errorf("after the last account: %v", data)
	}
}

// TestAccountsListFirstPageWarns: a LIST without after or limit answers
// the first maxListLimit names and, when more remain, next and a warning
// saying how to get the rest; with fewer accounts, all of them and neither.
func TestAccountsListFirstPageWarns(t *testing.T) {
	e := newTestEnv(t)
	names := e.storeAccounts("a", maxListLimit)
	resp := e.listPage(nil)
	if !reflect.DeepEqual(resp.Data["keys"], names) || resp.Data["next"] != nil || len(resp.Warnings) != 0 {
		t.Fatalf("exactly %d accounts: %d keys, next %v, warnings %v", maxListLimit, len(resp.Data["keys"].([]string)), resp.Data["next"], resp.Warnings)
	}

	more := e.storeAccounts("b", 5)
	resp = e.listPage(nil)
	keys := resp.Data["keys"].([]string)
	if !reflect.DeepEqual(keys, names) || resp.Data["next"] != names[len(names)-1] {
		t.Fatalf("first page: %d keys from %s, next %v", len(keys), keys[0], resp.Data["next"])
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "after="+names[len(names)-1]) {
		t.Fatalf("warnings %v, want one naming after=%s", resp.Warnings, names[len(names)-1])
	}
	rest := e.listPage(map[string]any{"after": resp.Data["next"]})
	if !reflect.DeepEqual(rest.Data["keys"], more) || rest.Data["next"] != nil || len(rest.Warnings) != 0 {
		t.Fatalf("second page: %v", rest.Data)
	}
}

// TestAccountsListRefusesBadPages: limit outside 1..maxListLimit, a limit
// that is not a number and an after that is not an account name are 400s
// naming the field.
func TestAccountsListRefusesBadPages(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccounts("acct", 2)
	for _, c := range []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"limit": 0}, "limit"},
		{map[string]any{"limit": -1}, "limit"},
		{map[string]any{"limit": maxListLimit + 1}, "limit"},
		{map[string]any{"limit": "ten"}, "limit"},
		{map[string]any{"after": "bad/name"}, "after"},
		{map[string]any{"after": "-dash"}, "after"},
		{map[string]any{"after": strings.Repeat("a", maxNameLength+1)}, "after"},
		{map[string]any{"page": 2}, "page"},
	} {
		resp, err := e.do(logical.ListOperation, "accounts/", c.data)
		if err != nil || resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), c.field) {
			t.Errorf("LIST with %v: %v, %v; want a 400 naming %s", c.data, resp, err, c.field)
		}
	}
	if got := e.listPage(map[string]any{"limit": maxListLimit}).Data["keys"]; len(got.([]string)) != 2 {
		t.Errorf("limit=%d: %v", maxListLimit, got)
	}
}

// TestAccountsListFromMemory: once the schedule is built, a page never lists
// storage (a million names would be read on every page); before it is
// built, the page comes from storage and says the same.
func TestAccountsListFromMemory(t *testing.T) {
	e := newTestEnv(t)
	names := e.storeAccounts("acct", 5)
	counting := &listCountingStorage{Storage: e.storage}
	list := func() *logical.Response {
		resp, err := e.b.HandleRequest(context.Background(), &logical.Request{
			Operation: logical.ListOperation, Path: "accounts/", Data: map[string]any{"after": names[0], "limit": 2}, Storage: counting,
		})
		return e.mustOK(resp, err)
	}
	fromMemory := list()
	if counting.lists != 0 {
		t.Fatalf("a page listed storage %d times once the schedule was built", counting.lists)
	}

	e.b.sched = schedule.NewQueue(defaultRefreshWindow) // not built from storage yet
	fromStorage := list()
	if counting.lists != 1 {
		t.Fatalf("before the schedule is built a page listed storage %d times, want 1", counting.lists)
	}
	if !reflect.DeepEqual(fromMemory.Data, fromStorage.Data) || fromMemory.Data["next"] != names[2] {
		t.Fatalf("from memory %v, from storage %v", fromMemory.Data, fromStorage.Data)
	}
}

// TestAccountsListFollowsWrites: the names listed are the accounts stored,
// through registrations, deletions and a rebuild.
func TestAccountsListFollowsWrites(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("b2", "b2_user", e.clock.Now().Add(-time.Hour))
	e.storeAccounts("a", 2)
	e.mustOK(e.do(logical.DeleteOperation, "accounts/a00000", nil))
	want := []string{"a00001", "b2"}
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	if err := e.b.rebuildSchedule(context.Background(), e.storage); err != nil {
		t.Fatal(err)
	}
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("after a rebuild: keys %v, want %v", got, want)
	}
}

// TestAccountsListForwardedFromReplicas: a performance standby's schedule is
// not updated by the active node's writes, so LIST is forwarded (Vault does
// so on logical.ErrReadOnly) rather than answered from a stale memory.
func TestAccountsListForwardedFromReplicas(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccounts("acct", 2)
	for _, state := range []consts.ReplicationState{consts.ReplicationPerformanceStandby, consts.ReplicationPerformanceSecondary} {
		replica, storage := e.replica(state)
		resp, err := replica.HandleRequest(context.Background(), &logical.Request{Operation: logical.ListOperation, Path: "accounts/", Storage: storage})
		if !errors.Is(err, logical.ErrReadOnly) {
			t.Errorf("LIST accounts/ on replication state %v: %v, %v; want logical.ErrReadOnly", state, resp, err)
		}
	}
}

// TestAccountsListHasAccountsPutBack: an account the periodic work puts
// back (schedule.putBack) without the schedule knowing it before is listed
// like any other.
func TestAccountsListHasAccountsPutBack(t *testing.T) {
	e := newTestEnv(t)
	now := e.clock.Now()
	e.b.sched.PutBack("late", schedule.Account{RegisteredAt: now, IssuedAt: now, Status: statusValid}, now, claimLease)
	if got := e.listPage(nil).Data["keys"]; !reflect.DeepEqual(got, []string{"late"}) {
		t.Fatalf("keys %v, want [late]", got)
	}
}
