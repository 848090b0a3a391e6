package instagram

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// newThreadsEnv is a mount with config login=threads, every base URL (the
// Instagram and Facebook ones included) at the fake, so that a call to the
// wrong product's host is counted there.
func newThreadsEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	e.configure(map[string]any{"login": "threads"})
	return e
}

// nonThreadsCalls counts the fake's calls to any host but Threads'.
func (e *testEnv) nonThreadsCalls() map[string]int {
	out := map[string]int{}
	for ep, n := range e.meta.AllCalls() {
		if n > 0 && !strings.HasPrefix(ep, "threads_") && ep != graphtest.EndpointThreadsExchangeToken {
			out[ep] = n
		}
	}
	return out
}

// registerThreadsLongLived registers a Threads long-lived token issued at
// issuedAt, with its expiry.
func (e *testEnv) registerThreadsLongLived(name, username string, issuedAt time.Time) graphtest.User {
	e.t.Helper()
	u := e.meta.AddUser(username)
	tok := e.secret(e.meta.MintThreadsLongLivedToken(u.UserID, nil, issuedAt))
	e.mustOK(e.write("accounts/"+name, map[string]any{
		"access_token": tok,
		"expires_at":   issuedAt.Add(longLivedLifetime).Format(time.RFC3339),
	}))
	return u
}

// registerThreadsFromCode registers name from a Threads code the fake
// minted for a new user (threads_basic).
func (e *testEnv) registerThreadsFromCode(name, username string) graphtest.User {
	e.t.Helper()
	u := e.meta.AddUser(username)
	code := e.secret(e.meta.MintThreadsCode(u.UserID, nil, testRedirectURI))
	e.mustOK(e.write("accounts/"+name, map[string]any{"code": code + "#_"}))
	e.secret(e.meta.CurrentToken(u.UserID))
	return u
}

// TestThreadsAuthURLIsTheThreadsDialog: under login=threads auth-url is
// the Threads dialog (threads_auth_base_url/oauth/authorize) with the
// Threads app, config's scopes (threads_basic by default), the redirect URI
// and the state; Instagram's dialog options are ignored with a warning.
func TestThreadsAuthURLIsTheThreadsDialog(t *testing.T) {
	e := newThreadsEnv(t)
	login, state := e.authURL(map[string]any{"account": "brand"})
	q := login.Query()
	base := strings.TrimSuffix(login.String(), "?"+login.RawQuery)
	if base != e.meta.Endpoints().ThreadsAuthBaseURL+"/oauth/authorize" {
		t.Errorf("dialog at %s, want the Threads dialog", base)
	}
	for k, want := range map[string]string{"client_id": testAppID, "redirect_uri": testRedirectURI, "scope": "threads_basic", "response_type": "code", "state": state} {
		if q.Get(k) != want {
			t.Errorf("dialog %s = %q, want %q", k, q.Get(k), want)
		}
	}
	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "other", "force_reauth": true, "enable_fb_login": false}))
	e.secret(resp.Data["state"].(string))
	if w := strings.Join(resp.Warnings, "\n"); !strings.Contains(w, "force_reauth") || !strings.Contains(w, "enable_fb_login") {
		t.Errorf("warnings %q; want force_reauth and enable_fb_login named as ignored", resp.Warnings)
	}
	if u, _ := url.Parse(resp.Data["url"].(string)); u.Query().Has("force_reauth") || u.Query().Has("enable_fb_login") {
		t.Errorf("the Threads dialog carries Instagram's options: %s", u.RawQuery)
	}
}

