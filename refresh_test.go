package instagram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/helper/consts"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestRefreshKeepsEveryTokenAliveFor180Days drives the clock through half a
// year, one periodic run an hour, with accounts registered in every way and
// at every age, and checks after each run that no stored token has expired,
// that the fake Meta still accepts every stored token, and that no refresh
// was ever refused.
func TestRefreshKeepsEveryTokenAliveFor180Days(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	start := e.clock.Now()

	var names []string
	for i := range 12 {
		name := fmt.Sprintf("code-%d", i)
		e.registerFromCode(name, "code_user_"+fmt.Sprint(i))
		names = append(names, name)
		e.clock.Advance(37 * time.Minute)
	}
	for i := range 12 {
		name := fmt.Sprintf("aged-%d", i)
		// Issued between 1 and 56 days ago.
		e.registerLongLived(name, "aged_user_"+fmt.Sprint(i), e.clock.Now().Add(-time.Duration(1+5*i)*24*time.Hour))
		names = append(names, name)
	}
	for i := range 12 {
		name := fmt.Sprintf("unknown-%d", i)
		u := e.meta.AddUser("unknown_user_" + fmt.Sprint(i))
		tok := e.meta.MintLongLivedToken(u.UserID, nil, e.clock.Now().Add(-time.Duration(i)*4*24*time.Hour))
		e.secrets = append(e.secrets, tok)
		e.mustOK(e.write("accounts/"+name, map[string]any{"access_token": tok}))
		names = append(names, name)
	}

	lastRefresh := map[string]time.Time{}
	for e.clock.Now().Before(start.Add(180 * 24 * time.Hour)) {
		e.clock.Advance(time.Hour)
		e.tick()
		now := e.clock.Now()
		for _, name := range names {
			// The cache is coherent with storage (every write goes through
			// it), and reading it keeps this half-year loop quick.
			a, err := e.b.getAccount(context.Background(), e.storage, name)
			if err != nil || a == nil {
				t.Fatalf("%s: %v", name, err)
			}
			if a.Status != statusValid {
				t.Fatalf("%s: %s at %v: %s", name, a.Status, now, a.LastError)
			}
			if a.expired(now) {
				t.Fatalf("%s: token expired at %v", name, a.ExpiresAt)
			}
			info, ok := e.meta.TokenInfo(a.AccessToken)
			if !ok || info.Revoked || !now.Before(info.ExpiresAt) {
				t.Fatalf("%s: the fake no longer accepts the stored token at %v: %+v", name, now, info)
			}
			if !a.LastRefreshedAt.IsZero() && !a.LastRefreshedAt.Equal(lastRefresh[name]) {
				if prev := lastRefresh[name]; !prev.IsZero() && a.LastRefreshedAt.Sub(prev) < minTokenAge {
					t.Fatalf("%s refreshed twice within 24h", name)
				}
				lastRefresh[name] = a.LastRefreshedAt
			}
		}
	}
	st := e.b.stats.snapshot()
	if st.refreshesFailed != 0 {
		t.Fatalf("%d refreshes failed", st.refreshesFailed)
	}
	for _, name := range names {
		if lastRefresh[name].IsZero() {
			t.Fatalf("%s was never refreshed", name)
		}
	}
	// Every 30 days or so, not every tick: 180 days make about 6 refreshes
	// per account.
	if got, max := e.meta.Calls("refresh"), 8*len(names); got > max {
		t.Fatalf("%d refresh calls to Meta for %d accounts over 180 days (max %d)", got, len(names), max)
	}
}

