package instagram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

func TestHealthCheckOffset(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := range 50 {
		name := fmt.Sprintf("account-%d", i)
		o := schedule.CheckOffset(name)
		if o < 0 || o >= healthCheckSpread || o != schedule.CheckOffset(name) {
			t.Fatalf("offset of %s = %v", name, o)
		}
		seen[o] = true
	}
	if len(seen) < 40 {
		t.Fatalf("50 names share %d offsets: not spread", len(seen))
	}
}

func TestFacebookHealthCheckDetectsRevokedPageToken(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("shop", "shop_user", true)
	e.registerFacebook("brand", "brand_user", true)
	a := e.account("shop")
	e.meta.Revoke(a.AccessToken)

	// Within the hour nothing is checked.
	e.clock.Advance(healthCheckInterval - time.Minute)
	e.tick()
	if got := e.meta.Calls(graphtest.EndpointDebugToken); got != 2 {
		t.Fatalf("debug_token called %d times before the first hourly check (want the 2 of registration)", got)
	}
	if e.account("shop").Status != statusValid {
		t.Fatal("marked before any check")
	}

	e.clock.Advance(healthCheckSpread + time.Minute)
	e.tick()
	a = e.account("shop")
	if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "190") || a.ConsecutiveFailures != 1 {
		t.Fatalf("after the check: status %s failures %d error %q", a.Status, a.ConsecutiveFailures, a.LastError)
	}
	if b := e.account("brand"); b.Status != statusValid || !b.LastCheckedAt.Equal(e.clock.Now()) {
		t.Fatalf("the healthy account: %s, checked %v", b.Status, b.LastCheckedAt)
	}
	if e.meta.Calls(graphtest.EndpointRefresh)+e.meta.Calls(graphtest.EndpointFacebookExchangeToken) != 2 {
		t.Fatal("the periodic work tried to refresh or re-exchange a Facebook token")
	}

	resp, err := e.read("token/shop")
	e.mustFail(resp, err, "needs re-authorization")
	if got := httpStatus(resp, err); got != http.StatusConflict {
		t.Fatalf("token/shop status %d, want 409", got)
	}
	meta := e.mustOK(e.read("accounts/shop"))
	if meta.Data["status"] != statusNeedsReauth || meta.Data["next_check_at"] != "" {
		t.Fatalf("accounts/shop = %v", meta.Data)
	}
	st := e.mustOK(e.read("status"))
	if st.Data["accounts_needs_reauth"] != 1 || st.Data["health_checks_failed"] != int64(1) || st.Data["health_checks_succeeded"] != int64(1) ||
		st.Data["last_run_refreshed"] != 0 {
		t.Fatalf("status = %v", st.Data)
	}

	// A dead account is not checked again.
	calls := e.meta.Calls(graphtest.EndpointDebugToken)
	for range 5 {
		e.clock.Advance(healthCheckInterval + healthCheckSpread)
		e.tick()
	}
	if got := e.meta.Calls(graphtest.EndpointDebugToken) - calls; got != 5 {
		t.Fatalf("%d checks in 5 rounds, want only brand's 5", got)
	}
}

func TestFacebookHealthCheckAtMostHourlyAndSpread(t *testing.T) {
	e := newFacebookEnv(t)
	var names []string
	for i := range 8 {
		name := fmt.Sprintf("acct-%d", i)
		e.registerFacebook(name, fmt.Sprintf("user_%d", i), i%2 == 0)
		names = append(names, name)
	}
	registered := e.clock.Now()

	checks := map[string][]time.Time{}
	for range 6 * 60 {
		e.clock.Advance(time.Minute)
		e.tick()
		for _, name := range names {
			a, err := e.b.getAccount(context.Background(), e.storage, name)
			if err != nil || a == nil {
				t.Fatal(name, err)
			}
			if a.Status != statusValid {
				t.Fatalf("%s: %s %q", name, a.Status, a.LastError)
			}
			last := registered
			if c := checks[name]; len(c) > 0 {
				last = c[len(c)-1]
			}
			if a.LastCheckedAt.After(last) {
				if gap := a.LastCheckedAt.Sub(last); gap < healthCheckInterval {
					t.Fatalf("%s checked %v after its previous check", name, gap)
				}
				checks[name] = append(checks[name], a.LastCheckedAt)
			}
		}
	}
	total := 0
	firsts := map[time.Time]bool{}
	for _, name := range names {
		n := len(checks[name])
		if n < 3 || n > 6 {
			t.Errorf("%s checked %d times in 6 hours, want 3 to 6", name, n)
		}
		total += n
		if n > 0 {
			firsts[checks[name][0]] = true
		}
	}
	if got := e.meta.Calls(graphtest.EndpointDebugToken); got != total+len(names) {
		t.Fatalf("debug_token called %d times; %d checks plus %d registrations", got, total, len(names))
	}
	// Registered at the same instant, checked at different ones.
	if len(firsts) < len(names)/2 {
		t.Fatalf("8 accounts registered together had their first checks at only %d instants", len(firsts))
	}
	if e.meta.Calls(graphtest.EndpointRefresh) != 0 {
		t.Fatal("Facebook accounts were refreshed")
	}
}

