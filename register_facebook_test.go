package instagram

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

var fbTestScopes = []string{"instagram_basic", "pages_show_list", "pages_read_engagement"}

// newFacebookEnv is a test env configured with login=facebook. With
// options, its fake Meta is replaced by one built from them (same app,
// same clock), such as one that requires appsecret_proof.
func newFacebookEnv(t *testing.T, opts ...func(*graphtest.Options)) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	if len(opts) > 0 {
		o := graphtest.Options{AppID: testAppID, AppSecret: testAppSecret, Now: e.clock.Now}
		for _, f := range opts {
			f(&o)
		}
		e.meta = graphtest.New(o)
		t.Cleanup(e.meta.Close)
	}
	e.configure(map[string]any{"login": "facebook"})
	return e
}

// registerFacebook adds a fake user, has the fake mint a Facebook Login
// code for it (as Facebook does when the user consents) and registers
// account name from it: serving the user's linked Page when withPage.
func (e *testEnv) registerFacebook(name, username string, withPage bool) graphtest.User {
	e.t.Helper()
	u := e.meta.AddUser(username)
	code := e.meta.MintFacebookCode(u.UserID, fbTestScopes, testRedirectURI)
	e.secrets = append(e.secrets, code)
	data := map[string]any{"code": code + "#_=_"}
	if withPage {
		data["page_id"] = u.PageID
	}
	e.mustOK(e.write("accounts/"+name, data))
	e.rememberTokens(name)
	return u
}

// rememberTokens adds the account's tokens to the values that must never
// be logged or shown.
func (e *testEnv) rememberTokens(name string) {
	e.t.Helper()
	if a := e.account(name); a != nil {
		e.secrets = append(e.secrets, a.AccessToken, a.UserAccessToken)
	}
}

// httpStatus is the status Vault would answer for resp, err: a coded
// error's own (Vault's HTTP layer checks those first), else what
// RespondErrorCommon says.
func httpStatus(resp *logical.Response, err error) int {
	var coded logical.HTTPCodedError
	if errors.As(err, &coded) {
		return coded.Code()
	}
	code, _ := logical.RespondErrorCommon(&logical.Request{Operation: logical.UpdateOperation}, resp, err)
	if code == 0 {
		code = http.StatusOK
	}
	return code
}

func TestFacebookCodeToPageToken(t *testing.T) {
	e := newFacebookEnv(t)
	registered := e.clock.Now()
	u := e.registerFacebook("shop", "shop_user", true)

	a := e.account("shop")
	page, ok := e.meta.TokenInfo(a.AccessToken)
	if !ok || page.Kind != graphtest.KindPage || page.PageID != u.PageID {
		t.Fatalf("served token is not the Page's token: %+v", page)
	}
	user, ok := e.meta.TokenInfo(a.UserAccessToken)
	if !ok || user.Kind != graphtest.KindFacebookLongUser {
		t.Fatalf("stored user token is not long-lived: %+v", user)
	}
	if a.Login != loginFacebook || a.PageID != u.PageID || a.InstagramUserID != u.UserID || a.UserID != u.ID {
		t.Fatalf("account = login %q page %q instagram_user_id %q user_id %q", a.Login, a.PageID, a.InstagramUserID, a.UserID)
	}
	if !a.ExpiresAt.IsZero() || !a.UserTokenExpiresAt.Equal(registered.Add(longLivedLifetime)) {
		t.Fatalf("expires_at %v (want none: a Page token does not expire), user token expires %v", a.ExpiresAt, a.UserTokenExpiresAt)
	}
	if a.Status != statusValid || !reflect.DeepEqual(a.Scopes, fbTestScopes) {
		t.Fatalf("status %s scopes %v", a.Status, a.Scopes)
	}
	for ep, want := range map[string]int{
		graphtest.EndpointFacebookExchangeCode:  1,
		graphtest.EndpointFacebookExchangeToken: 1,
		graphtest.EndpointPages:                 1,
		graphtest.EndpointDebugToken:            1,
		graphtest.EndpointExchangeCode:          0,
		graphtest.EndpointMe:                    0,
	} {
		if got := e.meta.Calls(ep); got != want {
			t.Errorf("%s called %d times, want %d", ep, got, want)
		}
	}

	resp := e.mustOK(e.read("token/shop"))
	if resp.Data["access_token"] != a.AccessToken {
		t.Fatal("token/shop does not serve the Page token")
	}
	if resp.Data["instagram_user_id"] != u.UserID || resp.Data["page_id"] != u.PageID || resp.Data["expires_at"] != "" {
		t.Fatalf("token/shop = %v", redactedData(resp))
	}
	if ttl := resp.Data["ttl"].(int64); ttl <= 0 || ttl > 3600 {
		t.Fatalf("ttl = %d", ttl)
	}
	if len(resp.Warnings) != 0 {
		t.Fatalf("warnings on a healthy Page token: %v", resp.Warnings)
	}

	meta := e.mustOK(e.read("accounts/shop"))
	assertNoToken(t, meta, a.AccessToken)
	assertNoToken(t, meta, a.UserAccessToken)
	wantNext := registered.Add(healthCheckInterval + schedule.CheckOffset("shop")).Format(time.RFC3339)
	for k, want := range map[string]any{
		"login": loginFacebook, "status": statusValid, "page_id": u.PageID, "page_name": "shop_user Page",
		"instagram_user_id": u.UserID, "user_id": u.ID, "reauth_due_at": "", "next_refresh_at": "",
		"next_check_at": wantNext, "last_checked_at": registered.Format(time.RFC3339),
	} {
		if meta.Data[k] != want {
			t.Errorf("accounts/shop %s = %v, want %v", k, meta.Data[k], want)
		}
	}
}