// TestThreadsConsentExchangesAtGraphThreadsNet: the owner consents on the
// (fake) Threads dialog; the callback exchanges the code at
// graph.threads.net, then th_exchange_token, reads /v1.0/me, and stores a
// Threads account serving the 60-day token, the callback page naming the
// Threads user. Nothing reaches Instagram's or Facebook's hosts.
func TestThreadsConsentExchangesAtGraphThreadsNet(t *testing.T) {
	e := newThreadsEnv(t)
	e.meta.AddUser("poster")
	login, _ := e.authURL(map[string]any{"account": "brand", "scopes": "threads_basic,threads_content_publish"})
	q := login.Query()
	q.Set("fake_user", "poster")
	loc := e.redirectFrom(e.meta.Endpoints().ThreadsAuthBaseURL + "/oauth/authorize?" + q.Encode())
	if loc.Fragment != "_" {
		t.Errorf("the Threads redirect's fragment is %q, want Meta's _", loc.Fragment)
	}
	back := loc.Query()
	e.secret(back.Get("code"))

	p := e.callback(logical.ReadOperation, back)
	p.expect(t, http.StatusOK, "Threads account connected", "@poster", "brand")

	u, _ := e.meta.User("poster")
	tok := e.secret(e.meta.CurrentToken(u.UserID))
	if info, ok := e.meta.TokenInfo(tok); !ok || info.Kind != graphtest.KindThreadsLongLived {
		t.Fatalf("the newest token is %+v, want a long-lived Threads token", info)
	}
	a := e.account("brand")
	now := e.clock.Now()
	if a.Login != loginThreads || a.AccessToken != tok || a.UserID != u.ThreadsUserID || a.Username != "poster" ||
		a.Status != statusValid || !a.ExpiresAt.Equal(now.Add(longLivedLifetime)) || !a.IssuedAt.Equal(now) {
		t.Fatalf("account: login %q, token kept %v, user_id %q (want %s), username %q, status %q, issued %v, expires %v",
			a.Login, a.AccessToken == tok, a.UserID, u.ThreadsUserID, a.Username, a.Status, a.IssuedAt, a.ExpiresAt)
	}
	for ep, want := range map[string]int{graphtest.EndpointThreadsExchangeCode: 1, graphtest.EndpointThreadsExchangeToken: 1, graphtest.EndpointThreadsMe: 1} {
		if got := e.meta.Calls(ep); got != want {
			t.Errorf("%s called %d times, want %d", ep, got, want)
		}
	}
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Errorf("calls to other products' hosts: %v", other)
	}
}

// TestThreadsAccountsTakeACodeOrAToken: accounts/<name> takes a Threads
// code (with Meta's "#_"), a short-lived token (exchanged with
// th_exchange_token), or a long-lived one (with expires_at, or without:
// kept as it is); token/<name> serves the Threads token with the Threads
// user's id and no Instagram account.
func TestThreadsAccountsTakeACodeOrAToken(t *testing.T) {
	e := newThreadsEnv(t)
	now := e.clock.Now()
	fromCode := e.registerThreadsFromCode("coded", "coded_user")

	short := e.meta.AddUser("short_user")
	e.mustOK(e.write("accounts/short", map[string]any{"access_token": e.secret(e.meta.MintThreadsShortLivedToken(short.UserID, nil))}))
	e.secret(e.meta.CurrentToken(short.UserID))

	long := e.meta.AddUser("long_user")
	issued := now.Add(-10 * 24 * time.Hour)
	longTok := e.secret(e.meta.MintThreadsLongLivedToken(long.UserID, nil, issued))
	e.mustOK(e.write("accounts/long", map[string]any{"access_token": longTok}))

	for name, u := range map[string]graphtest.User{"coded": fromCode, "short": short, "long": long} {
		a := e.account(name)
		info, _ := e.meta.TokenInfo(a.AccessToken)
		if a.Login != loginThreads || info.Kind != graphtest.KindThreadsLongLived || a.UserID != u.ThreadsUserID || a.Status != statusValid {
			t.Errorf("%s: login %q, token kind %q, user_id %q (want %s), status %q", name, a.Login, info.Kind, a.UserID, u.ThreadsUserID, a.Status)
		}
		resp := e.mustOK(e.read("token/" + name))
		if resp.Data["access_token"] != a.AccessToken || resp.Data["user_id"] != u.ThreadsUserID || resp.Data["username"] != u.Username || resp.Data["instagram_user_id"] != "" {
			t.Errorf("token/%s: user_id %v, username %v, instagram_user_id %v", name, resp.Data["user_id"], resp.Data["username"], resp.Data["instagram_user_id"])
		}
		if got := resp.Data["rotation_period"]; got != int64((longLivedLifetime-defaultRefreshWindow)/time.Second) {
			t.Errorf("token/%s rotation_period %v: a Threads token is rotated as an Instagram one", name, got)
		}
	}
	if a := e.account("long"); a.AccessToken != longTok || !a.ExpiresAt.IsZero() {
		t.Errorf("a long-lived token without expires_at: kept %v, expires_at %v (unknown until its first refresh)", a.AccessToken == longTok, a.ExpiresAt)
	}
	if e.meta.Calls(graphtest.EndpointThreadsExchangeToken) != 3 { // the code's, the short token's, and the long one's try
		t.Errorf("th_exchange_token called %d times, want 3", e.meta.Calls(graphtest.EndpointThreadsExchangeToken))
	}
	resp, err := e.write("accounts/paged", map[string]any{"access_token": e.secret(e.meta.MintThreadsShortLivedToken(short.UserID, nil)), "page_id": "123"})
	e.mustFail(resp, err, "page_id")
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Errorf("calls to other products' hosts: %v", other)
	}
}

