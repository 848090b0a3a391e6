package instagram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// registerDue registers n long-lived tokens issued 40 days ago: all due.
func (e *testEnv) registerDue(prefix string, n int) []string {
	e.t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("%s-%d", prefix, i)
		e.registerLongLived(name, fmt.Sprintf("%s_user_%d", prefix, i), e.clock.Now().Add(-40*24*time.Hour))
		names = append(names, name)
	}
	return names
}

// assertAllServed reads token/<name> for every name and fails unless each
// serves the token stored for it.
func (e *testEnv) assertAllServed(names []string) {
	e.t.Helper()
	for _, name := range names {
		resp := e.mustOK(e.read("token/" + name))
		if resp.Data["access_token"] != e.account(name).AccessToken {
			e.t.Fatalf("token/%s does not serve the stored token", name)
		}
	}
}

func (e *testEnv) rememberStoredTokens(names []string) {
	for _, name := range names {
		e.secrets = append(e.secrets, e.account(name).AccessToken)
	}
}

// TestServerErrorStormCallsDropAndRecover: Meta answers every refresh with a
// 500 for six hours. Every token stays served, calls to Meta fall off as the
// back-off grows, and once Meta recovers every account is refreshed without
// anyone's help.
func TestServerErrorStormCallsDropAndRecover(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 8})
	names := e.registerDue("storm", 20)
	e.meta.Fail(graphtest.EndpointRefresh, -1, graphtest.Failure{Status: 500, Body: "Internal Server Error"})

	perHour := make([]int, 6)
	for h := range 6 {
		before := e.meta.Calls(graphtest.EndpointRefresh)
		for range 60 {
			e.tick()
			e.clock.Advance(time.Minute)
		}
		perHour[h] = e.meta.Calls(graphtest.EndpointRefresh) - before
		e.assertAllServed(names)
	}
	t.Logf("refresh calls per hour during the outage: %v", perHour)
	if perHour[0] < 20*4 || perHour[5] > 20*2 {
		t.Fatalf("calls per hour %v: want at least 4 per account in the first hour, at most 2 in the sixth", perHour)
	}
	for _, name := range names {
		if a := e.account(name); a.Status != statusRefreshFailing || a.ConsecutiveFailures < 5 {
			t.Fatalf("%s: status %s failures %d", name, a.Status, a.ConsecutiveFailures)
		}
	}

	e.meta.ClearFailures()
	for range 7 * 60 {
		e.tick()
		e.clock.Advance(time.Minute)
	}
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid || a.LastRefreshedAt.IsZero() {
			t.Fatalf("%s did not recover: %s %q", name, a.Status, a.LastError)
		}
	}
	e.rememberStoredTokens(names)
}

// TestAppThrottlePausesEveryRefresh: code 4 (the app is over its limit)
// stops calls for every account until Meta's regain time.
func TestAppThrottlePausesEveryRefresh(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	names := e.registerDue("app", 5)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(4, 30))

	e.tick()
	if got := e.meta.Calls(graphtest.EndpointRefresh); got != 1 {
		t.Fatalf("%d calls after an app-wide throttle, want 1", got)
	}
	for range 29 {
		e.clock.Advance(time.Minute)
		e.tick()
	}
	if got := e.meta.Calls(graphtest.EndpointRefresh); got != 1 {
		t.Fatalf("%d calls while the app was throttled, want 1", got)
	}
	e.clock.Advance(2 * time.Minute)
	e.tick()
	e.clock.Advance(time.Minute)
	e.tick()
	for _, name := range names {
		if a := e.account(name); a.Status != statusValid {
			t.Fatalf("%s after the throttle lifted: %s %q", name, a.Status, a.LastError)
		}
	}
	e.rememberStoredTokens(names)
}