func TestUnknownExpiryIsLearnedAtFirstRefresh(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.meta.AddUser("dash")
	tok := e.meta.MintLongLivedToken(u.UserID, nil, e.clock.Now().Add(-3*24*time.Hour))
	e.secrets = append(e.secrets, tok)
	e.mustOK(e.write("accounts/dash", map[string]any{"access_token": tok}))

	e.clock.Advance(23 * time.Hour)
	e.tick()
	if e.meta.Calls("refresh") != 0 {
		t.Fatal("refreshed before the first moment Instagram certainly allows")
	}
	e.clock.Advance(time.Hour)
	e.tick()
	a := e.account("dash")
	if a.ExpiresAt.IsZero() || a.LastRefreshedAt.IsZero() {
		t.Fatalf("expiry not learned: %+v", a.ExpiresAt)
	}
	e.secrets = append(e.secrets, a.AccessToken)
}

func TestRefreshTransientFailureBacksOffAndKeepsToken(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	old := e.account("shop").AccessToken

	e.meta.Fail("refresh", 3, graphtest.Failure{Status: 500, Body: `{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true}}`})
	wantDelays := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, d := range wantDelays {
		e.tick()
		a := e.account("shop")
		if a.Status != statusRefreshFailing || a.ConsecutiveFailures != i+1 {
			t.Fatalf("after failure %d: status %s failures %d", i+1, a.Status, a.ConsecutiveFailures)
		}
		if a.AccessToken != old {
			t.Fatal("a failed refresh changed the stored token")
		}
		if !a.RetryAt.Equal(e.clock.Now().Add(d)) {
			t.Fatalf("retry %d at %v, want now+%v", i+1, a.RetryAt, d)
		}
		if a.LastError == "" {
			t.Fatal("failure not recorded")
		}
		resp := e.mustOK(e.read("token/shop"))
		if resp.Data["access_token"] != old {
			t.Fatal("old token not served while refresh fails")
		}
		// Not retried before its time.
		calls := e.meta.Calls("refresh")
		e.clock.Advance(d - time.Second)
		e.tick()
		if e.meta.Calls("refresh") != calls {
			t.Fatal("retried before the back-off ran out")
		}
		e.clock.Advance(time.Second)
	}
	e.tick()
	a := e.account("shop")
	if a.Status != statusValid || a.ConsecutiveFailures != 0 || a.LastError != "" || a.AccessToken == old {
		t.Fatalf("after recovery: %s %d %q", a.Status, a.ConsecutiveFailures, a.LastError)
	}
	e.secrets = append(e.secrets, a.AccessToken)
}

func TestRefreshThrottlingHonoursRegainTime(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	e.meta.Fail("refresh", 1, graphtest.Throttled(80002, 45))
	e.tick()
	a := e.account("shop")
	if a.Status != statusRefreshFailing {
		t.Fatalf("status = %s", a.Status)
	}
	if want := e.clock.Now().Add(45 * time.Minute); a.RetryAt.Before(want) {
		t.Fatalf("retry at %v, want no earlier than %v", a.RetryAt, want)
	}
}

func TestRefreshInvalidTokenStopsRetrying(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	e.meta.RevokeUser(u.UserID)
	e.tick()
	a := e.account("shop")
	if a.Status != statusNeedsReauth || a.ConsecutiveFailures != 1 || !strings.Contains(a.LastError, "190") {
		t.Fatalf("status %s failures %d error %q", a.Status, a.ConsecutiveFailures, a.LastError)
	}
	calls := e.meta.Calls("refresh")
	for range 48 {
		e.clock.Advance(time.Hour)
		e.tick()
	}
	if e.meta.Calls("refresh") != calls {
		t.Fatal("kept retrying an account that needs re-authorization")
	}
	resp := e.mustOK(e.read("accounts/shop"))
	if resp.Data["next_refresh_at"] != "" || resp.Data["status"] != statusNeedsReauth {
		t.Fatalf("account read: %v", resp.Data)
	}
}

func TestRefreshPermissionErrorNeedsReauth(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	e.meta.Fail("refresh", 1, graphtest.GraphError(10, 0, "OAuthException", "Application does not have permission for this action"))
	e.tick()
	if a := e.account("shop"); a.Status != statusNeedsReauth {
		t.Fatalf("status = %s", a.Status)
	}
}

