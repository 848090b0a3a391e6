package instagram

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// listCountingStorage counts List (and Get) calls, to show where a page
// comes from.
type listCountingStorage struct {
	logical.Storage
	lists, gets int
}

func (s *listCountingStorage) Get(ctx context.Context, key string) (*logical.StorageEntry, error) {
	s.gets++
	return s.Storage.Get(ctx, key)
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

// storeAccountsWithStatus stores n accounts named prefix00000.. with the
// given status, as storeAccounts does.
func (e *testEnv) storeAccountsWithStatus(prefix, status string, n int) []string {
	e.t.Helper()
	names := e.storeAccounts(prefix, n)
	for _, name := range names {
		a := e.account(name)
		a.Status = status
		if err := e.b.saveAccount(context.Background(), e.storage, a); err != nil {
			e.t.Fatal(err)
		}
	}
	return names
}

// listAllWithStatus follows the pages of LIST accounts/ status=status,
// limit names a page, and returns every name listed.
func (e *testEnv) listAllWithStatus(status string, limit int) []string {
	e.t.Helper()
	all := []string{}
	after := ""
	for {
		data := map[string]any{"status": status, "limit": limit}
		if after != "" {
			data["after"] = after
		}
		resp := e.listPage(data)
		if len(resp.Warnings) != 0 {
			e.t.Errorf("status=%s page after %q with limit carries warnings %v", status, after, resp.Warnings)
		}
		keys, _ := resp.Data["keys"].([]string)
		all = append(all, keys...)
		next, more := resp.Data["next"]
		if !more {
			return all
		}
		if len(keys) != limit || next != keys[len(keys)-1] {
			e.t.Fatalf("status=%s page after %q: keys %v next %v; want %d keys and next = the last", status, after, keys, next, limit)
		}
		after = next.(string)
	}
}

// TestAccountsListByStatus: LIST accounts/ with status lists, in name
// order and a page at a time like the plain list (after, limit, next),
// exactly the accounts with that status, for each status; without status
// it lists them all.
func TestAccountsListByStatus(t *testing.T) {
	e := newTestEnv(t)
	byStatus := map[string][]string{
		statusValid:          e.storeAccountsWithStatus("v", statusValid, 4),
		statusNeedsReauth:    e.storeAccountsWithStatus("n", statusNeedsReauth, 5),
		statusRefreshFailing: e.storeAccountsWithStatus("r", statusRefreshFailing, 3),
		statusExpiring:       e.storeAccountsWithStatus("x", statusExpiring, 1),
	}
	// Interleaved with the others in name order.
	byStatus[statusNeedsReauth] = append(byStatus[statusNeedsReauth], e.storeAccountsWithStatus("w", statusNeedsReauth, 2)...)
	for status, want := range byStatus {
		for _, limit := range []int{1, 2, 3, maxListLimit} {
			if got := e.listAllWithStatus(status, limit); !reflect.DeepEqual(got, want) {
				t.Errorf("status=%s limit=%d: %v, want %v", status, limit, got, want)
			}
		}
	}
	// after need not be one of the status's accounts.
	if got := e.listPage(map[string]any{"status": statusNeedsReauth, "after": "v00000", "limit": 10}).Data["keys"]; !reflect.DeepEqual(got, byStatus[statusNeedsReauth][5:]) {
		t.Errorf("needs_reauth after v00000: %v", got)
	}
	if got := e.listPage(map[string]any{"status": ""}).Data["keys"].([]string); len(got) != 15 {
		t.Errorf("an empty status lists every account: %d keys", len(got))
	}
}

// TestAccountsListByStatusFollowsReauthorization: an account whose token
// dies is listed under needs_reauth after the periodic run finds it, and
// no longer once its owner's new token is registered.
func TestAccountsListByStatusFollowsReauthorization(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	old := e.clock.Now().Add(-40 * 24 * time.Hour)
	e.registerLongLived("alpha", "alpha_user", old)
	u := e.registerLongLived("beta", "beta_user", old)
	e.registerLongLived("gamma", "gamma_user", old)
	if got := e.listAllWithStatus(statusNeedsReauth, 10); len(got) != 0 {
		t.Fatalf("needs_reauth before any token died: %v", got)
	}
	e.meta.RevokeUser(u.UserID)
	e.tick()
	if got := e.listAllWithStatus(statusNeedsReauth, 10); !reflect.DeepEqual(got, []string{"beta"}) {
		t.Fatalf("needs_reauth after beta's token was revoked: %v", got)
	}
	if got := e.listAllWithStatus(statusValid, 10); !reflect.DeepEqual(got, []string{"alpha", "gamma"}) {
		t.Fatalf("valid after beta's token was revoked: %v", got)
	}

	tok := e.meta.MintLongLivedToken(u.UserID, []string{"instagram_business_basic"}, e.clock.Now())
	e.secrets = append(e.secrets, tok)
	e.mustOK(e.write("accounts/beta", map[string]any{"access_token": tok}))
	if got := e.listAllWithStatus(statusNeedsReauth, 10); len(got) != 0 {
		t.Fatalf("needs_reauth after beta was re-authorized: %v", got)
	}
	if got := e.listAllWithStatus(statusValid, 10); !reflect.DeepEqual(got, []string{"alpha", "beta", "gamma"}) {
		t.Fatalf("valid after beta was re-authorized: %v", got)
	}
}

// TestAccountsListByStatusFirstPageWarns: a status LIST without after or
// limit answers the first maxListLimit names with next and the warning of
// the plain list, which says to keep status on the next page.
func TestAccountsListByStatusFirstPageWarns(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccountsWithStatus("v", statusValid, 3)
	names := e.storeAccountsWithStatus("n", statusNeedsReauth, maxListLimit+2)
	resp := e.listPage(map[string]any{"status": statusNeedsReauth})
	keys := resp.Data["keys"].([]string)
	last := names[maxListLimit-1]
	if !reflect.DeepEqual(keys, names[:maxListLimit]) || resp.Data["next"] != last {
		t.Fatalf("first page: %d keys, next %v", len(keys), resp.Data["next"])
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "status=needs_reauth after="+last) {
		t.Fatalf("warnings %v, want one naming status=needs_reauth after=%s", resp.Warnings, last)
	}
	rest := e.listPage(map[string]any{"status": statusNeedsReauth, "after": last})
	if !reflect.DeepEqual(rest.Data["keys"], names[maxListLimit:]) || rest.Data["next"] != nil || len(rest.Warnings) != 0 {
		t.Fatalf("second page: %v, warnings %v", rest.Data, rest.Warnings)
	}
	// Fewer than a page: no next, no warning.
	if resp := e.listPage(map[string]any{"status": statusValid}); len(resp.Data["keys"].([]string)) != 3 || resp.Data["next"] != nil || len(resp.Warnings) != 0 {
		t.Fatalf("status=valid: %v, warnings %v", resp.Data, resp.Warnings)
	}
}

// TestAccountsListByStatusRefusesUnknownStatus: a status that is not one of
// the engine's is a 400 naming status (and saying which there are), as are
// the page fields' bad values with a status.
func TestAccountsListByStatusRefusesUnknownStatus(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccountsWithStatus("n", statusNeedsReauth, 1)
	for _, c := range []struct {
		data  map[string]any
		field string
	}{
		{map[string]any{"status": "broken"}, "status"},
		{map[string]any{"status": "NEEDS_REAUTH"}, "status"},
		{map[string]any{"status": "needs_reauth,valid"}, "status"},
		{map[string]any{"status": "needs_reauth", "limit": 0}, "limit"},
		{map[string]any{"status": "needs_reauth", "after": "bad/name"}, "after"},
	} {
		resp, err := e.do(logical.ListOperation, "accounts/", c.data)
		if err != nil || resp == nil || !resp.IsError() || !strings.Contains(resp.Error().Error(), c.field) {
			t.Errorf("LIST with %v: %v, %v; want a 400 naming %s", c.data, resp, err, c.field)
			continue
		}
		if c.field == "status" && !strings.Contains(resp.Error().Error(), statusRefreshFailing) {
			t.Errorf("LIST with %v: %q does not say which statuses there are", c.data, resp.Error())
		}
	}
}

// TestAccountsListByStatusFromMemory: a status page reads nothing from
// storage (the schedule holds each account's status). Before the schedule
// is built after a start it cannot say, and rather than read every account
// it answers 503, to retry in a moment.
func TestAccountsListByStatusFromMemory(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccountsWithStatus("v", statusValid, 5)
	want := e.storeAccountsWithStatus("n", statusNeedsReauth, 3)
	counting := &listCountingStorage{Storage: e.storage}
	list := func() (*logical.Response, error) {
		return e.b.HandleRequest(context.Background(), &logical.Request{
			Operation: logical.ListOperation, Path: "accounts/", Data: map[string]any{"status": statusNeedsReauth}, Storage: counting,
		})
	}
	resp := e.mustOK(list())
	if !reflect.DeepEqual(resp.Data["keys"], want) {
		t.Fatalf("keys %v, want %v", resp.Data["keys"], want)
	}
	if counting.lists != 0 || counting.gets != 0 {
		t.Fatalf("a status page read storage: %d lists, %d gets", counting.lists, counting.gets)
	}

	e.b.sched = schedule.NewQueue(defaultRefreshWindow) // not built from storage yet
	resp, err := list()
	var coded logical.HTTPCodedError
	if resp != nil || !errors.As(err, &coded) || coded.Code() != 503 || !strings.Contains(err.Error(), "retry") {
		t.Fatalf("before the schedule is built: %v, %v; want a 503 saying to retry", resp, err)
	}
	if counting.lists != 0 || counting.gets != 0 {
		t.Fatalf("before the schedule is built a status page read storage: %d lists, %d gets", counting.lists, counting.gets)
	}
}

// TestAccountsListByStatusChecksUnverified: a name the schedule has not
// confirmed since a crash is listed under a status only if its stored
// account exists and has that status.
func TestAccountsListByStatusChecksUnverified(t *testing.T) {
	e := newTestEnv(t)
	e.storeAccountsWithStatus("n", statusNeedsReauth, 2)
	e.storeAccountsWithStatus("v", statusValid, 1)
	now := e.clock.Now()
	// What a failed write leaves: memory says needs_reauth (the entry is
	// new to the schedule, so it takes that Account), storage may not.
	e.b.sched.Remove("v00000")
	e.b.sched.SetUnverified("v00000", schedule.Account{RegisteredAt: now, Status: statusNeedsReauth}, now)
	e.b.sched.SetUnverified("ghost", schedule.Account{RegisteredAt: now, Status: statusNeedsReauth}, now)
	e.b.sched.SetUnverified("n00001", schedule.Account{RegisteredAt: now, Status: statusNeedsReauth}, now)
	if got, want := e.listAllWithStatus(statusNeedsReauth, 10), []string{"n00000", "n00001"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("needs_reauth: %v, want %v", got, want)
	}
}