// TestThreadsRefreshUsesThRefreshTokenAtGraphThreadsNet: a 2-day-old
// Threads token is refreshed on request with th_refresh_token at
// graph.threads.net (never Instagram's refresh), for 60 days from now; a
// token younger than 24 hours is refused as Threads would refuse it,
// without a call; one inside the refresh window is refreshed by the
// periodic work, as an Instagram Login token is.
func TestThreadsRefreshUsesThRefreshTokenAtGraphThreadsNet(t *testing.T) {
	e := newThreadsEnv(t)
	now := e.clock.Now()
	e.registerThreadsLongLived("twoday", "twoday_user", now.Add(-48*time.Hour))
	old := e.account("twoday").AccessToken

	resp := e.mustOK(e.write("accounts/twoday/refresh", nil))
	a := e.account("twoday")
	e.secret(a.AccessToken)
	if a.AccessToken == old || a.Status != statusValid || !a.ExpiresAt.Equal(now.Add(longLivedLifetime)) || resp.Data["status"] != statusValid {
		t.Fatalf("after the refresh: new token %v, status %q, expires_at %v (want %v)", a.AccessToken != old, a.Status, a.ExpiresAt, now.Add(longLivedLifetime))
	}
	if e.meta.Calls(graphtest.EndpointThreadsRefresh) != 1 || e.meta.Calls(graphtest.EndpointRefresh) != 0 {
		t.Fatalf("refresh calls: Threads %d, Instagram %d; want 1 and 0", e.meta.Calls(graphtest.EndpointThreadsRefresh), e.meta.Calls(graphtest.EndpointRefresh))
	}

	e.registerThreadsLongLived("young", "young_user", now.Add(-time.Hour))
	resp, err := e.write("accounts/young/refresh", nil)
	e.mustFail(resp, err, "Threads refreshes tokens only once they are 24 hours old")
	if e.meta.Calls(graphtest.EndpointThreadsRefresh) != 1 {
		t.Fatal("a refresh Threads would refuse was sent")
	}

	e.registerThreadsLongLived("due", "due_user", now.Add(-40*24*time.Hour))
	dueOld := e.account("due").AccessToken
	e.tick()
	if a := e.account("due"); a.AccessToken == dueOld || a.Status != statusValid || a.LastRefreshedAt.IsZero() {
		t.Fatalf("the periodic work did not refresh the due Threads token: status %q, last_refreshed_at %v", a.Status, a.LastRefreshedAt)
	}
	e.secret(e.account("due").AccessToken)
	if e.meta.Calls(graphtest.EndpointThreadsRefresh) != 2 {
		t.Fatalf("%d Threads refreshes, want 2", e.meta.Calls(graphtest.EndpointThreadsRefresh))
	}
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Errorf("calls to other products' hosts: %v", other)
	}
}

// TestThreadsTokenCheckedDailyWithThreadsMe: between refreshes a Threads
// token is checked once a day with graph.threads.net/v1.0/me, as an
// Instagram Login token is with Instagram's /me.
func TestThreadsTokenCheckedDailyWithThreadsMe(t *testing.T) {
	e := newThreadsEnv(t)
	e.registerThreadsFromCode("brand", "brand_user")
	me := e.meta.Calls(graphtest.EndpointThreadsMe)
	for day := 1; day <= 2; day++ {
		e.untilCheck("brand")
		e.tick()
		if got := e.meta.Calls(graphtest.EndpointThreadsMe) - me; got != day {
			t.Fatalf("day %d: %d checks", day, got)
		}
	}
	if a := e.account("brand"); a.Status != statusValid || a.LastCheckedAt.IsZero() {
		t.Fatalf("after the checks: status %q, last_checked_at %v", a.Status, a.LastCheckedAt)
	}
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Errorf("calls to other products' hosts: %v", other)
	}
}

