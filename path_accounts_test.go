package instagram

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

func TestRegisterFromCode(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.registerFromCode("shop", "shop_user")

	a := e.account("shop")
	if a.AccessToken != e.meta.CurrentToken(u.UserID) {
		t.Fatal("stored token is not the long-lived token the fake issued")
	}
	if info, ok := e.meta.TokenInfo(a.AccessToken); !ok || info.Kind != "long" {
		t.Fatalf("stored token is not long-lived: %+v", info)
	}
	if a.UserID != u.UserID || a.Username != "shop_user" {
		t.Fatalf("identity = %q/%q, want %q/shop_user", a.UserID, a.Username, u.UserID)
	}
	now := e.clock.Now()
	if !a.IssuedAt.Equal(now) || a.ExpiresAt.Sub(now) < 59*24*time.Hour {
		t.Fatalf("issued %v expires %v", a.IssuedAt, a.ExpiresAt)
	}
	if !reflect.DeepEqual(a.Scopes, []string{"instagram_business_basic", "instagram_business_content_publish"}) {
		t.Fatalf("scopes = %v", a.Scopes)
	}

	resp := e.mustOK(e.read("accounts/shop"))
	for _, k := range []string{"user_id", "username", "scopes", "token_type", "expires_at", "issued_at",
		"last_refreshed_at", "next_refresh_at", "status", "last_error", "consecutive_failures"} {
		if _, ok := resp.Data[k]; !ok {
			t.Errorf("account read lacks %s", k)
		}
	}
	if resp.Data["status"] != statusValid {
		t.Errorf("status = %v", resp.Data["status"])
	}
	if resp.Data["user_id"] != u.UserID {
		t.Errorf("user_id = %v (big IDs must survive exactly)", resp.Data["user_id"])
	}
	assertNoToken(t, resp, a.AccessToken)
}

func TestRegisterFromShortLivedToken(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.meta.AddUser("shorty")
	short := e.meta.MintShortLivedToken(u.UserID, []string{"instagram_business_basic"})
	e.secrets = append(e.secrets, short)
	e.mustOK(e.write("accounts/shorty", map[string]any{"access_token": short}))
	a := e.account("shorty")
	if a.AccessToken == short {
		t.Fatal("short-lived token was stored instead of being exchanged")
	}
	e.secrets = append(e.secrets, a.AccessToken)
	if a.ExpiresAt.IsZero() || a.Username != "shorty" {
		t.Fatalf("account = %+v", a)
	}
}

func TestRegisterLongLivedWithoutExpiry(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	u := e.meta.AddUser("dash")
	long := e.meta.MintLongLivedToken(u.UserID, nil, e.clock.Now().Add(-5*24*time.Hour))
	e.secrets = append(e.secrets, long)
	e.mustOK(e.write("accounts/dash", map[string]any{"access_token": long}))
	a := e.account("dash")
	if a.AccessToken != long {
		t.Fatal("a long-lived token must be kept as it is")
	}
	if !a.ExpiresAt.IsZero() || !a.IssuedAt.IsZero() {
		t.Fatalf("expiry should be unknown, got %v / %v", a.ExpiresAt, a.IssuedAt)
	}
	// Unknown expiry: due the first moment Instagram certainly allows.
	if due := e.b.sched.DueTime("dash"); !due.Equal(e.clock.Now().Add(24 * time.Hour)) {
		t.Fatalf("due = %v", due)
	}
	resp := e.mustOK(e.read("accounts/dash"))
	if resp.Data["expires_at"] != "" {
		t.Fatalf("expires_at = %v, want empty", resp.Data["expires_at"])
	}
}

func TestRegisterLongLivedWithExpiry(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	issued := e.clock.Now().Add(-20 * 24 * time.Hour)
	e.registerLongLived("ll", "ll_user", issued)
	a := e.account("ll")
	if !a.IssuedAt.Equal(issued) || !a.ExpiresAt.Equal(issued.Add(longLivedLifetime)) {
		t.Fatalf("issued %v expires %v", a.IssuedAt, a.ExpiresAt)
	}

	// Unix seconds are accepted too.
	u := e.meta.AddUser("unix")
	tok := e.meta.MintLongLivedToken(u.UserID, nil, issued)
	e.secrets = append(e.secrets, tok)
	e.mustOK(e.write("accounts/unix", map[string]any{"access_token": tok, "expires_at": issued.Add(longLivedLifetime).Unix()}))
	if got := e.account("unix").ExpiresAt; !got.Equal(issued.Add(longLivedLifetime)) {
		t.Fatalf("expires_at from unix seconds = %v", got)
	}
}

func TestRegisterBadInputLeavesStoredAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")

	other := e.meta.AddUser("other")
	used := e.meta.MintCode(other.UserID, []string{"instagram_business_basic"}, testRedirectURI)
	e.secrets = append(e.secrets, used)
	e.mustOK(e.write("accounts/spare", map[string]any{"code": used}))
	e.secrets = append(e.secrets, e.meta.CurrentToken(other.UserID))
	wrongRedirect := e.meta.MintCode(other.UserID, nil, "https://elsewhere.example/cb")
	e.secrets = append(e.secrets, wrongRedirect)
	revoked := e.meta.MintLongLivedToken(other.UserID, nil, e.clock.Now().Add(-48*time.Hour))
	e.meta.Revoke(revoked)
	e.secrets = append(e.secrets, revoked)

	cases := []struct {
		name string
		path string
		data map[string]any
		want string
	}{
		{"neither", "accounts/shop", map[string]any{}, "code"},
		{"both", "accounts/shop", map[string]any{"code": "abc", "access_token": "IGAAxyz"}, "code"},
		{"used code", "accounts/shop", map[string]any{"code": used}, "code"},
		{"unknown code", "accounts/shop", map[string]any{"code": "AQBnot-a-code"}, "code"},
		{"only #_", "accounts/shop", map[string]any{"code": "#_"}, "code"},
		{"redirect not configured one", "accounts/shop", map[string]any{"code": wrongRedirect, "redirect_uri": "https://elsewhere.example/cb"}, "redirect_uri"},
		{"expires_at with code", "accounts/shop", map[string]any{"code": "abc", "expires_at": "2026-02-01T00:00:00Z"}, "expires_at"},
		{"expires_at in the past", "accounts/shop", map[string]any{"access_token": "IGAAxyz", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"},
		{"expires_at too far", "accounts/shop", map[string]any{"access_token": "IGAAxyz", "expires_at": "2030-01-01T00:00:00Z"}, "expires_at"},
		{"expires_at garbage", "accounts/shop", map[string]any{"access_token": "IGAAxyz", "expires_at": "next tuesday"}, "expires_at"},
		{"revoked token", "accounts/shop", map[string]any{"access_token": revoked}, "access_token"},
		{"unknown field", "accounts/shop", map[string]any{"code": "abc", "token": "x"}, "token"},
		{"bad name", "accounts/-shop", map[string]any{"code": "abc"}, "name"},
		{"unicode name", "accounts/shöp", map[string]any{"code": "abc"}, "name"},
		{"long name", "accounts/" + strings.Repeat("a", 200), map[string]any{"code": "abc"}, "name"},
		{"redirect with token", "accounts/shop", map[string]any{"access_token": "IGAAxyz", "redirect_uri": testRedirectURI}, "redirect_uri"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.storageSnapshot()
			resp, err := e.write(tc.path, tc.data)
			e.mustFail(resp, err, tc.want)
			if err != nil {
				t.Fatalf("want a 400 response, got error %v", err)
			}
			if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
				t.Fatal("a rejected write changed storage")
			}
		})
	}
	// The account is still served.
	e.mustOK(e.read("token/shop"))
}

func TestRegisterMetaDownIs502AndKeepsAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "shop_user")
	before := e.storageSnapshot()

	u := e.meta.AddUser("again")
	code := e.meta.MintCode(u.UserID, nil, testRedirectURI)
	e.secrets = append(e.secrets, code)
	e.meta.Fail("exchange_code", 1, graphtest.Failure{Status: 503, Body: "upstream unavailable"})
	resp, err := e.write("accounts/shop", map[string]any{"code": code})
	if err == nil {
		t.Fatalf("want an error, got %v", resp)
	}
	if ce, ok := err.(logical.HTTPCodedError); !ok || ce.Code() != 502 {
		t.Fatalf("want a 502, got %v", err)
	}
	if after := e.storageSnapshot(); !reflect.DeepEqual(before, after) {
		t.Fatal("a failed registration changed storage")
	}
}

// TestReplaceAccount: a write replaces a registered account, here with
// another user's authorization, which takes allow_user_change=true
// (TestDirectWriteRefusesAnotherUsersTokenWithoutAllowUserChange).
func TestReplaceAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("shop", "first_user")
	second := e.meta.AddUser("second_user")
	code := e.meta.MintCode(second.UserID, grantedScopes, testRedirectURI)
	e.secrets = append(e.secrets, code)
	e.mustOK(e.write("accounts/shop", map[string]any{"code": code, "allow_user_change": true}))
	e.rememberTokens("shop")
	if got := e.account("shop").Username; got != "second_user" {
		t.Fatalf("username after replace = %q", got)
	}
}

func TestAccountsListAndDelete(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.registerFromCode("a1", "u1")
	e.registerFromCode("b2", "u2")

	resp := e.mustOK(e.do(logical.ListOperation, "accounts/", nil))
	if got := resp.Data["keys"]; !reflect.DeepEqual(got, []string{"a1", "b2"}) {
		t.Fatalf("keys = %v", got)
	}
	e.mustOK(e.do(logical.DeleteOperation, "accounts/a1", nil))
	if resp, _ := e.read("accounts/a1"); resp != nil {
		t.Fatal("deleted account still readable")
	}
	if resp, _ := e.read("token/a1"); resp != nil {
		t.Fatal("deleted account's token still readable")
	}
	if e.b.sched.Figures().Total != 1 {
		t.Fatal("deleted account still scheduled")
	}
	resp = e.mustOK(e.do(logical.ListOperation, "accounts/", nil))
	if got := resp.Data["keys"]; !reflect.DeepEqual(got, []string{"b2"}) {
		t.Fatalf("keys after delete = %v", got)
	}
}

func TestReadMissingAccount(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	for _, p := range []string{"accounts/nobody", "token/nobody"} {
		resp, err := e.read(p)
		e.mustBeUnregistered(p, "nobody", resp, err)
	}
}

func assertNoToken(t *testing.T, resp *logical.Response, token string) {
	t.Helper()
	if _, ok := resp.Data["access_token"]; ok {
		t.Fatal("metadata read returned access_token")
	}
	for k, v := range resp.Data {
		if s, ok := v.(string); ok && strings.Contains(s, token) {
			t.Fatalf("field %s carries the token", k)
		}
	}
}