// TestUserThrottleBacksOffOnlyThatAccount: code 17 limits one user.
func TestUserThrottleBacksOffOnlyThatAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(map[string]any{"refresh_concurrency": 1})
	names := e.registerDue("user", 3)
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Throttled(17, 20))
	e.tick()
	failing := 0
	for _, name := range names {
		switch a := e.account(name); a.Status {
		case statusRefreshFailing:
			failing++
			if a.RetryAt.Before(e.clock.Now().Add(20 * time.Minute)) {
				t.Fatalf("retry at %v ignores the 20 minutes Meta asked for", a.RetryAt)
			}
		case statusValid:
		default:
			t.Fatalf("%s: %s", name, a.Status)
		}
	}
	if failing != 1 {
		t.Fatalf("%d accounts failing, want exactly the throttled one", failing)
	}
	e.rememberStoredTokens(names)
}

// TestMalformedAndOversizedAnswersKeepToken: a body that does not decode, or
// that exceeds the size limit, is a transient failure: token kept, retried.
func TestMalformedAndOversizedAnswersKeepToken(t *testing.T) {
	for name, f := range map[string]graphtest.Failure{
		"malformed": {Malformed: true},
		"oversized": {Oversize: true},
		"truncated": {Status: 200, Body: `{"access_token":`},
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			e.configure(nil)
			names := e.registerDue("odd", 1)
			old := e.account(names[0]).AccessToken
			e.meta.Fail(graphtest.EndpointRefresh, 1, f)
			e.tick()
			a := e.account(names[0])
			if a.AccessToken != old || a.Status != statusRefreshFailing || a.LastError == "" {
				t.Fatalf("status %s error %q, token kept %v", a.Status, a.LastError, a.AccessToken == old)
			}
			e.assertAllServed(names)
			e.clock.Advance(2 * time.Minute)
			e.tick()
			if a := e.account(names[0]); a.Status != statusValid {
				t.Fatalf("did not recover: %s", a.Status)
			}
			e.rememberStoredTokens(names)
		})
	}
}

// TestTokenRevokedBetweenTicks: a token revoked after it was stored is found
// out at its refresh, which stops there.
func TestTokenRevokedBetweenTicks(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.clock.Advance(31 * 24 * time.Hour)
	e.meta.RevokeUser(u.UserID)
	e.tick()
	a := e.account("shop")
	if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "190") {
		t.Fatalf("status %s error %q", a.Status, a.LastError)
	}
	if _, err := e.read("token/shop"); err == nil {
		t.Fatal("a revoked token was served")
	}
}

// TestTokenRevokedMidRefresh: the owner revokes the app (or changes their
// password) while the engine's refresh of their token is on its way.
//
// Before Meta handles the call, Meta refuses it (code 190): the account is
// marked needs_reauth, its token is no longer served, nothing is retried,
// the record is kept for the operator, and the other account refreshed in
// the same run is unaffected.
//
// After Meta has refreshed it, the new token is revoked with the others but
// the engine cannot know: it stores and serves the newest token Meta
// issued, and finds the revocation at the token's next daily health check,
// as it finds any revocation between refreshes (health_instagram.go; Meta's
// Deauthorize callback, when the owner removes the app, marks the account
// at once: path_deauthorize.go).
func TestTokenRevokedMidRefresh(t *testing.T) {
	for _, when := range []string{"before Meta answers", "after Meta answered"} {
		t.Run(when, func(t *testing.T) {
			hook := &refreshHook{calls: map[string]int{}}
			e := newTestEnvWith(t, backendOptions{httpClient: &http.Client{Transport: hook}})
			e.configure(nil)
			names := e.registerDue("revoked", 2)
			gone, kept := names[0], names[1]
			goneUser := e.account(gone).UserID
			hook.meta = e.meta
			if when == "before Meta answers" {
				hook.before = func(user string) {
					if user == goneUser {
						e.meta.RevokeUser(user)
					}
				}
			} else {
				hook.after = func(user string) {
					if user == goneUser {
						e.meta.RevokeUser(user)
					}
				}
			}

			e.tick()
			if a := e.account(kept); a.Status != statusValid || a.AccessToken != e.meta.CurrentToken(a.UserID) {
				t.Fatalf("the other account: status %s, holds the newest token %v", a.Status, a.AccessToken == e.meta.CurrentToken(a.UserID))
			}
			e.assertAllServed([]string{kept})
			a := e.account(gone)
			e.secrets = append(e.secrets, a.AccessToken, e.meta.CurrentToken(goneUser))

			if when == "after Meta answered" {
				// Stored and served: the newest token Meta issued.
				if a.Status != statusValid || a.AccessToken != e.meta.CurrentToken(goneUser) {
					t.Fatalf("after a refresh Meta answered: status %s, holds the newest token %v", a.Status, a.AccessToken == e.meta.CurrentToken(goneUser))
				}
				e.assertAllServed([]string{gone})
				if st, _ := e.meta.TokenInfo(a.AccessToken); !st.Revoked {
					t.Fatal("the scenario did not happen: the stored token is not revoked at Meta")
				}
				// Its next daily check, a day later, finds the revocation.
				e.untilCheck(gone)
				e.tick()
				a = e.account(gone)
			}
			if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "190") {
				t.Fatalf("status %s, last error %q; want needs_reauth with Meta's code 190", a.Status, a.LastError)
			}
			resp, err := e.read("token/" + gone)
			if err == nil && (resp == nil || !resp.IsError()) {
				t.Fatal("token/ served a revoked token")
			}
			e.mustOK(e.read("accounts/" + gone)) // kept for the operator to see
			calls := hook.count(goneUser)
			for range 3 {
				e.clock.Advance(24 * time.Hour)
				e.tick()
			}
			if more := hook.count(goneUser) - calls; more != 0 {
				t.Fatalf("needs_reauth account refreshed %d more times; it must wait for the owner", more)
			}
		})
	}
}