// TestThreadsDeadTokensLandInNeedsReauth: a Threads token Meta refuses
// (190, revoked) at the daily check, a refresh or the proxy marks the
// account needs_reauth as everywhere else, with session_ended.go's wording
// for a session Meta ended (190/460); an expired one is needs_reauth
// without a call; token/<name> then answers 409.
func TestThreadsDeadTokensLandInNeedsReauth(t *testing.T) {
	rows := []struct {
		name  string
		setup func(e *testEnv)
		// lastError is what last_error must hold.
		lastError string
	}{
		{"revoked, daily check", func(e *testEnv) {
			e.registerThreadsFromCode("acct", "acct_user")
			e.meta.Revoke(e.account("acct").AccessToken)
			e.untilCheck("acct")
			e.tick()
		}, "health check (me) failed"},
		{"revoked, manual refresh", func(e *testEnv) {
			e.registerThreadsLongLived("acct", "acct_user", e.clock.Now().Add(-48*time.Hour))
			e.meta.Revoke(e.account("acct").AccessToken)
			resp, err := e.write("accounts/acct/refresh", nil)
			if got := httpStatus(resp, err); got != http.StatusBadRequest {
				e.t.Fatalf("manual refresh of a revoked token: %d, want 400", got)
			}
		}, "code 190"},
		{"session ended, periodic refresh", func(e *testEnv) {
			u := e.registerThreadsLongLived("acct", "acct_user", e.clock.Now().Add(-40*24*time.Hour))
			e.meta.RevokeUser(u.UserID)
			e.tick()
		}, "refresh: " + sessionEndedReason},
		{"session ended, daily check", func(e *testEnv) {
			u := e.registerThreadsFromCode("acct", "acct_user")
			e.meta.RevokeUser(u.UserID)
			e.untilCheck("acct")
			e.tick()
		}, "health check (me): " + sessionEndedReason},
		{"session ended, proxy", func(e *testEnv) {
			u := e.registerThreadsFromCode("acct", "acct_user")
			e.meta.RevokeUser(u.UserID)
			if ans := e.proxyRefusal(e.read("proxy/acct/me")); ans.status != http.StatusBadRequest {
				e.t.Fatalf("proxy answered %d, want Meta's 400", ans.status)
			}
		}, sessionEndedReason},
		{"expired", func(e *testEnv) {
			e.registerThreadsLongLived("acct", "acct_user", e.clock.Now().Add(-50*24*time.Hour))
			e.clock.Advance(11 * 24 * time.Hour)
			e.tick()
		}, "expired"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := newThreadsEnv(t)
			r.setup(e)
			a := e.account("acct")
			if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, r.lastError) {
				t.Fatalf("status %q, last_error %q; want needs_reauth saying %q", a.Status, a.LastError, r.lastError)
			}
			resp, err := e.read("token/acct")
			if got := httpStatus(resp, err); got != http.StatusConflict {
				t.Fatalf("token/acct: %d, want 409", got)
			}
			status := e.mustOK(e.read("status"))
			if status.Data["accounts_needs_reauth"] != 1 {
				t.Fatalf("status accounts_needs_reauth = %v", status.Data["accounts_needs_reauth"])
			}
			if keys, _ := e.listPage(map[string]any{"status": statusNeedsReauth}).Data["keys"].([]string); len(keys) != 1 || keys[0] != "acct" {
				t.Fatalf("LIST accounts/ status=needs_reauth = %v", keys)
			}
			if other := e.nonThreadsCalls(); len(other) != 0 {
				t.Errorf("calls to other products' hosts: %v", other)
			}
		})
	}
}

