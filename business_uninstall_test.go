package instagram

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// TestBusinessUninstallCaughtByHourlyCheck: when a client business
// uninstalls the app, Meta ends its system-user token and says so only to
// the app's webhook, which the engine cannot verify (docs/security.md). The
// hourly debug_token check is the guarantee instead: the account is left
// alone until its check falls due (an hour and its fixed offset after the
// last check, so at most 90 minutes), and the periodic run that comes then
// marks it needs_reauth (last_error carries Meta's code 190, subcode 458:
// app not installed), stops serving the token, and counts it in status
// and in the metrics the InstagramAccountNeedsReauth alert reads. A new
// authorization by the business restores it.
func TestBusinessUninstallCaughtByHourlyCheck(t *testing.T) {
	for _, expiring := range []bool{false, true} {
		name := "never expires"
		if expiring {
			name = "60 days"
		}
		t.Run(name, func(t *testing.T) {
			e, _ := newBusinessEnv(t, graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken, Expiring: expiring})
			owner := e.meta.AddUser("biz_owner")
			authorize := func(replace bool) {
				t.Helper()
				resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop", "replace": replace}))
				e.secrets = append(e.secrets, resp.Data["state"].(string))
				e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), owner.Username)).expect(t, http.StatusOK)
				e.rememberTokens("shop")
			}
			authorize(false)
			registered := e.clock.Now()
			if a := e.account("shop"); a.TokenKind != tokenKindSystemUser || a.Status != statusValid {
				t.Fatalf("registered %s %s, want a valid system-user account", a.TokenKind, a.Status)
			}
			due := registered.Add(healthCheckInterval + schedule.CheckOffset("shop"))
			if got := e.mustOK(e.read("accounts/shop")).Data["next_check_at"]; got != formatTime(due) {
				t.Fatalf("next_check_at = %v, want %s", got, formatTime(due))
			}
			if due.Sub(registered) > healthCheckInterval+healthCheckSpread {
				t.Fatalf("the check falls %v after registration, beyond the 90-minute bound", due.Sub(registered))
			}

			e.meta.UninstallBusiness(owner.Username)
			checks := e.meta.Calls(graphtest.EndpointDebugToken)

			// A second before the check is due: nothing asked, nothing known.
			e.clock.Advance(due.Sub(e.clock.Now()) - time.Second)
			e.tick()
			if a := e.account("shop"); a.Status != statusValid || e.meta.Calls(graphtest.EndpointDebugToken) != checks {
				t.Fatalf("before its check was due: %s, %d debug_token calls", a.Status, e.meta.Calls(graphtest.EndpointDebugToken)-checks)
			}

			// The periodic run at the due time checks and finds it.
			e.clock.Advance(time.Second)
			e.tick()
			if n := e.meta.Calls(graphtest.EndpointDebugToken) - checks; n != 1 {
				t.Fatalf("%d debug_token calls at the due time, want 1", n)
			}
			a := e.account("shop")
			if a.Status != statusNeedsReauth || !a.LastCheckedAt.Equal(due) ||
				!strings.Contains(a.LastError, "invalid") || !strings.Contains(a.LastError, "subcode 458") ||
				!strings.Contains(a.LastError, "authorize again") {
				t.Fatalf("after the check: status %s, checked at %v, last_error %q", a.Status, a.LastCheckedAt, a.LastError)
			}
			if _, err := e.read("token/shop"); err == nil || !strings.Contains(err.Error(), "needs re-authorization") {
				t.Errorf("token/shop of the uninstalled account: %v, want a refusal", err)
			} else if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != http.StatusConflict {
				t.Errorf("token/shop of the uninstalled account: %v, want a 409", err)
			}
			if st := e.mustOK(e.read("status")).Data; st["accounts_needs_reauth"] != 1 {
				t.Errorf("status accounts_needs_reauth = %v", st["accounts_needs_reauth"])
			}
			if got := e.scrapeMetrics(nil).value(t, "vault_instagram_accounts", "status", "needs_reauth"); got != 1 {
				t.Errorf("vault_instagram_accounts{status=needs_reauth} = %v", got)
			}
			// Parked: no more checks of a token known dead.
			e.clock.Advance(3 * time.Hour)
			e.tick()
			if n := e.meta.Calls(graphtest.EndpointDebugToken) - checks; n != 1 {
				t.Errorf("%d debug_token calls after needs_reauth, want none past the first", n-1)
			}

			// The business authorizes again: a working token, served.
			authorize(true)
			a = e.account("shop")
			if a.Status != statusValid {
				t.Fatalf("after a new authorization: %s %q", a.Status, a.LastError)
			}
			if info, _ := e.meta.TokenInfo(a.AccessToken); info.Revoked || info.Kind != graphtest.KindSystemUser {
				t.Fatalf("after a new authorization the account holds %+v", info)
			}
			if tok := e.mustOK(e.read("token/shop")).Data; tok["access_token"] != a.AccessToken {
				t.Fatal("token/shop does not serve the new token")
			}
		})
	}
}