func TestFacebookUserTokenWithoutPage(t *testing.T) {
	for _, via := range []string{"code", "access_token"} {
		t.Run(via, func(t *testing.T) {
			e := newFacebookEnv(t)
			now := e.clock.Now()
			u := e.meta.AddUser("owner")
			data := map[string]any{}
			if via == "code" {
				data["code"] = e.meta.MintFacebookCode(u.UserID, fbTestScopes, testRedirectURI)
			} else {
				data["access_token"] = e.meta.MintFacebookUserToken(u.UserID, fbTestScopes, now, false)
			}
			e.secrets = append(e.secrets, data[via].(string))
			e.mustOK(e.write("accounts/owner", data))
			e.rememberTokens("owner")

			a := e.account("owner")
			info, _ := e.meta.TokenInfo(a.AccessToken)
			if info.Kind != graphtest.KindFacebookLongUser || a.AccessToken != a.UserAccessToken || a.AccessToken == data[via] {
				t.Fatalf("served %+v, want the long-lived user token it was exchanged for", info)
			}
			resp := e.mustOK(e.read("token/owner"))
			if resp.Data["access_token"] != a.AccessToken || resp.Data["page_id"] != "" || resp.Data["instagram_user_id"] != "" {
				t.Fatalf("token/owner = %v", redactedData(resp))
			}
			if want := now.Add(longLivedLifetime).Format(time.RFC3339); resp.Data["expires_at"] != want {
				t.Fatalf("expires_at = %v, want %s", resp.Data["expires_at"], want)
			}
			meta := e.mustOK(e.read("accounts/owner"))
			if meta.Data["reauth_due_at"] != resp.Data["expires_at"] || meta.Data["status"] != statusValid {
				t.Fatalf("accounts/owner = %v", meta.Data)
			}
		})
	}
}

func TestFacebookBadInputLeavesStorage(t *testing.T) {
	e := newFacebookEnv(t)
	u := e.registerFacebook("shop", "shop_user", true)
	side, _ := e.meta.AddPage(u.UserID, "Side Page")
	other := e.meta.AddUser("other_user")
	otherToken := e.meta.MintFacebookUserToken(other.UserID, fbTestScopes, e.clock.Now(), false)
	e.secrets = append(e.secrets, otherToken)
	code := func() string {
		c := e.meta.MintFacebookCode(u.UserID, fbTestScopes, testRedirectURI)
		e.secrets = append(e.secrets, c)
		return c
	}
	used := code()
	e.mustOK(e.write("accounts/spare", map[string]any{"code": used}))
	e.rememberTokens("spare")
	igToken := e.meta.MintShortLivedToken(other.UserID, nil)
	e.secrets = append(e.secrets, igToken)

	cases := []struct {
		name  string
		path  string
		data  map[string]any
		field string
	}{
		{"unknown page_id with a code", "accounts/shop", map[string]any{"code": code(), "page_id": "104999999999999"}, "page_id"},
		{"another user's Page", "accounts/shop", map[string]any{"access_token": otherToken, "page_id": u.PageID}, "page_id"},
		{"a Page without Instagram account", "accounts/shop", map[string]any{"code": code(), "page_id": side.ID}, "page_id"},
		{"page_id not digits", "accounts/shop", map[string]any{"access_token": otherToken, "page_id": "my-page"}, "page_id"},
		{"unknown page_id alone", "accounts/shop", map[string]any{"page_id": "104999999999999"}, "page_id"},
		{"page_id alone for no account", "accounts/nobody", map[string]any{"page_id": u.PageID}, "code"},
		{"expires_at under facebook", "accounts/shop", map[string]any{"access_token": otherToken, "expires_at": e.clock.Now().Add(time.Hour).Format(time.RFC3339)}, "expires_at"},
		{"a used code", "accounts/shop", map[string]any{"code": used}, "code"},
		{"an Instagram token", "accounts/shop", map[string]any{"access_token": igToken}, "access_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.storageSnapshot()
			resp, err := e.write(tc.path, tc.data)
			e.mustFail(resp, err, tc.field+":")
			if got := httpStatus(resp, err); got != http.StatusBadRequest {
				t.Errorf("status %d, want 400", got)
			}
			if !reflect.DeepEqual(before, e.storageSnapshot()) {
				t.Error("a refused write changed storage")
			}
		})
	}
	if resp := e.mustOK(e.read("token/shop")); resp.Data["page_id"] != u.PageID {
		t.Fatal("the stored account changed")
	}
}

