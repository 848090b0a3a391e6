//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// clockSkewVersion is what the uninstall test's build of the plugin
// reports. Only that test's Vault ever sees it.
const clockSkewVersion = "v0.0.0-clockskew"

// TestBusinessUninstallCaughtByHourlyCheck: a client business that
// uninstalls the app ends its system-user token, and Meta says so only to a
// webhook the engine cannot verify (TestWebhookRawBodyNeverReachesAnExternalPlugin).
// On a real Vault, the account's hourly debug_token check, run by Vault's
// periodic function once it falls due, marks the account needs_reauth:
// token/ refuses it, status counts it, last_error names Meta's 190/458.
//
// The check falls due an hour and the account's fixed offset (at most 30
// minutes) after the last one, and the test does not wait that long: it
// runs a build of the plugin with the clockskew tag (clockskew_on.go),
// registers the account with the plugin's clock on time, then reloads the
// plugin with its clock moved to a minute past the next_check_at the
// engine announced (and the fake's clock with it). Everything after that is
// production code on a real Vault: the schedule rebuilt from storage, the
// periodic function Vault calls about once a minute, the check, the
// verdict.
func TestBusinessUninstallCaughtByHourlyCheck(t *testing.T) {
	t.Parallel()
	p := buildClockSkewPlugin(t)
	e := newEnvWith(t, p)
	conf, _ := e.fake.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"login": "facebook", "facebook_config_id": conf.ID}); err != nil {
		e.fatalf("config login=facebook facebook_config_id: %v", err)
	}

	// The business authorizes: a system-user account.
	owner := e.addUser("shop_owner")
	sec, err := e.root.Logical().Write(mountPath+"/auth-url", map[string]any{"account": "shop"})
	if err != nil {
		e.fatalf("auth-url: %v", err)
	}
	e.secrets.Add("state for shop", sec.Data["state"].(string))
	login, err := url.Parse(sec.Data["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	back := e.followDialog(login, owner)
	anon := &http.Client{Timeout: 30 * time.Second}
	callback := e.addr + "/v1/" + mountPath + "/callback?" + url.Values{"code": {back.Get("code")}, "state": {back.Get("state")}}.Encode()
	if status, _, body := e.get(anon, callback); status != http.StatusOK {
		t.Fatalf("callback answered %d:\n%s", status, body)
	}
	tok := e.readToken(e.root, "shop")
	e.secrets.Add("token of shop", tok.accessToken)
	acct := e.readAccount(e.root, "shop")
	if acct["token_kind"] != "system_user" || acct["status"] != "valid" {
		t.Fatalf("accounts/shop = %v, want a valid system-user account", acct)
	}
	checked, next := optTime(t, acct["last_checked_at"]), optTime(t, acct["next_check_at"])
	if checked.IsZero() || next.Sub(checked) < time.Hour || next.Sub(checked) > 90*time.Minute {
		t.Fatalf("last_checked_at %v, next_check_at %v: want the next check an hour to 90 minutes after the last", checked, next)
	}

	// The business uninstalls the app: Meta ends the token at once.
	e.fake.UninstallBusiness(owner.Username)
	if info, _ := e.fake.TokenInfo(tok.accessToken); !info.Revoked {
		t.Fatal("the fake did not end the uninstalled business's token")
	}
	if acct := e.readAccount(e.root, "shop"); acct["status"] != "valid" {
		t.Fatalf("accounts/shop is %v before any check", acct["status"])
	}
	checks := e.fake.Calls(graphtest.EndpointDebugToken)

	// A minute past the announced check, for the plugin and for Meta.
	skew := time.Until(next).Truncate(time.Second) + time.Minute
	e.fake.Advance(skew)
	restartedAt := time.Now()
	e.setPluginEnv(p, fmt.Sprintf("INSTAGRAM_CLOCK_SKEW=%s", skew))

	var last map[string]any
	e.eventually("the periodic check to mark shop needs_reauth", periodicWait, func() bool {
		if status, _ := e.rawRead(e.root, mountPath+"/accounts/shop"); status != http.StatusOK {
			return false // the plugin restarting
		}
		last = e.readAccount(e.root, "shop")
		return last["status"] == "needs_reauth"
	}, func() string { return fmt.Sprintf("accounts/shop: %v", last) })
	t.Logf("the periodic check caught the uninstall %s after the plugin restarted with its clock %s ahead",
		time.Since(restartedAt).Round(time.Second), skew)

	acct = e.readAccount(e.root, "shop")
	lastError, _ := acct["last_error"].(string)
	if !strings.Contains(lastError, "subcode 458") || !strings.Contains(lastError, "authorize again") {
		t.Errorf("last_error %q: want Meta's 190/458 and what to do", lastError)
	}
	if at := optTime(t, acct["last_checked_at"]); at.Before(next) {
		t.Errorf("last_checked_at %v is before the announced next_check_at %v", at, next)
	}
	if n := e.fake.Calls(graphtest.EndpointDebugToken) - checks; n != 1 {
		t.Errorf("Meta saw %d debug_token calls since the uninstall, want the one check", n)
	}
	if status, body := e.rawRead(e.root, mountPath+"/token/shop"); status != http.StatusConflict || strings.Contains(body, tok.accessToken) {
		t.Errorf("token/shop after the uninstall: %d %s, want a 409 without the token", status, body)
	}
	if st := e.status(); toInt64(t, st["accounts_needs_reauth"]) != 1 {
		t.Errorf("status accounts_needs_reauth = %v", st["accounts_needs_reauth"])
	}
}

// buildClockSkewPlugin builds the plugin with the clockskew tag, as
// clockSkewVersion, into a plugin directory of its own.
func buildClockSkewPlugin(t *testing.T) vaultproc.Build {
	t.Helper()
	p, err := findPlugin()
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := vaultproc.BuildPlugin(root, p.VaultBin, filepath.Join(t.TempDir(), pluginName), clockSkewVersion, "clockskew")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built the plugin with a settable clock in %s", time.Since(start).Round(time.Millisecond))
	return b
}

// setPluginEnv registers p again with env as its environment and reloads
// it: the catalog gives a plugin process the environment registered with
// it, so the new process has env.
func (e *env) setPluginEnv(p vaultproc.Build, env ...string) {
	e.t.Helper()
	ctx := context.Background()
	if err := p.Register(ctx, e.root.Sys(), env...); err != nil {
		e.fatalf("%v (env %q)", err, strings.Join(env, " "))
	}
	if _, err := e.root.Sys().ReloadPluginWithContext(ctx, &api.ReloadPluginInput{Plugin: pluginName}); err != nil {
		e.fatalf("reload %s: %v", pluginName, err)
	}
}