// TestThreadsProxyCallsGraphThreadsNetV1: proxy/<name>/<path> sends a
// Threads account's calls to threads_graph_base_url under Threads' own
// version (v1.0), not graph_api_version, with the account's token: the
// Threads /me answers the account's id and username.
func TestThreadsProxyCallsGraphThreadsNetV1(t *testing.T) {
	e := newThreadsEnv(t)
	u := e.registerThreadsFromCode("brand", "brand_user")
	me := e.meta.Calls(graphtest.EndpointThreadsMe)
	resp := e.mustOK(e.do(logical.ReadOperation, "proxy/brand/me", map[string]any{"fields": "id,username"}))
	if resp.Data["id"] != u.ThreadsUserID || resp.Data["username"] != "brand_user" {
		t.Fatalf("proxy/brand/me = %v; want the Threads id %s and username", resp.Data, u.ThreadsUserID)
	}
	e.assertNoSecretIn(resp)
	if e.meta.Calls(graphtest.EndpointThreadsMe) != me+1 {
		t.Fatal("the proxied call did not reach graph.threads.net/me")
	}
	if other := e.nonThreadsCalls(); len(other) != 0 {
		t.Errorf("calls to other products' hosts: %v", other)
	}
	if got := threads.graphVersion(nil); got != graph.ThreadsVersion {
		t.Errorf("Threads graph version %s", got)
	}
}

// TestThreadsConfig: login=threads brings threads_basic as the default
// scopes (and back: switching login switches the defaults), its two base
// URL fields read back, fall under the base URL rule (Meta's Threads hosts,
// .com included, are no foreign host) and under the pin.
func TestThreadsConfig(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.mustOK(e.write("config", map[string]any{"login": "threads"}))
	cfg := e.mustOK(e.read("config")).Data
	if got := cfg["scopes"].([]string); len(got) != 1 || got[0] != "threads_basic" {
		t.Fatalf("scopes under login=threads = %v", got)
	}
	if ep := e.meta.Endpoints(); cfg["threads_auth_base_url"] != ep.ThreadsAuthBaseURL || cfg["threads_graph_base_url"] != ep.ThreadsGraphBaseURL {
		t.Fatalf("threads base URLs %v, %v; want the fake's, as written", cfg["threads_auth_base_url"], cfg["threads_graph_base_url"])
	}
	e.mustOK(e.write("config", map[string]any{"login": "instagram"}))
	if got := e.mustOK(e.read("config")).Data["scopes"].([]string); len(got) != 1 || got[0] != "instagram_business_basic" {
		t.Fatalf("scopes back under login=instagram = %v", got)
	}

	for _, field := range []string{"threads_auth_base_url", "threads_graph_base_url"} {
		e.assertConfigRefused(t, map[string]any{field: "http://threads.example.com"}, field)
		resp := e.mustOK(e.write("config", map[string]any{field: "https://proxy.example.com/t"}))
		if resp == nil || !strings.Contains(strings.Join(resp.Warnings, "\n"), field+" points at proxy.example.com") {
			t.Errorf("%s at a foreign host: warnings %v", field, resp)
		}
		for _, host := range []string{"threads.net", "graph.threads.net", "threads.com", "graph.threads.com"} {
			if resp := e.mustOK(e.write("config", map[string]any{field: "https://" + host})); resp != nil && len(resp.Warnings) > 0 {
				t.Errorf("%s=https://%s warned: %v", field, host, resp.Warnings)
			}
		}
		e.mustOK(e.write("config", map[string]any{field: ""}))
		if got := e.mustOK(e.read("config")).Data[field]; got != defaultBaseURL(field) {
			t.Errorf("%s= gave %v, want Meta's default", field, got)
		}
	}

	e.b.pinBaseURLs = true
	defaults := map[string]any{}
	for _, f := range (&config{}).baseURLFields() {
		defaults[f.name] = defaultBaseURL(f.name)
	}
	for _, field := range []string{"threads_auth_base_url", "threads_graph_base_url"} {
		data := map[string]any{}
		for k, v := range defaults {
			data[k] = v
		}
		data[field] = "https://proxy.example.com/" + field
		resp, err := e.write("config", data)
		e.mustFail(resp, err, field+": is pinned")
	}
	e.mustOK(e.write("config", defaults)) // Meta's defaults pass the pin
}

