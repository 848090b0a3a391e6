//go:build e2e

package e2e

import (
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
