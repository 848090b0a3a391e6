package instagram

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// replaceLink issues a re-authorization link for account (replace=true,
// plus extra) and plays username at the fake's dialog.
func (e *testEnv) replaceLink(account, username string, extra map[string]any) url.Values {
	e.t.Helper()
	e.meta.AddUser(username)
	data := map[string]any{"account": account, "scopes": strings.Join(grantedScopes, ","), "replace": true}
	for k, v := range extra {
		data[k] = v
	}
	login, _ := e.authURL(data)
	return e.authorizeAtFake(login, url.Values{"fake_user": {username}})
}

// TestReauthorizationByAnotherUserIsRefused: a replace link opened
// by another Instagram user than the account's must not repoint the
// account; the page says why, and the account stays as it was.
func TestReauthorizationByAnotherUserIsRefused(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.callback(logical.ReadOperation, e.replaceLink("shop", "shop_user", nil)).expect(t, http.StatusOK, "@shop_user")
	e.rememberTokens("shop")
	before := accountEntry(e.storageSnapshot(), "shop")

	p := e.callback(logical.ReadOperation, e.replaceLink("shop", "intruder_user", nil))
	p.expect(t, http.StatusConflict, "Authorization not completed",
		"@intruder_user", "is not the Instagram account that account shop is connected to", "nothing was changed")
	if strings.Contains(p.body, "shop_user") {
		t.Error("the refusal page names the account's Instagram user to whoever opened the link")
	}
	if after := accountEntry(e.storageSnapshot(), "shop"); after != before {
		t.Fatal("a re-authorization by another user changed the account")
	}
	if !strings.Contains(e.logs.String(), "authorization callback refused: another Instagram user approved a re-authorization") {
		t.Error("the refusal is not logged for the operator")
	}

	// The account's own user re-authorizes as before.
	e.callback(logical.ReadOperation, e.replaceLink("shop", "shop_user", nil)).expect(t, http.StatusOK, "@shop_user")
	e.rememberTokens("shop")
	if a := e.account("shop"); a.Username != "shop_user" || accountEntry(e.storageSnapshot(), "shop") == before {
		t.Fatalf("the owner's re-authorization was not stored: %+v", a.Username)
	}
}

// TestAllowUserChangeLetsALinkHandTheAccountToAnotherUser: an operator may make a link that hands the
// account to another user (allow_user_change=true, with replace only).
func TestAllowUserChangeLetsALinkHandTheAccountToAnotherUser(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)
	e.callback(logical.ReadOperation, e.replaceLink("shop", "shop_user", nil)).expect(t, http.StatusOK, "@shop_user")

	resp, err := e.write("auth-url", map[string]any{"account": "other", "allow_user_change": true})
	e.mustFail(resp, err, "allow_user_change: only goes with replace=true")

	p := e.callback(logical.ReadOperation, e.replaceLink("shop", "new_owner", map[string]any{"allow_user_change": true}))
	p.expect(t, http.StatusOK, "@new_owner", "shop")
	e.rememberTokens("shop")
	u, _ := e.meta.User("new_owner")
	if a := e.account("shop"); a.UserID != u.UserID || a.AccessToken != e.meta.CurrentToken(u.UserID) {
		t.Fatalf("allow_user_change did not let the link repoint the account: user %s", a.Username)
	}
}

// TestFacebookLoginReauthorizationNeedsTheSamePageOrUser: under Facebook Login the account is
// the Instagram account of its Page (or, without a Page, the Facebook user):
// another Facebook user who manages the same Page may re-authorize, another
// user without it may not.
func TestFacebookLoginReauthorizationNeedsTheSamePageOrUser(t *testing.T) {
	e := newFacebookEnv(t)
	e.configure(map[string]any{"login": "facebook"})
	e.registerFacebook("plain", "fb_owner", false)
	before := accountEntry(e.storageSnapshot(), "plain")

	resp := e.mustOK(e.write("auth-url", map[string]any{"account": "plain", "replace": true}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	e.meta.AddUser("fb_intruder")
	p := e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), "fb_intruder"))
	p.expect(t, http.StatusConflict, "is not the user that account plain is connected to", "nothing was changed")
	if accountEntry(e.storageSnapshot(), "plain") != before {
		t.Fatal("another Facebook user took over an account")
	}

	resp = e.mustOK(e.write("auth-url", map[string]any{"account": "plain", "replace": true}))
	e.secrets = append(e.secrets, resp.Data["state"].(string))
	e.callback(logical.ReadOperation, e.facebookDialog(resp.Data["url"].(string), "fb_owner")).expect(t, http.StatusOK, "plain")
	e.rememberTokens("plain")
}