func TestManualRefresh(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("young", "young_user")

	resp, err := e.write("accounts/young/refresh", nil)
	e.mustFail(resp, err, "24 hours")
	if e.meta.Calls("refresh") != 0 {
		t.Fatal("asked Meta to refresh a token younger than 24 hours")
	}

	e.clock.Advance(25 * time.Hour)
	old := e.account("young").AccessToken
	resp = e.mustOK(e.write("accounts/young/refresh", nil))
	a := e.account("young")
	e.secrets = append(e.secrets, a.AccessToken)
	if a.AccessToken == old || !a.LastRefreshedAt.Equal(e.clock.Now()) {
		t.Fatal("manual refresh did not store the new token")
	}
	assertNoToken(t, resp, a.AccessToken)

	resp, err = e.write("accounts/nobody/refresh", nil)
	e.mustFail(resp, err, "nobody")
}

func TestManualRefreshOfExpiredToken(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("old", "old_user", e.clock.Now().Add(-59*24*time.Hour))
	e.clock.Advance(2 * 24 * time.Hour)
	resp, err := e.write("accounts/old/refresh", nil)
	e.mustFail(resp, err, "expired")
}

func TestManualRefreshMetaDownIs502(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-10*24*time.Hour))
	e.meta.Fail("refresh", 1, graphtest.Failure{Status: 503, Body: "busy"})
	_, err := e.write("accounts/shop/refresh", nil)
	if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != http.StatusBadGateway {
		t.Fatalf("err = %v", err)
	}
}

// TestConcurrentRefreshesNeverOverlap runs manual refreshes and periodic
// runs of the same accounts at once (run it with -race) and checks through
// the HTTP transport that Meta never saw two refreshes of one token at once.
func TestConcurrentRefreshesNeverOverlap(t *testing.T) {
	probe := &overlapProbe{inflight: map[string]int{}}
	e := newTestEnvWith(t, backendOptions{httpClient: &http.Client{Transport: probe}})
	e.configure(map[string]any{"refresh_concurrency": 8})
	for i := range 6 {
		e.registerLongLived(fmt.Sprintf("acct-%d", i), fmt.Sprintf("user_%d", i), e.clock.Now().Add(-40*24*time.Hour))
	}
	var wg sync.WaitGroup
	for round := range 20 {
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = e.b.HandleRequest(context.Background(), &logical.Request{
					Operation: logical.UpdateOperation, Path: fmt.Sprintf("accounts/acct-%d/refresh", i), Storage: e.storage,
				})
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = e.b.PeriodicFunc(context.Background(), &logical.Request{Storage: e.storage})
		}()
		if round%4 == 3 {
			e.clock.Advance(25 * time.Hour)
		}
	}
	wg.Wait()
	if probe.maxOverlap > 1 {
		t.Fatalf("Meta saw %d refreshes of one token at once", probe.maxOverlap)
	}
	if probe.total == 0 {
		t.Fatal("no refresh reached Meta")
	}
	for i := range 6 {
		e.secrets = append(e.secrets, e.account(fmt.Sprintf("acct-%d", i)).AccessToken)
	}
}

// overlapProbe counts concurrent refresh calls per access token.
type overlapProbe struct {
	mu         sync.Mutex
	inflight   map[string]int
	maxOverlap int
	total      int
}

