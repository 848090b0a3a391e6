package instagram

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// untilCheck advances the clock just past name's next daily health check.
func (e *testEnv) untilCheck(name string) {
	e.t.Helper()
	at, ok := e.account(name).scheduled().InstagramCheckDueAt()
	if !ok {
		e.t.Fatalf("%s has no health check due", name)
	}
	e.clock.Advance(at.Sub(e.clock.Now()) + time.Minute)
}

// TestInstagramTokenCheckedDaily: between refreshes a working Instagram
// Login token is checked once a day (one /me call), never twice, never in
// place of a due refresh, and the check changes neither the token nor the
// refresh schedule.
func TestInstagramTokenCheckedDaily(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	token := e.account("shop").AccessToken
	refreshAt := e.mustOK(e.read("accounts/shop")).Data["next_refresh_at"]
	meCalls := e.meta.Calls(graphtest.EndpointMe) // registration reads /me once

	e.clock.Advance(23 * time.Hour)
	e.tick()
	if got := e.meta.Calls(graphtest.EndpointMe) - meCalls; got != 0 {
		t.Fatalf("%d checks within the first day", got)
	}
	for day := 1; day <= 5; day++ {
		e.untilCheck("shop")
		for range 3 { // Vault's periodic function runs every minute
			e.tick()
			e.clock.Advance(time.Minute)
		}
		if got := e.meta.Calls(graphtest.EndpointMe) - meCalls; got != day {
			t.Fatalf("day %d: %d checks so far, want one a day", day, got)
		}
	}
	a := e.account("shop")
	if a.Status != statusValid || a.AccessToken != token || a.LastCheckedAt.IsZero() || e.meta.Calls(graphtest.EndpointRefresh) != 0 {
		t.Fatalf("after 5 checks: status %s, token kept %v, last_checked_at %v, %d refreshes",
			a.Status, a.AccessToken == token, a.LastCheckedAt, e.meta.Calls(graphtest.EndpointRefresh))
	}
	acct := e.mustOK(e.read("accounts/shop")).Data
	next, _ := a.scheduled().InstagramCheckDueAt()
	if acct["last_checked_at"] != formatTime(a.LastCheckedAt) || acct["next_check_at"] != formatTime(next) || acct["next_refresh_at"] != refreshAt {
		t.Fatalf("accounts/shop: last_checked_at %v, next_check_at %v (want %v), next_refresh_at %v (want %v)",
			acct["last_checked_at"], acct["next_check_at"], formatTime(next), acct["next_refresh_at"], refreshAt)
	}
	if ttl := e.mustOK(e.read("token/shop")).Data["ttl"]; ttl != int64(time.Hour/time.Second) {
		t.Fatalf("token ttl = %v: a check must not shorten it below max_token_ttl", ttl)
	}
	if st := e.mustOK(e.read("status")).Data; st["health_checks_succeeded"] != int64(5) {
		t.Fatalf("status health_checks_succeeded = %v, want 5", st["health_checks_succeeded"])
	}

	// At the refresh, the refresh happens and no check besides it.
	e.clock.Advance(parseTimeOrFail(t, refreshAt).Sub(e.clock.Now()) + time.Minute)
	before := e.meta.Calls(graphtest.EndpointMe)
	e.tick()
	if e.meta.Calls(graphtest.EndpointRefresh) != 1 || e.meta.Calls(graphtest.EndpointMe) != before {
		t.Fatalf("at the refresh: %d refreshes, %d checks", e.meta.Calls(graphtest.EndpointRefresh), e.meta.Calls(graphtest.EndpointMe)-before)
	}
}

// TestInstagramCheckFindsRevokedToken: a token revoked between refreshes
// (a password change: Meta sends no callback) is found within a day and no
// longer served; the account is parked until its owner authorizes again.
func TestInstagramCheckFindsRevokedToken(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	e.registerFromCode("brand", "brand_user")
	e.meta.RevokeUser(u.UserID)
	e.untilCheck("shop")
	e.tick()

	a := e.account("shop")
	if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "health check") || !strings.Contains(a.LastError, "190") {
		t.Fatalf("status %s, last_error %q; want needs_reauth from the health check's code 190", a.Status, a.LastError)
	}
	resp, err := e.read("token/shop")
	if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != http.StatusConflict {
		t.Fatalf("token/shop after the check: %v %v, want a 409", resp, err)
	}
	if st := e.mustOK(e.read("status")).Data; st["accounts_needs_reauth"] != 1 {
		t.Fatalf("status accounts_needs_reauth = %v", st["accounts_needs_reauth"])
	}
	if b := e.account("brand"); b.Status != statusValid {
		t.Fatalf("the other account: %s", b.Status)
	}
	calls := e.meta.Calls(graphtest.EndpointMe)
	for range 3 {
		e.clock.Advance(25 * time.Hour)
		e.tick()
	}
	// brand is checked daily; shop never again.
	if got := e.meta.Calls(graphtest.EndpointMe) - calls; got != 3 {
		t.Fatalf("%d checks in three days, want brand's 3 only", got)
	}
}

// TestInstagramCheckMetaDown: a check Meta cannot answer changes nothing
// but the record of it, and is not retried before the next day; the next
// good check clears it. An account whose refresh is failing is not checked:
// its retries already watch it.
func TestInstagramCheckMetaDown(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	token := e.account("shop").AccessToken
	e.meta.Fail(graphtest.EndpointMe, 1, graphtest.Failure{Status: http.StatusInternalServerError})
	e.untilCheck("shop")
	e.tick()
	a := e.account("shop")
	if a.Status != statusValid || a.ConsecutiveFailures != 0 || !strings.HasPrefix(a.LastError, "health check (me) failed") || a.AccessToken != token {
		t.Fatalf("after a failed check: status %s, failures %d, last_error %q, token kept %v", a.Status, a.ConsecutiveFailures, a.LastError, a.AccessToken == token)
	}
	e.assertAllServed([]string{"shop"})
	calls := e.meta.Calls(graphtest.EndpointMe)
	for range 12 {
		e.clock.Advance(time.Hour)
		e.tick()
	}
	if got := e.meta.Calls(graphtest.EndpointMe) - calls; got != 0 {
		t.Fatalf("a failed check was retried %d times within 12 hours", got)
	}
	e.untilCheck("shop")
	e.tick()
	if a := e.account("shop"); a.LastError != "" || e.meta.Calls(graphtest.EndpointMe)-calls != 1 {
		t.Fatalf("the next day's check: last_error %q, %d calls", a.LastError, e.meta.Calls(graphtest.EndpointMe)-calls)
	}

	// A refresh failing: retries, no checks.
	e.meta.Fail(graphtest.EndpointRefresh, -1, graphtest.Failure{Status: http.StatusInternalServerError})
	e.clock.Advance(31 * 24 * time.Hour)
	e.tick()
	if a := e.account("shop"); a.Status != statusRefreshFailing {
		t.Fatalf("status %s, want refresh_failing", a.Status)
	}
	calls = e.meta.Calls(graphtest.EndpointMe)
	for range 3 {
		e.clock.Advance(25 * time.Hour)
		e.tick()
	}
	if got := e.meta.Calls(graphtest.EndpointMe) - calls; got != 0 {
		t.Fatalf("%d checks of an account whose refresh is failing", got)
	}
}

func parseTimeOrFail(t *testing.T, v any) time.Time {
	t.Helper()
	s, _ := v.(string)
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("not a time: %v", v)
	}
	return at
}
