package instagram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// newBusinessEnv is a Facebook Login env whose config names a Facebook
// Login for Business configuration of the fake, made with conf.
func newBusinessEnv(t *testing.T, conf graphtest.Configuration) (*testEnv, graphtest.Configuration) {
	t.Helper()
	e := newFacebookEnv(t)
	c, ok := e.meta.AddConfiguration(conf)
	if !ok {
		t.Fatalf("the fake refused configuration %+v", conf)
	}
	e.mustOK(e.write("config", map[string]any{"facebook_config_id": c.ID}))
	return e, c
}

func TestConfigFacebookConfigID(t *testing.T) {
	e := newFacebookEnv(t)
	e.mustOK(e.write("config", map[string]any{"facebook_config_id": "871000000000001"}))
	if got := e.mustOK(e.read("config")).Data["facebook_config_id"]; got != "871000000000001" {
		t.Fatalf("facebook_config_id = %v", got)
	}
	e.assertConfigRefused(t, map[string]any{"facebook_config_id": "my-config"}, "facebook_config_id")
	// A configuration belongs to Facebook Login: switching login away
	// must clear it in the same write.
	e.assertConfigRefused(t, map[string]any{"login": "instagram"}, "facebook_config_id")
	e.mustOK(e.write("config", map[string]any{"login": "instagram", "facebook_config_id": ""}))
	if got := e.mustOK(e.read("config")).Data["facebook_config_id"]; got != "" {
		t.Fatalf("facebook_config_id after clearing = %v", got)
	}
	e.assertConfigRefused(t, map[string]any{"facebook_config_id": "871000000000001"}, "facebook_config_id")
}

// TestAuthURLWithConfiguration: with a configuration (config's, or
// auth-url's config_id overriding it) the dialog URL carries config_id
// instead of scope, with override_default_response_type=true and
// response_type=code; the state remembers the configuration.
func TestAuthURLWithConfiguration(t *testing.T) {
	e, conf := newBusinessEnv(t, graphtest.Configuration{})
	u, _ := e.authURL(map[string]any{"account": "shop"})
	q := u.Query()
	if q.Get("config_id") != conf.ID || q.Has("scope") || q.Get("override_default_response_type") != "true" ||
		q.Get("response_type") != "code" {
		t.Fatalf("dialog URL %s", u)
	}
	other, _ := e.meta.AddConfiguration(graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	u, _ = e.authURL(map[string]any{"account": "brand", "config_id": other.ID})
	if u.Query().Get("config_id") != other.ID {
		t.Fatalf("auth-url config_id did not override config's: %s", u)
	}
	var states []pendingState
	for _, k := range e.listStates() {
		entry, _ := e.storage.Get(context.Background(), stateStoragePrefix+k)
		var st pendingState
		if err := json.Unmarshal(entry.Value, &st); err != nil {
			t.Fatal(err)
		}
		states = append(states, st)
	}
	got := map[string]string{}
	for _, st := range states {
		got[st.Account] = st.ConfigID
	}
	if !reflect.DeepEqual(got, map[string]string{"shop": conf.ID, "brand": other.ID}) {
		t.Fatalf("states' configurations = %v", got)
	}

	for _, tc := range []struct {
		name  string
		data  map[string]any
		field string
	}{
		{"scopes beside a configuration", map[string]any{"account": "x", "scopes": "instagram_basic"}, "scopes"},
		{"config_id not digits", map[string]any{"account": "x", "config_id": "abc"}, "config_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.storageSnapshot()
			resp, err := e.write("auth-url", tc.data)
			e.mustFail(resp, err, tc.field+":")
			assertStatus(t, resp, err, http.StatusBadRequest)
			if !reflect.DeepEqual(before, e.storageSnapshot()) {
				t.Error("a refused auth-url changed storage")
			}
		})
	}

	// Under Instagram Login there are no configurations.
	ig := newTestEnv(t)
	ig.configure(nil)
	resp, err := ig.write("auth-url", map[string]any{"account": "x", "config_id": conf.ID})
	ig.mustFail(resp, err, "config_id:")
	assertStatus(t, resp, err, http.StatusBadRequest)
}

