//go:build e2e

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/vaultproc"
)

// threadsMount is where the Threads tests mount a second engine, beside
// newEnv's Instagram one, as make dev does.
const threadsMount = "threads"

// mountThreads mounts and configures a Threads engine (login=threads) at
// threads/ against the fake, every host included, and returns its
// redirect URI.
func (e *env) mountThreads() string {
	e.t.Helper()
	p, err := findPlugin()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.RegisterAndMount(context.Background(), e.root.Sys(), threadsMount); err != nil {
		e.fatalf("%v", err)
	}
	ep := e.fake.Endpoints()
	redirect := e.addr + "/v1/" + threadsMount + "/callback"
	if _, err := e.root.Logical().Write(threadsMount+"/config", map[string]any{
		"login":                   "threads",
		"app_id":                  e.appID,
		"app_secret":              e.appSecret,
		"redirect_uri":            redirect,
		"auth_base_url":           ep.AuthBaseURL,
		"api_base_url":            ep.APIBaseURL,
		"graph_base_url":          ep.GraphBaseURL,
		"facebook_auth_base_url":  ep.FacebookAuthBaseURL,
		"facebook_graph_base_url": ep.FacebookGraphBaseURL,
		"threads_auth_base_url":   ep.ThreadsAuthBaseURL,
		"threads_graph_base_url":  ep.ThreadsGraphBaseURL,
	}); err != nil {
		e.fatalf("write threads/config: %v", err)
	}
	return redirect
}

// nonThreadsCalls are the fake's calls to any host but Threads'.
func (e *env) nonThreadsCalls() map[string]int {
	out := map[string]int{}
	for ep, n := range e.fake.AllCalls() {
		if n > 0 && !strings.HasPrefix(ep, "threads_") && ep != graphtest.EndpointThreadsExchangeToken {
			out[ep] = n
		}
	}
	return out
}

