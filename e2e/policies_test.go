//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// The example policies in docs/policies, loaded as operators would load
// them (`vault policy write NAME FILE`), each proven on a real server: what
// it allows works, and everything else is a 403.

// policyFile reads docs/policies/NAME.hcl.
func policyFile(t *testing.T, name string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "policies", name+".hcl"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// clientWithPolicyFile writes docs/policies/NAME.hcl as the policy NAME and
// returns a client holding a token with that policy, and the "default"
// policy only when withDefault (Vault Agent needs it to look itself up).
func (e *env) clientWithPolicyFile(name string, withDefault bool) *api.Client {
	e.t.Helper()
	if err := e.root.Sys().PutPolicy(name, policyFile(e.t, name)); err != nil {
		e.fatalf("vault policy write %s docs/policies/%s.hcl: %v", name, name, err)
	}
	created, err := e.root.Auth().Token().Create(&api.TokenCreateRequest{
		Policies:        []string{name},
		NoDefaultPolicy: !withDefault,
		TTL:             "15m",
	})
	if err != nil {
		e.fatalf("create a token with policy %s: %v", name, err)
	}
	return e.client(created.Auth.ClientToken)
}

// registerNotDue registers name from a long-lived token issued ten days
// ago with its expiry given: old enough for Instagram to refresh it, and
// not due for refresh (50 days left, 30-day window) so nothing changes it
// behind the test's back.
func (e *env) registerNotDue(name string) string {
	e.t.Helper()
	u := e.addUser(name + "_owner")
	issued := time.Now().Add(-10 * 24 * time.Hour).Truncate(time.Second)
	token := e.mintLongLived(u, issued, basicScopes...)
	if _, err := e.root.Logical().Write(mountPath+"/accounts/"+name, map[string]any{
		"access_token": token,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register %s: %v", name, err)
	}
	return token
}

func TestExamplePolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	demoToken := e.registerNotDue("demo")
	e.registerNotDue("other")
	newcomer := e.addUser("newcomer_owner")
	newcomerToken := e.mintLongLived(newcomer, time.Now().Add(-48*time.Hour), basicScopes...)

	// Every request a holder of some policy might try, in an order where
	// the ones that change things come last (the operator's and the
	// admin's runs, last, perform them).
	type request struct {
		name string
		do   func(c *api.Client) (*api.Secret, error)
	}
	read := func(path string) func(c *api.Client) (*api.Secret, error) {
		return func(c *api.Client) (*api.Secret, error) { return c.Logical().Read(mountPath + "/" + path) }
	}
	write := func(path string, data map[string]any) func(c *api.Client) (*api.Secret, error) {
		return func(c *api.Client) (*api.Secret, error) { return c.Logical().Write(mountPath+"/"+path, data) }
	}
	requests := []request{
		{"read token/demo", read("token/demo")},
		{"read token/other", read("token/other")},
		{"list accounts/", func(c *api.Client) (*api.Secret, error) { return c.Logical().List(mountPath + "/accounts/") }},
		{"read accounts/demo", read("accounts/demo")},
		{"read status", read("status")},
		// What Prometheus scrapes: a raw text answer, not Vault's JSON.
		{"read metrics", func(c *api.Client) (*api.Secret, error) { return nil, scrapeMetrics(c) }},
		// The per-account series used to be this parameter of metrics:
		// the engine refuses it to anyone the policy lets read metrics.
		{"read metrics accounts=true", func(c *api.Client) (*api.Secret, error) {
			return c.Logical().ReadWithData(mountPath+"/metrics", map[string][]string{"accounts": {"true"}})
		}},
		// They are on a path of their own, granted deliberately.
		{"read metrics/accounts", func(c *api.Client) (*api.Secret, error) { return nil, scrapeAccountMetrics(c, "demo") }},
		{"read config", read("config")},
		// An app access token is the app's credential: none of the three
		// policies hands it out.
		{"read app-token", read("app-token")},
		{"write auth-url", write("auth-url", map[string]any{"account": "invitee"})},
		// Re-authorizing a registered name repoints it: operators only.
		{"write auth-url replace", write("auth-url", map[string]any{"account": "demo", "replace": true})},
		// A link that may hand an account to another user: operators only.
		{"write auth-url allow_user_change", write("auth-url", map[string]any{"account": "demo", "replace": true, "allow_user_change": true})},
		// What a link grants and where it returns: operators only. The
		// redirect_uri given is config's own, so only the policy can
		// refuse it; config_id is refused by the engine under
		// login=instagram (a 400), by the onboarding policy before that.
		{"write auth-url scopes", write("auth-url", map[string]any{"account": "invitee", "scopes": "instagram_business_basic"})},
		{"write auth-url config_id", write("auth-url", map[string]any{"account": "invitee", "config_id": "871000000000001"})},
		{"write auth-url redirect_uri", write("auth-url", map[string]any{"account": "invitee", "redirect_uri": e.redirectURI})},
		{"write accounts/demo/refresh", write("accounts/demo/refresh", nil)},
		{"write config", write("config", map[string]any{"max_token_ttl": 600})},
		// Base URLs decide where every token goes: the admin's alone, and
		// even the admin gets a 400 for plain http to a host that is not
		// loopback, and a warning for a host that is not Meta's.
		{"write config http base url", write("config", map[string]any{"graph_base_url": "http://meta-mirror.example"})},
		{"write config mirror base url", write("config", map[string]any{"graph_base_url": "https://meta-mirror.example"})},
		{"write accounts/newcomer", write("accounts/newcomer", map[string]any{"access_token": newcomerToken})},
		{"delete accounts/other", func(c *api.Client) (*api.Secret, error) {
			return c.Logical().Delete(mountPath + "/accounts/other")
		}},
		{"delete config", func(c *api.Client) (*api.Secret, error) { return c.Logical().Delete(mountPath + "/config") }},
	}

	for _, pc := range []struct {
		policy  string
		allowed []string
	}{
		{"instagram-app", []string{"read token/demo"}},
		{"instagram-onboarding", []string{"write auth-url"}},
		{"instagram-metrics", []string{"read metrics", "read metrics accounts=true"}},
		{"instagram-metrics-accounts", []string{"read metrics/accounts"}},
		// Its allowed requests change the accounts; it reads config but
		// cannot change it.
		{"instagram-operator", []string{
			"list accounts/", "read accounts/demo", "read status", "read metrics", "read metrics accounts=true", "read metrics/accounts", "read config", "write auth-url", "write auth-url replace", "write auth-url allow_user_change",
			"write auth-url scopes", "write auth-url config_id", "write auth-url redirect_uri",
			"write accounts/demo/refresh", "write accounts/newcomer", "delete accounts/other",
		}},
		// Last: its allowed requests change the config, and it deletes it.
		{"instagram-admin", []string{
			"read config", "write config", "write config http base url", "write config mirror base url", "delete config",
		}},
	} {
		tokenBefore, accountsBefore := e.readToken(e.root, "demo").accessToken, e.listAccounts()
		c := e.clientWithPolicyFile(pc.policy, false)
		for _, r := range requests {
			s, err := r.do(c)
			if s != nil && s.Data != nil {
				if st, ok := s.Data["state"].(string); ok {
					e.secrets.Add("state from auth-url", st)
				}
			}
			if !slices.Contains(pc.allowed, r.name) {
				if vaultproc.StatusOf(err) != http.StatusForbidden {
					t.Errorf("%s: %s: err = %v, want 403", pc.policy, r.name, err)
				}
				continue
			}
			if field, ok := map[string]string{"write config http base url": "graph_base_url", "write auth-url config_id": "config_id", "read metrics accounts=true": "metrics/accounts"}[r.name]; ok {
				// Allowed by the policy, refused by the engine.
				if vaultproc.StatusOf(err) != http.StatusBadRequest || !strings.Contains(fmt.Sprint(err), field) {
					t.Errorf("%s: %s: err = %v, want a 400 naming %s", pc.policy, r.name, err, field)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: %v, want it allowed", pc.policy, r.name, err)
				continue
			}
			switch r.name {
			case "read token/demo":
				if s == nil || s.Data["access_token"] != demoToken {
					t.Errorf("%s: token/demo did not answer the registered token", pc.policy)
				}
			case "list accounts/":
				if s == nil || !slices.Equal(sortedStrings(s.Data["keys"]), []string{"demo", "other"}) {
					t.Errorf("%s: list accounts/ = %v, want [demo other]", pc.policy, s)
				}
			case "read config":
				if s == nil || s.Data["app_id"] == nil || s.Data["app_secret"] != nil {
					t.Errorf("%s: read config = %v, want the config without the secret", pc.policy, s)
				}
			case "write config":
				if got, err := e.root.Logical().Read(mountPath + "/config"); err != nil || got == nil || fmt.Sprint(got.Data["max_token_ttl"]) != "600" {
					t.Errorf("%s: config after writing max_token_ttl=600: %v, %v", pc.policy, got, err)
				}
			case "write config mirror base url":
				if s == nil || len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "graph_base_url") {
					t.Errorf("%s: %s answered %v, want one warning naming graph_base_url", pc.policy, r.name, s)
				}
				// Vault's log has the plugin's info line: the field and the
				// host. The plugin's log reaches Vault's asynchronously.
				e.waitFor("the base URL's info line in Vault's log", func() bool {
					log, err := os.ReadFile(e.logPath)
					if err != nil {
						e.fatalf("read Vault log: %v", err)
					}
					for _, l := range strings.Split(string(log), "\n") {
						if strings.Contains(l, "[INFO]") && strings.Contains(l, "field=graph_base_url") && strings.Contains(l, "host=meta-mirror.example") {
							return true
						}
					}
					return false
				})
			case "write auth-url", "write auth-url replace", "write auth-url allow_user_change", "write auth-url scopes", "write auth-url redirect_uri":
				if s == nil || !strings.Contains(fmt.Sprint(s.Data["url"]), "state=") {
					t.Errorf("%s: auth-url answered no URL: %v", pc.policy, s)
				}
			}
		}

		// The denied writes changed no account and no token (only the
		// operator's allowed requests do).
		if pc.policy != "instagram-operator" {
			if got := e.readToken(e.root, "demo"); got.accessToken != tokenBefore {
				t.Errorf("token/demo changed after %s's denied requests", pc.policy)
			}
			if got := e.listAccounts(); !slices.Equal(got, accountsBefore) {
				t.Errorf("accounts/ after %s's denied requests = %v, want %v", pc.policy, got, accountsBefore)
			}
		}
		// No policy but the admin's changes the config: the operator's
		// writes and delete were 403s.
		if pc.policy == "instagram-operator" {
			if got, err := e.root.Logical().Read(mountPath + "/config"); err != nil || got == nil || fmt.Sprint(got.Data["max_token_ttl"]) == "600" {
				t.Errorf("config after the operator's denied writes: %v, %v; want it there, unchanged", got, err)
			}
		}
	}

	// The operator's requests did what they say.
	if got := e.listAccounts(); !slices.Equal(got, []string{"demo", "newcomer"}) {
		t.Errorf("accounts/ after the operator's requests = %v, want [demo newcomer]", got)
	}
	if got := e.readToken(e.root, "demo"); got.accessToken == demoToken {
		t.Error("the operator's refresh of demo did not change its token")
	}
	if s, err := e.root.Logical().Read(mountPath + "/config"); err != nil || s != nil {
		t.Errorf("config after the admin deleted it: %v, %v; want none", s, err)
	}
}

// scrapeMetrics reads instagram/metrics as Prometheus does and checks it is
// the text format with the engine's metrics; a refusal is Vault's error.
func scrapeMetrics(c *api.Client) error {
	resp, err := c.Logical().ReadRawWithContext(context.Background(), mountPath+"/metrics")
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") || !strings.Contains(string(body), "vault_instagram_accounts{") {
		return fmt.Errorf("metrics answered %s: %.200s", ct, body)
	}
	return nil
}

// scrapeAccountMetrics reads instagram/metrics/accounts as Prometheus does
// and checks it is the text format with the series of account (which the
// metrics path never names); a refusal is Vault's error.
func scrapeAccountMetrics(c *api.Client, account string) error {
	resp, err := c.Logical().ReadRawWithContext(context.Background(), mountPath+"/metrics/accounts")
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") || !strings.Contains(string(body), `vault_instagram_account_status{account="`+account+`"`) {
		return fmt.Errorf("metrics/accounts answered %s: %.200s", ct, body)
	}
	return nil
}
