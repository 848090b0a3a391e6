//go:build e2e

package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestFacebookLoginForBusinessOnboards: a Business app with Facebook Login
// for Business configurations onboards accounts through auth-url and the
// unauthenticated callback on a real Vault, for each kind of token a
// configuration gives: a user token (config's facebook_config_id), and a
// Business Integration System User token that never expires or expires
// after 60 days (auth-url's config_id overriding config's). Each account
// says which kind it holds and serves the token Meta issued; the
// system-user account then serves its business's Page with page_id.
func TestFacebookLoginForBusinessOnboards(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	userConf, _ := e.fake.AddConfiguration(graphtest.Configuration{})
	foreverConf, _ := e.fake.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	sixtyDayConf, _ := e.fake.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken, Expiring: true})
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"login": "facebook", "facebook_config_id": userConf.ID}); err != nil {
		e.fatalf("config login=facebook facebook_config_id: %v", err)
	}
	anon := &http.Client{Timeout: 30 * time.Second}

	cases := []struct {
		account, owner, configID string // configID "" : config's
		kind                     string
		fakeKind                 graphtest.TokenKind
		lifetime                 time.Duration
		page                     string
	}{
		{"person", "person_owner", "", "user", graphtest.KindFacebookLongUser, 60 * 24 * time.Hour, "Connected your Facebook account to account person"},
		{"business", "business_owner", foreverConf.ID, "system_user", graphtest.KindSystemUser, 0, "Connected your business (a system user of it) to account business"},
		{"business60", "business60_owner", sixtyDayConf.ID, "system_user", graphtest.KindSystemUser, 60 * 24 * time.Hour, "a system user of it"},
	}
	for _, c := range cases {
		owner := e.addUser(c.owner)
		req := map[string]any{"account": c.account}
		wantConf := userConf.ID
		if c.configID != "" {
			req["config_id"], wantConf = c.configID, c.configID
		}
		sec, err := e.root.Logical().Write(mountPath+"/auth-url", req)
		if err != nil {
			e.fatalf("auth-url %v: %v", req, err)
		}
		state, _ := sec.Data["state"].(string)
		e.secrets.Add("state for "+c.account, state)
		login, err := url.Parse(sec.Data["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		q := login.Query()
		if q.Get("config_id") != wantConf || q.Has("scope") || q.Get("override_default_response_type") != "true" || q.Get("response_type") != "code" {
			t.Fatalf("%s: dialog URL carries config_id %q scope %q override %q response_type %q", c.account,
				q.Get("config_id"), q.Get("scope"), q.Get("override_default_response_type"), q.Get("response_type"))
		}

		back := e.followDialog(login, owner)
		callback := e.addr + "/v1/" + mountPath + "/callback?" + url.Values{"code": {back.Get("code")}, "state": {back.Get("state")}}.Encode()
		status, ctype, body := e.get(anon, callback)
		if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, c.page) {
			t.Fatalf("%s: callback answered %d %q:\n%s", c.account, status, ctype, body)
		}

		tok := e.readToken(e.root, c.account)
		e.secrets.Add("token of "+c.account, tok.accessToken)
		if strings.Contains(body, tok.accessToken) {
			t.Errorf("%s: the callback page shows the token", c.account)
		}
		info, ok := e.fake.TokenInfo(tok.accessToken)
		if !ok || info.Kind != c.fakeKind {
			t.Errorf("%s: token/%s serves a %q token, want %q", c.account, c.account, info.Kind, c.fakeKind)
		}
		acct := e.readAccount(e.root, c.account)
		if acct["token_kind"] != c.kind || acct["status"] != "valid" || acct["login"] != "facebook" || acct["next_refresh_at"] != "" {
			t.Errorf("accounts/%s = %v, want token_kind %s, valid", c.account, acct, c.kind)
		}
		if exp, _ := acct["expires_at"].(string); (exp == "") != (c.lifetime == 0) {
			t.Errorf("accounts/%s expires_at = %q for a token living %v (0: never)", c.account, exp, c.lifetime)
		}
		if c.lifetime > 0 && (tok.expiresAt.Before(time.Now().Add(c.lifetime-time.Hour)) || tok.expiresAt.After(time.Now().Add(c.lifetime+time.Hour))) {
			t.Errorf("token/%s expires_at = %v, want about %v from now", c.account, tok.expiresAt, c.lifetime)
		}
		if c.kind == "system_user" && (acct["user_id"] == owner.ID || acct["user_id"] != info.SystemUserID) {
			t.Errorf("accounts/%s user_id = %v, want the system user %s", c.account, acct["user_id"], info.SystemUserID)
		}
	}
	if n := e.fake.Calls(graphtest.EndpointFacebookExchangeToken); n != 1 {
		t.Errorf("fb_exchange_token called %d times, want once (the user token's)", n)
	}

	// page_id from the system-user token.
	biz, _ := e.fake.User("business_owner")
	if _, err := e.root.Logical().Write(mountPath+"/accounts/business", map[string]any{"page_id": biz.PageID}); err != nil {
		e.fatalf("page_id for the system-user account: %v", err)
	}
	tok := e.readToken(e.root, "business")
	e.secrets.Add("Page token of business", tok.accessToken)
	if info, _ := e.fake.TokenInfo(tok.accessToken); info.Kind != graphtest.KindPage || info.PageID != biz.PageID {
		t.Errorf("after page_id, token/business serves %+v, want the Page's token", info)
	}
	if acct := e.readAccount(e.root, "business"); acct["token_kind"] != "system_user" || acct["page_id"] != biz.PageID {
		t.Errorf("accounts/business after page_id = %v", acct)
	}
}

// followDialog plays the owner's browser at whichever of the fake's login
// dialogs login points to, as user u, and returns the parameters of the
// redirect back to Vault.
func (e *env) followDialog(login *url.URL, u graphtest.User) url.Values {
	e.t.Helper()
	q := login.Query()
	q.Set("fake_user", u.Username)
	dialog := *login
	dialog.RawQuery = q.Encode()
	noFollow := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := noFollow.Get(dialog.String())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		e.t.Fatalf("the login dialog answered %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != e.redirectURI {
		e.t.Fatalf("the dialog redirected to %s, want the engine's callback %s", got, e.redirectURI)
	}
	back := loc.Query()
	e.secrets.Add("authorization code from the dialog", back.Get("code"))
	return back
}