// TestFacebookLoginForBusinessOnboards: a Business app with a Facebook
// Login for Business configuration onboards an account through auth-url
// and the callback, for each kind of token the configuration can give; the
// account says which (token_kind) and is managed by its rules: never
// refreshed, health-checked hourly, reported expiring near a known expiry,
// needs_reauth at it; a system-user token that never expires stays valid.
func TestFacebookLoginForBusinessOnboards(t *testing.T) {
	cases := []struct {
		name      string
		conf      graphtest.Configuration
		kind      string
		fakeKind  graphtest.TokenKind
		lifetime  time.Duration // 0: never expires
		exchanges int           // fb_exchange_token calls at registration
	}{
		{"user token", graphtest.Configuration{}, tokenKindUser, graphtest.KindFacebookLongUser, longLivedLifetime, 1},
		{"system user, never expires", graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken}, tokenKindSystemUser, graphtest.KindSystemUser, 0, 0},
		{"system user, 60 days", graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken, Expiring: true}, tokenKindSystemUser, graphtest.KindSystemUser, longLivedLifetime, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newBusinessEnv(t, tc.conf)
			owner := e.meta.AddUser("biz_owner")
			registered := e.clock.Now()

			resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop"}))
			e.secrets = append(e.secrets, resp.Data["state"].(string))
			p := e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), owner.Username))
			want := "Connected your Facebook account to account shop"
			if tc.kind == tokenKindSystemUser {
				want = "Connected your business (a system user of it) to account shop"
			}
			p.expect(t, http.StatusOK, want)
			e.rememberTokens("shop")

			a := e.account("shop")
			info, _ := e.meta.TokenInfo(a.AccessToken)
			if a.TokenKind != tc.kind || info.Kind != tc.fakeKind || a.AccessToken != a.UserAccessToken {
				t.Fatalf("account token_kind %q serves a %s token, want %s", a.TokenKind, info.Kind, tc.fakeKind)
			}
			if got := e.meta.Calls(graphtest.EndpointFacebookExchangeToken); got != tc.exchanges {
				t.Errorf("fb_exchange_token called %d times, want %d", got, tc.exchanges)
			}
			wantExpiry := ""
			if tc.lifetime > 0 {
				wantExpiry = formatTime(registered.Add(tc.lifetime))
			}
			meta := e.mustOK(e.read("accounts/shop")).Data
			if meta["token_kind"] != tc.kind || meta["expires_at"] != wantExpiry || meta["status"] != statusValid ||
				meta["reauth_due_at"] != wantExpiry || meta["next_refresh_at"] != "" {
				t.Fatalf("accounts/shop = %v", meta)
			}
			if tc.kind == tokenKindSystemUser && (a.UserID == owner.ID || info.SystemUserID != a.UserID) {
				t.Errorf("user_id %q, want the system user %q", a.UserID, info.SystemUserID)
			}
			if tok := e.mustOK(e.read("token/shop")).Data; tok["access_token"] != a.AccessToken || tok["expires_at"] != wantExpiry {
				t.Fatalf("token/shop: expires_at %v", tok["expires_at"])
			}
			resp, err := e.write("accounts/shop/refresh", nil)
			e.mustFail(resp, err, "no refresh grant")

			// 31 days of hourly periodic runs: checked, never refreshed.
			checks := e.meta.Calls(graphtest.EndpointDebugToken)
			for range 31 * 24 {
				e.clock.Advance(time.Hour)
				e.tick()
			}
			// Checks are an hour and an offset apart, so with hourly runs
			// one in every two runs checks.
			if got := e.meta.Calls(graphtest.EndpointDebugToken) - checks; got < 31*24/2-1 || got > 31*24 {
				t.Errorf("%d health checks in 31 days of hourly runs, want one every run or two", got)
			}
			if n := e.meta.Calls(graphtest.EndpointFacebookExchangeToken) + e.meta.Calls(graphtest.EndpointRefresh); n != tc.exchanges {
				t.Errorf("the periodic work exchanged or refreshed the token (%d calls)", n-tc.exchanges)
			}
			a = e.account("shop")
			if tc.lifetime == 0 {
				if a.Status != statusValid || !a.ExpiresAt.IsZero() {
					t.Fatalf("a never-expiring system-user token after 31 days: %s, expires %v", a.Status, a.ExpiresAt)
				}
				return
			}
			if a.Status != statusExpiring {
				t.Fatalf("31 days on, a 60-day token is %s, want expiring", a.Status)
			}
			e.clock.Advance(30 * 24 * time.Hour)
			e.tick()
			if a = e.account("shop"); a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "expired") {
				t.Fatalf("past its expiry: %s %q", a.Status, a.LastError)
			}
		})
	}
}