func TestPageIDWithInstagramLogin(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")
	code := e.meta.MintCode(u.UserID, []string{"instagram_business_basic"}, testRedirectURI)
	e.secrets = append(e.secrets, code)
	for _, data := range []map[string]any{
		{"code": code, "page_id": u.PageID},
		{"page_id": u.PageID},
	} {
		before := e.storageSnapshot()
		resp, err := e.write("accounts/shop", data)
		e.mustFail(resp, err, "page_id:")
		if httpStatus(resp, err) != http.StatusBadRequest || !reflect.DeepEqual(before, e.storageSnapshot()) {
			t.Fatal("page_id under login=instagram was not a 400 leaving storage as it was")
		}
	}
	if e.meta.Calls(graphtest.EndpointExchangeCode) != 1 {
		t.Fatal("a refused page_id still exchanged the code")
	}
	// An Instagram account keeps being refreshed, not checked, after the
	// config switches to Facebook Login; it has no Pages.
	e.mustOK(e.write("config", map[string]any{"login": "facebook"}))
	resp, err := e.read("accounts/shop/pages")
	e.mustFail(resp, err, "name:")
	resp, err = e.write("accounts/shop", map[string]any{"page_id": u.PageID})
	e.mustFail(resp, err, "page_id:")
}

func TestFacebookAppSecretProof(t *testing.T) {
	e := newFacebookEnv(t, func(o *graphtest.Options) { o.RequireAppSecretProof = true })
	e.registerFacebook("shop", "shop_user", true)
	e.mustOK(e.read("accounts/shop/pages"))
	e.clock.Advance(healthCheckInterval + healthCheckSpread)
	e.tick()
	if a := e.account("shop"); a.Status != statusValid || a.LastError != "" || a.LastCheckedAt != e.clock.Now() {
		t.Fatalf("health check under RequireAppSecretProof: %s %q", a.Status, a.LastError)
	}
	if e.meta.Calls(graphtest.EndpointPages) != 2 {
		t.Fatalf("pages calls = %d", e.meta.Calls(graphtest.EndpointPages))
	}

	// The control: the fake does refuse the same call without a proof.
	q := url.Values{"access_token": {e.account("shop").UserAccessToken}, "fields": {"id"}}
	res, err := http.Get(e.meta.Endpoints().FacebookGraphBaseURL + "/v25.0/me/accounts?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "appsecret_proof") {
		t.Fatalf("the fake accepted a call without appsecret_proof: %d %s", res.StatusCode, body)
	}
}

func TestFacebookManualRefreshRefused(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("shop", "shop_user", false)
	before := e.storageSnapshot()
	resp, err := e.write("accounts/shop/refresh", nil)
	e.mustFail(resp, err, "no refresh grant")
	if httpStatus(resp, err) != http.StatusBadRequest || !reflect.DeepEqual(before, e.storageSnapshot()) {
		t.Fatal("a manual refresh of a Facebook account was not a 400 leaving storage as it was")
	}
}