func TestFacebookUserTokenNearingExpiry(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("owner", "owner_user", false)
	e.registerFacebook("paged", "paged_user", true)
	expires := e.account("owner").ExpiresAt

	// 31 days on, the 60-day user token is inside the 30-day window.
	e.clock.Advance(31 * 24 * time.Hour)
	e.tick()
	a := e.account("owner")
	if a.Status != statusExpiring || a.LastError != "" {
		t.Fatalf("status %s error %q, want expiring", a.Status, a.LastError)
	}
	if p := e.account("paged"); p.Status != statusValid {
		t.Fatalf("a Page token (no expiry) is %s", p.Status)
	}
	meta := e.mustOK(e.read("accounts/owner"))
	if meta.Data["status"] != statusExpiring || meta.Data["reauth_due_at"] != expires.Format(time.RFC3339) {
		t.Fatalf("accounts/owner = %v", meta.Data)
	}
	resp := e.mustOK(e.read("token/owner"))
	if resp.Data["access_token"] != a.AccessToken || len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "authorize again") {
		t.Fatalf("an expiring token is not served with a warning: %v", resp.Warnings)
	}
	if st := e.mustOK(e.read("status")); st.Data["accounts_expiring"] != 1 || st.Data["accounts_valid"] != 1 {
		t.Fatalf("status = %v", st.Data)
	}

	// At its expiry it is dead, which needs no call to Meta to know.
	e.clock.Advance(expires.Sub(e.clock.Now()) - 2*time.Hour)
	e.tick()
	calls := e.meta.Calls(graphtest.EndpointDebugToken)
	e.clock.Advance(2 * time.Hour)
	e.tick()
	a = e.account("owner")
	if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "expired") {
		t.Fatalf("at expiry: %s %q", a.Status, a.LastError)
	}
	if got := e.meta.Calls(graphtest.EndpointDebugToken) - calls; got > 1 {
		t.Fatalf("%d debug_token calls at expiry, want only the Page account's", got)
	}
	resp, err := e.read("token/owner")
	if httpStatus(resp, err) != http.StatusConflict {
		t.Fatal("an expired Facebook token is served")
	}
	if e.account("paged").Status != statusValid {
		t.Fatal("the Page token died with the user token's expiry")
	}
}

func TestFacebookHealthCheckMetaDownKeepsServing(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("shop", "shop_user", true)
	e.meta.Fail(graphtest.EndpointDebugToken, 1, graphtest.Failure{Status: 500, Body: `{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true}}`})
	e.clock.Advance(healthCheckInterval + healthCheckSpread)
	e.tick()
	a := e.account("shop")
	if a.Status != statusValid || a.ConsecutiveFailures != 1 || !strings.Contains(a.LastError, "debug_token") {
		t.Fatalf("after a failed check: %s %d %q", a.Status, a.ConsecutiveFailures, a.LastError)
	}
	e.mustOK(e.read("token/shop"))

	// Retried at the next hourly check, not sooner.
	calls := e.meta.Calls(graphtest.EndpointDebugToken)
	e.clock.Advance(healthCheckInterval - time.Minute)
	e.tick()
	if e.meta.Calls(graphtest.EndpointDebugToken) != calls {
		t.Fatal("a failed check was retried within the hour")
	}
	e.clock.Advance(healthCheckSpread + time.Minute)
	e.tick()
	if a := e.account("shop"); a.Status != statusValid || a.ConsecutiveFailures != 0 || a.LastError != "" {
		t.Fatalf("after recovery: %s %d %q", a.Status, a.ConsecutiveFailures, a.LastError)
	}
}