func (p *overlapProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	key := ""
	if strings.HasSuffix(req.URL.Path, "/refresh_access_token") {
		key = req.URL.Query().Get("access_token")
		p.mu.Lock()
		p.inflight[key]++
		p.total++
		p.maxOverlap = max(p.maxOverlap, p.inflight[key])
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.inflight[key]--
			p.mu.Unlock()
		}()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestPeriodicOnlyWhereStorageIsWritable(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))

	sys := logical.TestSystemView()
	sys.ReplicationStateVal = consts.ReplicationPerformanceStandby
	conf := logical.TestBackendConfig()
	conf.System = sys
	conf.StorageView = e.storage
	standby := newBackend(backendOptions{clock: e.clock})
	if err := standby.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	if err := standby.PeriodicFunc(context.Background(), &logical.Request{Storage: e.storage}); err != nil {
		t.Fatal(err)
	}
	if e.meta.Calls("refresh") != 0 {
		t.Fatal("a performance standby refreshed a token")
	}
	e.tick()
	if e.meta.Calls("refresh") != 1 {
		t.Fatal("the active node did not refresh")
	}
	e.secrets = append(e.secrets, e.account("shop").AccessToken)
}

func TestTicksNeverOverlap(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("shop", "shop_user", e.clock.Now().Add(-40*24*time.Hour))
	e.b.ticking.Store(true) // a tick is running
	e.tick()
	if e.meta.Calls("refresh") != 0 {
		t.Fatal("a second tick ran while one was in progress")
	}
	e.b.ticking.Store(false)
	e.tick()
	if e.meta.Calls("refresh") != 1 {
		t.Fatal("tick did not run once the previous one ended")
	}
	e.secrets = append(e.secrets, e.account("shop").AccessToken)
}

func TestScheduleRebuiltAtStartup(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("a", "ua", e.clock.Now().Add(-40*24*time.Hour))
	e.registerLongLived("b", "ub", e.clock.Now().Add(-1*24*time.Hour))

	// A new plugin instance on the same storage (restart, leader change).
	conf := logical.TestBackendConfig()
	conf.StorageView = e.storage
	b2 := newBackend(backendOptions{clock: e.clock})
	if err := b2.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	if err := b2.Initialize(context.Background(), &logical.InitializationRequest{Storage: e.storage}); err != nil {
		t.Fatal(err)
	}
	b2.bgWG.Wait() // the schedule is built in the background
	snap := b2.sched.Figures()
	if snap.Total != 2 || snap.NextName != "a" {
		t.Fatalf("rebuilt schedule: %+v", snap)
	}
}

func TestStatus(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerLongLived("due", "due_user", e.clock.Now().Add(-40*24*time.Hour))
	e.registerFromCode("fresh", "fresh_user")
	u := e.registerLongLived("dead", "dead_user", e.clock.Now().Add(-40*24*time.Hour))
	e.meta.RevokeUser(u.UserID)
	e.tick()
	e.secrets = append(e.secrets, e.account("due").AccessToken)

	resp := e.mustOK(e.read("status"))
	want := map[string]any{
		"configured": true, "accounts_total": 3, "accounts_valid": 2, "accounts_needs_reauth": 1,
		"accounts_refresh_failing": 0, "last_run_refreshed": 1, "last_run_failed": 1,
		"refreshes_succeeded": int64(1), "refreshes_failed": int64(1), "periodic_runs": int64(1),
	}
	for k, v := range want {
		if resp.Data[k] != v {
			t.Errorf("%s = %v (%T), want %v", k, resp.Data[k], resp.Data[k], v)
		}
	}
	if resp.Data["next_refresh_at"] == "" || resp.Data["last_run_at"] == "" {
		t.Errorf("status lacks times: %v", resp.Data)
	}
}

func newTestEnvWith(t *testing.T, opts backendOptions) *testEnv {
	e := newTestEnv(t)
	opts.clock = e.clock
	if opts.jitter == nil {
		opts.jitter = func() float64 { return 1 }
	}
	b := newBackend(opts)
	conf := logical.TestBackendConfig()
	conf.StorageView = e.storage
	conf.Logger = e.b.Logger()
	if err := b.Setup(context.Background(), conf); err != nil {
		t.Fatal(err)
	}
	if err := b.Initialize(context.Background(), &logical.InitializationRequest{Storage: e.storage}); err != nil {
		t.Fatal(err)
	}
	b.bgWG.Wait() // the schedule is built in the background
	e.b = b
	return e
}