func TestConfigLoginSwitchesDefaultScopes(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	scopes := func() any { return e.mustOK(e.read("config")).Data["scopes"] }
	if !reflect.DeepEqual(scopes(), defaultScopes) {
		t.Fatalf("scopes = %v", scopes())
	}
	e.mustOK(e.write("config", map[string]any{"login": "facebook"}))
	if !reflect.DeepEqual(scopes(), defaultFacebookScopes) {
		t.Fatalf("scopes under facebook = %v", scopes())
	}
	e.mustOK(e.write("config", map[string]any{"login": "instagram"}))
	if !reflect.DeepEqual(scopes(), defaultScopes) {
		t.Fatalf("scopes back under instagram = %v", scopes())
	}
	// Scopes an operator chose are theirs.
	e.mustOK(e.write("config", map[string]any{"scopes": "instagram_business_basic,instagram_business_manage_messages"}))
	e.mustOK(e.write("config", map[string]any{"login": "facebook"}))
	if want := []string{"instagram_business_basic", "instagram_business_manage_messages"}; !reflect.DeepEqual(scopes(), want) {
		t.Fatalf("chosen scopes = %v, want %v", scopes(), want)
	}
}

// facebookDialog plays the owner's browser at the fake's Facebook dialog
// and returns the redirect's parameters (the code registered as a secret).
func (e *testEnv) facebookDialog(login string, username string) url.Values {
	e.t.Helper()
	back := e.redirectFrom(login + "&fake_user=" + url.QueryEscape(username)).Query()
	e.secrets = append(e.secrets, back.Get("code"))
	return back
}

func TestFacebookAuthURLAndCallback(t *testing.T) {
	e := newFacebookEnv(t)
	e.configure(map[string]any{"login": "facebook", "graph_api_version": "v24.0"})
	u := e.meta.AddUser("fb_owner")

	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop", "force_reauth": true}))
	state := resp.Data["state"].(string)
	e.secrets = append(e.secrets, state)
	login, err := url.Parse(resp.Data["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	q := login.Query()
	if !strings.HasSuffix(login.Path, "/www.facebook.com/v24.0/dialog/oauth") || q.Get("client_id") != testAppID ||
		q.Get("scope") != strings.Join(defaultFacebookScopes, ",") || q.Get("state") != state || q.Get("redirect_uri") != testRedirectURI {
		t.Fatalf("dialog URL %s", login)
	}
	if len(resp.Warnings) != 1 || !strings.Contains(resp.Warnings[0], "force_reauth") {
		t.Fatalf("warnings = %v", resp.Warnings)
	}

	p := e.callback(logical.ReadOperation, e.facebookDialog(login.String(), "fb_owner"))
	p.expect(t, http.StatusOK, "Connected", "shop")
	e.rememberTokens("shop")
	a := e.account("shop")
	if info, _ := e.meta.TokenInfo(a.AccessToken); a.Login != loginFacebook || info.Kind != graphtest.KindFacebookLongUser || a.UserID != u.ID {
		t.Fatalf("account from the callback: login %q user %q token %+v", a.Login, a.UserID, info)
	}

	// The operator picks the Page; the owner's next authorization keeps it.
	e.mustOK(e.write("accounts/shop", map[string]any{"page_id": u.PageID}))
	resp = e.mustOK(e.write("auth-url", map[string]any{"account": "shop", "replace": true}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	p = e.callback(logical.UpdateOperation, e.facebookDialog(resp.Data["url"].(string), "fb_owner"))
	p.expect(t, http.StatusOK, "fb_owner Page", "shop")
	e.rememberTokens("shop")
	b := e.account("shop")
	if info, _ := e.meta.TokenInfo(b.AccessToken); info.Kind != graphtest.KindPage || b.PageID != u.PageID || b.UserAccessToken == a.UserAccessToken {
		t.Fatalf("re-authorization: page %q token %+v", b.PageID, info)
	}
}

// TestFacebookDeauthorizeDropsBothTokens: Meta's Deauthorize Callback names
// the Facebook user; the engine drops the served Page token and the user
// token it came from.
func TestFacebookDeauthorizeDropsBothTokens(t *testing.T) {
	e := newFacebookEnv(t)
	u := e.registerFacebook("shop", "shop_user", true)
	sr := graphtest.SignRequest(testAppSecret, graphtest.MetaPayload(u.ID, e.clock.Now()))
	e.secrets = append(e.secrets, sr)
	e.mustOK(e.write("deauthorize", map[string]any{"signed_request": sr}))
	a := e.account("shop")
	if a.Status != statusNeedsReauth || a.AccessToken != "" || a.UserAccessToken != "" {
		t.Fatalf("after deauthorize: status %s, tokens kept: %v %v", a.Status, a.AccessToken != "", a.UserAccessToken != "")
	}
	resp, err := e.read("accounts/shop/pages")
	if httpStatus(resp, err) != http.StatusConflict {
		t.Fatal("a deauthorized account still lists Pages")
	}
}