// TestThreadsOnRealVault: a Threads mount on a real Vault. The owner
// consents on the (fake) Threads dialog and the unauthenticated callback
// registers the account with the token exchanged at graph.threads.net and
// th_exchange_token; the proxy reads the username from Threads' /me; a
// 2-day-old token is refreshed with th_refresh_token at graph.threads.net;
// a token inside the refresh window is refreshed by Vault's periodic
// function; a failing refresh keeps the old token served; a revoked token
// lands in needs_reauth. Instagram's and Facebook's hosts see no call.
func TestThreadsOnRealVault(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	redirect := e.mountThreads()
	anon := &http.Client{Timeout: 30 * time.Second}

	// Registered first, so the periodic function has it while the rest runs.
	due := e.addUser("th_due")
	issued := time.Now().Add(-40 * 24 * time.Hour).Truncate(time.Second)
	dueOld := e.secrets.Add("Threads token for th_due", e.fake.MintThreadsLongLivedToken(due.UserID, nil, issued))
	e.registerThreads("due", dueOld, issued)

	// 1. Consent.
	owner := e.addUser("th_owner")
	sec, err := e.root.Logical().Write(threadsMount+"/auth-url", map[string]any{"account": "brand"})
	if err != nil {
		e.fatalf("auth-url: %v", err)
	}
	loginURL, _ := sec.Data["url"].(string)
	state := e.secrets.Add("state from auth-url", sec.Data["state"].(string))
	if !strings.HasPrefix(loginURL, e.fake.Endpoints().ThreadsAuthBaseURL+"/oauth/authorize?") {
		t.Fatalf("auth-url is not the Threads dialog: %s", strings.SplitN(loginURL, "?", 2)[0])
	}
	login, _ := url.Parse(loginURL)
	q := login.Query()
	q.Set("fake_user", owner.Username)
	noFollow := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(e.fake.Endpoints().ThreadsAuthBaseURL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Scheme+"://"+loc.Host+loc.Path != redirect {
		t.Fatalf("the Threads dialog answered %d to %v", resp.StatusCode, loc)
	}
	back := loc.Query()
	e.secrets.Add("Threads authorization code", back.Get("code"))
	if back.Get("state") != state {
		t.Fatal("the dialog's redirect does not carry the state")
	}
	status, ctype, body := e.get(anon, e.addr+"/v1/"+threadsMount+"/callback?"+back.Encode())
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "Threads account connected") || !strings.Contains(body, "@"+owner.Username) {
		t.Fatalf("callback answered %d %q:\n%s", status, ctype, body)
	}
	tok := e.readThreadsToken("brand")
	if tok.Data["access_token"] != e.currentToken(owner) || tok.Data["user_id"] != owner.ThreadsUserID || tok.Data["instagram_user_id"] != "" {
		t.Fatalf("token/brand: user_id %v, instagram_user_id %v, or not the token the fake issued", tok.Data["user_id"], tok.Data["instagram_user_id"])
	}
	if info, ok := e.fake.TokenInfo(e.currentToken(owner)); !ok || info.Kind != graphtest.KindThreadsLongLived {
		t.Fatalf("the served token is %+v, want a long-lived Threads token", info)
	}
	for ep, want := range map[string]int{graphtest.EndpointThreadsExchangeCode: 1, graphtest.EndpointThreadsExchangeToken: 1} {
		if got := e.fake.Calls(ep); got != want {
			t.Errorf("%s called %d times, want %d", ep, got, want)
		}
	}

	// 2. The username from Threads' /me, through the proxy.
	me, err := e.root.Logical().ReadWithData(threadsMount+"/proxy/brand/me", map[string][]string{"fields": {"id,username"}})
	if err != nil || me == nil || me.Data["username"] != owner.Username || me.Data["id"] != owner.ThreadsUserID {
		e.fatalf("proxy/brand/me: %v %v", me, err)
	}

	// The shipped policy for one Threads application reads its account's
	// token (docs/policies/threads-app.hcl names "demo") and nothing else.
	e.registerThreads("demo", e.secrets.Add("Threads token for th_demo", e.fake.MintThreadsLongLivedToken(e.addUser("th_demo").UserID, nil, time.Now().Add(-time.Hour))), time.Now().Add(-time.Hour))
	app := e.clientWithPolicyFile("threads-app", false)
	if s, err := app.Logical().Read(threadsMount + "/token/demo"); err != nil || s == nil || s.Data["access_token"] == "" {
		t.Fatalf("threads-app cannot read threads/token/demo: %v", err)
	}
	for _, path := range []string{threadsMount + "/token/brand", threadsMount + "/accounts/demo", mountPath + "/token/demo"} {
		if _, err := app.Logical().Read(path); err == nil || !strings.Contains(vaultproc.ErrorText(err), "permission denied") {
			t.Errorf("threads-app read %s: %v, want permission denied", path, err)
		}
	}

	// 3. A 2-day-old token refreshed with th_refresh_token.
	two := e.addUser("th_twoday")
	twoIssued := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	twoOld := e.secrets.Add("Threads token for th_twoday", e.fake.MintThreadsLongLivedToken(two.UserID, nil, twoIssued))
	e.registerThreads("twoday", twoOld, twoIssued)
	refreshes := e.fake.Calls(graphtest.EndpointThreadsRefresh)
	if _, err := e.root.Logical().Write(threadsMount+"/accounts/twoday/refresh", nil); err != nil {
		e.fatalf("refresh twoday: %v", err)
	}
	if got := e.readThreadsToken("twoday").Data["access_token"]; got == twoOld || got != e.currentToken(two) {
		t.Fatal("token/twoday is not the refreshed token")
	}
	if e.fake.Calls(graphtest.EndpointThreadsRefresh) != refreshes+1 {
		t.Fatalf("th_refresh_token called %d times, want %d", e.fake.Calls(graphtest.EndpointThreadsRefresh), refreshes+1)
	}

	// 4. A failing refresh: recorded, the old token still served.
	flaky := e.addUser("th_flaky")
	flakyOld := e.secrets.Add("Threads token for th_flaky", e.fake.MintThreadsLongLivedToken(flaky.UserID, nil, twoIssued))
	e.registerThreads("flaky", flakyOld, twoIssued)
	e.fake.Fail(graphtest.EndpointThreadsRefresh, 1, graphtest.Failure{
		Status: 500,
		Body:   `{"error":{"message":"An unexpected error has occurred. Please retry your request later.","type":"OAuthException","code":2,"is_transient":true}}`,
	})
	if _, err := e.root.Logical().Write(threadsMount+"/accounts/flaky/refresh", nil); err == nil {
		t.Fatal("a refresh Threads failed answered success")
	}
	if acct := e.readThreadsAccount("flaky"); acct["status"] != "refresh_failing" || e.readThreadsToken("flaky").Data["access_token"] != flakyOld {
		t.Fatalf("after a failed refresh: status %v; the old token must stay served", acct["status"])
	}

	// 5. A revoked token: needs_reauth, token/ answers 409.
	e.fake.Revoke(e.currentToken(owner))
	if _, err := e.root.Logical().ReadWithData(threadsMount+"/proxy/brand/me", map[string][]string{"fields": {"id"}}); err == nil {
		t.Fatal("the proxy answered with a revoked token")
	}
	if acct := e.readThreadsAccount("brand"); acct["status"] != "needs_reauth" {
		t.Fatalf("accounts/brand after Meta refused its token: %v", acct["status"])
	}
	if _, err := e.root.Logical().Read(threadsMount + "/token/brand"); err == nil || !strings.Contains(vaultproc.ErrorText(err), "re-authorization") {
		t.Fatalf("token/brand of a revoked token: %v", err)
	}

	// 6. The periodic refresh of the due token, at graph.threads.net.
	e.waitFor("the periodic function to refresh threads/token/due", func() bool {
		return e.readThreadsToken("due").Data["access_token"] != dueOld
	})
	if acct := e.readThreadsAccount("due"); acct["status"] != "valid" {
		t.Fatalf("accounts/due after the periodic refresh: %v", acct)
	}
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Fatalf("calls to Instagram's or Facebook's hosts: %v", other)
	}
}

// registerThreads registers a long-lived Threads token issued at issued.
func (e *env) registerThreads(name, token string, issued time.Time) {
	e.t.Helper()
	if _, err := e.root.Logical().Write(threadsMount+"/accounts/"+name, map[string]any{
		"access_token": token,
		"expires_at":   issued.Add(longLivedTTL).UTC().Format(time.RFC3339),
	}); err != nil {
		e.fatalf("register threads/%s: %v", name, err)
	}
}

func (e *env) readThreadsToken(name string) *api.Secret {
	e.t.Helper()
	s, err := e.root.Logical().Read(threadsMount + "/token/" + name)
	if err != nil || s == nil {
		e.fatalf("read threads/token/%s: %v", name, err)
	}
	if tok, _ := s.Data["access_token"].(string); tok != "" {
		e.secrets.Add("threads/token/"+name, tok)
	}
	return s
}

func (e *env) readThreadsAccount(name string) map[string]any {
	e.t.Helper()
	s, err := e.root.Logical().Read(threadsMount + "/accounts/" + name)
	if err != nil || s == nil {
		e.fatalf("read threads/accounts/%s: %v", name, err)
	}
	return s.Data
}
