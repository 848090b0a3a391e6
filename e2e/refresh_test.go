//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// Vault calls a mount's periodic function about once a minute; a refresh
// that is due when an account is registered happens within two such ticks.
const periodicWait = 150 * time.Second

// TestPeriodicRefreshOnRealVault registers a token already inside the
// refresh window and waits for Vault's periodic function to refresh it.
func TestPeriodicRefreshOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.addUser("due_owner")
	// Issued 40 days ago: 20 days left, inside the 30-day window, and well
	// past Instagram's 24-hour minimum age.
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	old := e.mintLongLived(u, issued, basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/due", map[string]any{
		"access_token": old,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register: %v", err)
	}

	start := time.Now()
	e.waitFor("token/due to change", func() bool {
		return e.readToken(e.root, "due").accessToken != old
	})
	t.Logf("the periodic function refreshed the token %s after registration", time.Since(start).Round(time.Second))

	got := e.readToken(e.root, "due")
	if got.accessToken != e.currentToken(u) {
		t.Fatal("token/due is not the newest token Meta issued")
	}
	assertNear(t, "expires_at after refresh", got.expiresAt, time.Now().Add(longLivedTTL), 3*time.Minute)
	acct := e.readAccount(e.root, "due")
	if acct["status"] != "valid" || optTime(t, acct["last_refreshed_at"]).IsZero() {
		t.Fatalf("account after refresh: status %v last_refreshed_at %v", acct["status"], acct["last_refreshed_at"])
	}
	if n := e.fake.Calls(graphtest.EndpointRefresh); n != 1 {
		t.Fatalf("Meta saw %d refresh calls, want exactly 1", n)
	}
	status, err := e.root.Logical().Read(mountPath + "/status")
	if err != nil || status == nil {
		e.fatalf("read status: %v", err)
	}
	if toInt64(t, status.Data["refreshes_succeeded"]) != 1 || optTime(t, status.Data["last_run_at"]).IsZero() {
		t.Fatalf("status after the refresh: %v", status.Data)
	}
}

// TestFailingMetaKeepsOldTokenReadable makes every refresh fail and checks
// that the account records the failure while token/ keeps serving the old,
// still valid token; once Meta recovers, the back-off retry refreshes it.
func TestFailingMetaKeepsOldTokenReadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail(graphtest.EndpointRefresh, -1, graphtest.Failure{
		Status: 500,
		Body:   `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`,
	})
	u := e.addUser("flaky_owner")
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	old := e.mintLongLived(u, issued, basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/flaky", map[string]any{
		"access_token": old,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register: %v", err)
	}

	e.waitFor("the refresh to fail", func() bool {
		return e.readAccount(e.root, "flaky")["status"] == "refresh_failing"
	})
	acct := e.readAccount(e.root, "flaky")
	if toInt64(t, acct["consecutive_failures"]) < 1 || acct["last_error"] == "" {
		t.Fatalf("failure not recorded: %v", acct)
	}
	if next := optTime(t, acct["next_refresh_at"]); !next.After(time.Now()) {
		t.Fatalf("next_refresh_at %v is not a back-off into the future", next)
	}
	if got := e.readToken(e.root, "flaky"); got.accessToken != old {
		t.Fatal("token/flaky does not serve the old token while Meta fails")
	}

	e.fake.ClearFailures()
	e.waitFor("the retry to refresh the token", func() bool {
		return e.readToken(e.root, "flaky").accessToken != old
	})
	acct = e.readAccount(e.root, "flaky")
	if acct["status"] != "valid" || toInt64(t, acct["consecutive_failures"]) != 0 {
		t.Fatalf("after recovery: %v", acct)
	}
}

// waitFor polls cond every two seconds until it holds, or fails the test
// after periodicWait. Polling a real server is the one place the suite waits
// on the wall clock: Vault's periodic timer is not ours to drive.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(periodicWait)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			e.fatalf("gave up after %s waiting for %s", periodicWait, what)
		}
		time.Sleep(2 * time.Second)
	}
}

// TestExpiryAndAppPauseOnRealVault (issue 13, findings 2 and 9) runs the
// periodic function of a real Vault against a token that runs out while
// Meta refuses its refresh, then against an app-wide throttle (code 4)
// whose Retry-After asks for ten years.
//
// The expired token is marked needs_reauth with a last_error naming its
// expiry, and counted in status; the throttle pauses refreshes for a day,
// not ten years, and status shows until when and why.
func TestExpiryAndAppPauseOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.Fail(graphtest.EndpointRefresh, -1, graphtest.Failure{
		Status: 500,
		Body:   `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`,
	})
	u := e.addUser("lapsing_owner")
	// Three seconds of life left: it runs out before any retry.
	expires := time.Now().Add(3 * time.Second).Truncate(time.Second)
	tok := e.mintLongLived(u, expires.Add(-longLivedTTL), basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/lapsing", map[string]any{
		"access_token": tok,
		"expires_at":   expires.UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register: %v", err)
	}
	// Before expiry, a refresh may fail once (then its retry comes after
	// expiry), so allow two periodic runs and then some.
	e.eventually("lapsing to be marked needs_reauth", 200*time.Second, func() bool {
		return e.readAccount(e.root, "lapsing")["status"] == "needs_reauth"
	}, func() string { return fmt.Sprint(e.readAccount(e.root, "lapsing")) })
	acct := e.readAccount(e.root, "lapsing")
	lastError, _ := acct["last_error"].(string)
	if !strings.Contains(lastError, "expired") || !strings.Contains(lastError, expires.UTC().Format(time.RFC3339)) {
		t.Fatalf("last_error %q does not say the token expired at %s", lastError, expires.UTC().Format(time.RFC3339))
	}
	if acct["next_refresh_at"] != "" {
		t.Fatalf("still scheduled: next_refresh_at %v", acct["next_refresh_at"])
	}
	if st := e.status(); toInt64(t, st["accounts_needs_reauth"]) != 1 || st["app_paused_until"] != "" || st["app_pause_reason"] != "" {
		t.Fatalf("status: needs_reauth %v, app_paused_until %q, app_pause_reason %q",
			st["accounts_needs_reauth"], st["app_paused_until"], st["app_pause_reason"])
	}

	e.fake.ClearFailures()
	before := e.fake.Calls(graphtest.EndpointRefresh)
	throttle := graphtest.Throttled(4, 30)
	throttle.Header.Set("Retry-After", "315360000") // ten years
	e.fake.Fail(graphtest.EndpointRefresh, 1, throttle)
	due := e.addUser("due_owner")
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	old := e.mintLongLived(due, issued, basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/due", map[string]any{
		"access_token": old,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register: %v", err)
	}
	e.waitFor("status to show the app-wide pause", func() bool {
		return e.status()["app_paused_until"] != ""
	})
	st := e.status()
	assertNear(t, "app_paused_until", optTime(t, st["app_paused_until"]), time.Now().Add(24*time.Hour), 3*time.Minute)
	if reason, _ := st["app_pause_reason"].(string); !strings.Contains(reason, "code 4") || !strings.Contains(reason, "refresh") {
		t.Fatalf("app_pause_reason %q: want the refresh call and Meta's code 4", reason)
	}
	if got := e.readToken(e.root, "due"); got.accessToken != old {
		t.Fatal("token/due does not serve the stored token during the pause")
	}
	if n := e.fake.Calls(graphtest.EndpointRefresh) - before; n != 1 {
		t.Fatalf("Meta saw %d refresh calls since the throttle was set, want the one it answered", n)
	}
}