// TestSystemUserTokenServesAPage: page_id works from a system-user token as
// from a user token: the Page's token is served, the account stays a
// system-user account, and re-authorizing keeps the Page.
func TestSystemUserTokenServesAPage(t *testing.T) {
	e, _ := newBusinessEnv(t, graphtest.Configuration{TokenKind: graphtest.ConfigSystemUserToken})
	owner := e.meta.AddUser("biz_owner")
	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "shop"}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), owner.Username)).expect(t, http.StatusOK)
	e.rememberTokens("shop")

	meta := e.mustOK(e.write("accounts/shop", map[string]any{"page_id": owner.PageID})).Data
	if meta["token_kind"] != tokenKindSystemUser || meta["page_id"] != owner.PageID || meta["instagram_user_id"] != owner.UserID {
		t.Fatalf("accounts/shop = %v", meta)
	}
	a := e.account("shop")
	if info, _ := e.meta.TokenInfo(a.AccessToken); info.Kind != graphtest.KindPage || info.PageID != owner.PageID {
		t.Fatalf("served %+v, want the Page's token", info)
	}

	resp = e.mustOK(e.write("auth-url", map[string]any{"account": "shop", "replace": true}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), owner.Username)).expect(t, http.StatusOK, owner.Username+" Page")
	e.rememberTokens("shop")
	if b := e.account("shop"); b.PageID != owner.PageID || b.TokenKind != tokenKindSystemUser || b.UserAccessToken == a.UserAccessToken {
		t.Fatalf("re-authorization: page %q kind %q", b.PageID, b.TokenKind)
	}
}

// TestSystemUserTokenRegisteredDirectly: an operator can register a
// system-user token (from a configuration, or generated in Business
// Settings) with access_token: it is inspected first and kept as it is,
// without a configuration in config; a user token is still exchanged for a
// long-lived one.
func TestSystemUserTokenRegisteredDirectly(t *testing.T) {
	e := newFacebookEnv(t)
	owner := e.meta.AddUser("biz_owner")
	for _, expiring := range []bool{false, true} {
		name := fmt.Sprintf("biz-%v", expiring)
		tok := e.meta.MintSystemUserToken(owner.UserID, fbTestScopes, e.clock.Now(), expiring)
		e.secrets = append(e.secrets, tok)
		meta := e.mustOK(e.write("accounts/"+name, map[string]any{"access_token": tok})).Data
		want := ""
		if expiring {
			want = formatTime(e.clock.Now().Add(longLivedLifetime))
		}
		if meta["token_kind"] != tokenKindSystemUser || meta["expires_at"] != want || meta["status"] != statusValid {
			t.Fatalf("accounts/%s = %v", name, meta)
		}
		if e.account(name).AccessToken != tok {
			t.Fatal("a system-user token was not kept as given")
		}
	}
	if n := e.meta.Calls(graphtest.EndpointFacebookExchangeToken); n != 0 {
		t.Fatalf("fb_exchange_token called %d times for system-user tokens", n)
	}
	userTok := e.meta.MintFacebookUserToken(owner.UserID, fbTestScopes, e.clock.Now(), false)
	e.secrets = append(e.secrets, userTok)
	meta := e.mustOK(e.write("accounts/person", map[string]any{"access_token": userTok})).Data
	e.rememberTokens("person")
	if meta["token_kind"] != tokenKindUser || e.account("person").AccessToken == userTok {
		t.Fatalf("a user token: %v", meta)
	}
	// An app token is neither.
	appTok := testAppID + "|" + testAppSecret
	resp, err := e.write("accounts/app", map[string]any{"access_token": appTok})
	e.mustFail(resp, err, "access_token:")
}

// TestTokenKindOfOlderRecords: records written before token_kind existed
// (schema_version 1) read as user tokens, which is what every account was
// then, and are stored with it at their next save.
func TestTokenKindOfOlderRecords(t *testing.T) {
	e := newFacebookEnv(t)
	e.registerFacebook("shop", "shop_user", false)
	ctx := context.Background()
	entry, _ := e.storage.Get(ctx, accountStoragePrefix+"shop")
	var raw map[string]any
	if err := json.Unmarshal(entry.Value, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "token_kind")
	raw["schema_version"] = 1
	old, _ := json.Marshal(raw)
	if err := e.storage.Put(ctx, &logical.StorageEntry{Key: accountStoragePrefix + "shop", Value: old}); err != nil {
		t.Fatal(err)
	}
	e.b.cache.drop("shop")

	if got := e.mustOK(e.read("accounts/shop")).Data["token_kind"]; got != tokenKindUser {
		t.Fatalf("token_kind of an older record = %v, want user", got)
	}
	e.clock.Advance(healthCheckInterval + healthCheckSpread)
	e.tick() // the hourly check saves the record
	entry, _ = e.storage.Get(ctx, accountStoragePrefix+"shop")
	if err := json.Unmarshal(entry.Value, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["token_kind"] != tokenKindUser || raw["schema_version"] != float64(accountSchemaVersion) || accountSchemaVersion < 2 {
		t.Fatalf("saved record: token_kind %v schema_version %v", raw["token_kind"], raw["schema_version"])
	}

	// Instagram Login accounts hold user tokens too.
	ig := newTestEnv(t)
	ig.configure(nil)
	ig.registerFromCode("gram", "gram_user")
	if got := ig.mustOK(ig.read("accounts/gram")).Data["token_kind"]; got != tokenKindUser {
		t.Fatalf("token_kind of an Instagram Login account = %v", got)
	}
}