// TestThreadsScopesAreKnownToTheScopeChecks: Meta's Threads dialog takes
// Threads permissions only, threads_basic among them, and no other dialog
// takes a Threads permission: config and auth-url refuse, naming scopes,
// what the dialog would refuse in front of the account owner, and a login
// switch that keeps another product's scopes.
func TestThreadsScopesAreKnownToTheScopeChecks(t *testing.T) {
	e := newThreadsEnv(t)
	e.mustOK(e.write("config", map[string]any{"scopes": "threads_basic,threads_content_publish,threads_manage_insights"}))
	for _, bad := range []string{"threads_content_publish", "threads_basic,instagram_business_basic"} {
		e.assertConfigRefused(t, map[string]any{"scopes": bad}, "scopes")
		resp, err := e.write("auth-url", map[string]any{"account": "brand", "scopes": bad})
		e.mustFail(resp, err, "scopes")
	}
	e.mustOK(e.write("config", map[string]any{"login": "instagram", "scopes": "instagram_business_basic,instagram_business_content_publish"}))
	e.assertConfigRefused(t, map[string]any{"scopes": "instagram_business_basic,threads_basic"}, "scopes")
	resp, err := e.write("auth-url", map[string]any{"account": "brand", "scopes": "threads_basic"})
	e.mustFail(resp, err, "goes with login=threads")
	// Custom Instagram scopes are not the defaults: switching to Threads
	// keeps them, which the Threads dialog would refuse.
	e.assertConfigRefused(t, map[string]any{"login": "threads"}, "scopes")
	e.mustOK(e.write("config", map[string]any{"login": "threads", "scopes": "threads_basic"}))
}

// TestThreadsAccountsTakeTheIndexsNextLoginCode: the schedule index stores
// a Threads account's login as the code after Facebook's (appended: the
// codes already stored keep their meaning; internal/schedule's
// TestShardLoginCodesOnlyGrow checks the byte), and reads it back.
func TestThreadsAccountsTakeTheIndexsNextLoginCode(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rec := schedule.Record{Name: "brand", Account: schedule.Account{Login: loginThreads, Status: statusValid, IssuedAt: now, ExpiresAt: now.Add(longLivedLifetime)}}
	enc := schedule.EncodeShard([]schedule.Record{rec})
	if strings.Contains(string(enc), loginThreads) {
		t.Fatal("the shard spells the Threads login out instead of coding it")
	}
	recs, err := schedule.DecodeShard(enc)
	if err != nil || len(recs) != 1 || recs[0].Account.Login != loginThreads {
		t.Fatalf("decoded %+v, %v", recs, err)
	}
}

// TestThreadsDeniedConsentPageNamesThreads: an owner who declines on the
// Threads dialog is told that Threads (not Instagram) reports it, and
// nothing is exchanged or stored.
func TestThreadsDeniedConsentPageNamesThreads(t *testing.T) {
	e := newThreadsEnv(t)
	e.meta.AddUser("poster")
	login, _ := e.authURL(map[string]any{"account": "brand"})
	q := login.Query()
	q.Set("fake_deny", "1")
	back := e.redirectFrom(e.meta.Endpoints().ThreadsAuthBaseURL + "/oauth/authorize?" + q.Encode()).Query()
	if back.Get("error") != "access_denied" {
		t.Fatalf("the fake's denial redirect carries %v", back)
	}
	p := e.callback(logical.ReadOperation, back)
	p.expect(t, http.StatusBadRequest, "Authorization declined", "Threads reports that the authorization for account brand was not granted")
	if strings.Contains(p.body, "Instagram") || e.account("brand") != nil || e.meta.Calls(graphtest.EndpointThreadsExchangeCode) != 0 {
		t.Error("the page names Instagram, or a declined authorization registered an account")
	}
}

// TestThreadsUninstallCallbackMatchesTheThreadsUser: Threads' Uninstall
// Callback (the engine's deauthorize path), signed with the Threads app's
// secret and naming the Threads user id, marks that user's Threads account
// needs_reauth as for any login.
func TestThreadsUninstallCallbackMatchesTheThreadsUser(t *testing.T) {
	e := newThreadsEnv(t)
	u := e.registerThreadsFromCode("brand", "brand_user")
	e.registerThreadsFromCode("other", "other_user")
	a := e.postSignedRequest("deauthorize", map[string]any{"signed_request": e.signedRequestFor(u.ThreadsUserID)})
	if a.status != http.StatusOK {
		t.Fatalf("deauthorize answered %d: %s", a.status, a.body)
	}
	if got := e.account("brand"); got.Status != statusNeedsReauth {
		t.Fatalf("brand after the uninstall: %q", got.Status)
	}
	if got := e.account("other"); got.Status != statusValid {
		t.Fatalf("another user's account changed: %q", got.Status)
	}
}