// refreshHook runs before and after each refresh call, with the Meta user
// whose token the call carries, and counts the calls per user. It runs on
// the engine's goroutine, so the hooks happen exactly between the engine
// sending the call and Meta handling it, or between Meta's answer and the
// engine reading it.
type refreshHook struct {
	meta          *graphtest.Server
	before, after func(user string)

	mu    sync.Mutex
	calls map[string]int
}

func (h *refreshHook) count(user string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[user]
}

func (h *refreshHook) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/refresh_access_token") || h.meta == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	st, _ := h.meta.TokenInfo(req.URL.Query().Get("access_token"))
	h.mu.Lock()
	h.calls[st.UserID]++
	h.mu.Unlock()
	if h.before != nil {
		h.before(st.UserID)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && h.after != nil {
		h.after(st.UserID)
	}
	return resp, err
}

// TestHungMetaBlocksNeitherReadsNorVault: Meta accepts the refresh call and
// never answers. Token reads go on while the refresh hangs, and the
// periodic run returns once request_timeout (1 s here) expires.
func TestHungMetaBlocksNeitherReadsNorVault(t *testing.T) {
	started := make(chan struct{}, 1)
	probe := &startProbe{started: started}
	e := newTestEnvWith(t, backendOptions{httpClient: &http.Client{Transport: probe}})
	e.configure(map[string]any{"request_timeout": 1})
	names := e.registerDue("hung", 1)
	old := e.account(names[0]).AccessToken
	e.meta.Fail(graphtest.EndpointRefresh, 1, graphtest.Failure{Hang: true})

	done := make(chan error, 1)
	go func() {
		done <- e.b.PeriodicFunc(context.Background(), &logical.Request{Storage: e.storage})
	}()
	<-started // the refresh is now in flight, holding the account's lock
	for range 100 {
		resp := e.mustOK(e.read("token/" + names[0]))
		if resp.Data["access_token"] != old {
			t.Fatal("a read during a hung refresh did not serve the stored token")
		}
	}
	e.mustOK(e.read("accounts/" + names[0]))
	e.mustOK(e.read("status"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	a := e.account(names[0])
	if a.Status != statusRefreshFailing || a.AccessToken != old {
		t.Fatalf("after the timeout: %s, token kept %v", a.Status, a.AccessToken == old)
	}
}

// startProbe signals when the first refresh call leaves the plugin.
type startProbe struct {
	started chan struct{}
}

func (p *startProbe) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/refresh_access_token") {
		select {
		case p.started <- struct{}{}:
		default:
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}
