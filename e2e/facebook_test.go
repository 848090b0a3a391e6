//go:build e2e

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

var facebookScopes = []string{"instagram_basic", "pages_show_list", "pages_read_engagement"}

// useFacebookLogin switches the mount's config to Instagram API with
// Facebook Login; everything else stays as newEnv wrote it.
func (e *env) useFacebookLogin() {
	e.t.Helper()
	if _, err := e.root.Logical().Write(mountPath+"/config", map[string]any{"login": "facebook"}); err != nil {
		e.fatalf("write config login=facebook: %v", err)
	}
}

// TestFacebookCodeToPageToken: a Facebook Login code, with page_id, is
// exchanged for a long-lived user token, from which the engine derives the
// Page's token; token/<name> serves that Page token with the Page's linked
// Instagram account, and accounts/<name>/pages lists the Page without it.
func TestFacebookCodeToPageToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useFacebookLogin()
	u := e.addUser("fb_shop_owner")
	code := e.secrets.Add("Facebook authorization code for "+u.Username, e.fake.MintFacebookCode(u.UserID, facebookScopes, e.redirectURI))

	if _, err := e.root.Logical().Write(mountPath+"/accounts/shop", map[string]any{"code": code, "page_id": u.PageID}); err != nil {
		e.fatalf("register shop from a Facebook code with page_id %s: %v", u.PageID, err)
	}

	tok := e.readToken(e.root, "shop")
	// The newest token the fake minted for the user is the Page token
	// (after the user tokens of the exchanges).
	if want := e.currentToken(u); tok.accessToken != want {
		t.Error("token/shop access_token is not the fake's Page token for the user")
	}
	if info, ok := e.fake.TokenInfo(tok.accessToken); !ok || info.Kind != graphtest.KindPage || info.PageID != u.PageID {
		t.Errorf("token/shop serves %+v, want the token of Page %s", info, u.PageID)
	}
	if !tok.expiresAt.IsZero() {
		t.Errorf("token/shop expires_at = %s, want none: a Page token does not expire", tok.expiresAt)
	}
	s, err := e.root.Logical().Read(mountPath + "/token/shop")
	if err != nil || s == nil {
		e.fatalf("read token/shop: %v", err)
	}
	if s.Data["instagram_user_id"] != u.UserID || s.Data["page_id"] != u.PageID {
		t.Errorf("token/shop instagram_user_id = %v, page_id = %v; want %s, %s", s.Data["instagram_user_id"], s.Data["page_id"], u.UserID, u.PageID)
	}

	acct := e.readAccount(e.root, "shop")
	for k, want := range map[string]string{"login": "facebook", "status": "valid", "page_id": u.PageID, "instagram_user_id": u.UserID, "next_refresh_at": ""} {
		if acct[k] != want {
			t.Errorf("accounts/shop %s = %v, want %q", k, acct[k], want)
		}
	}
	if s, _ := acct["next_check_at"].(string); s == "" {
		t.Errorf("accounts/shop has no next_check_at: %v", acct)
	}

	status, body := e.rawRead(e.root, mountPath+"/accounts/shop/pages")
	if status != http.StatusOK || !strings.Contains(body, `"id":"`+u.PageID+`"`) || !strings.Contains(body, `"instagram_business_account_id":"`+u.UserID+`"`) {
		e.fatalf("accounts/shop/pages: HTTP %d: %s", status, body)
	}
	if strings.Contains(body, tok.accessToken) || strings.Contains(body, "access_token") {
		t.Error("accounts/shop/pages shows a token")
	}
}

// TestFacebookAppToken: app-token answers the app's token from the
// client-credentials grant, and a second read is served from memory.
func TestFacebookAppToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.useFacebookLogin()

	var first string
	for i := range 2 {
		s, err := e.root.Logical().Read(mountPath + "/app-token")
		if err != nil || s == nil {
			e.fatalf("read app-token: %v", err)
		}
		tok, _ := s.Data["access_token"].(string)
		e.secrets.Add("app token", tok)
		if !strings.HasPrefix(tok, e.appID+"|") || s.Data["token_type"] != "bearer" {
			t.Fatalf("app-token read %d: token_type %v, access_token of the app: %v", i+1, s.Data["token_type"], strings.HasPrefix(tok, e.appID+"|"))
		}
		if i == 0 {
			first = tok
		} else if tok != first {
			t.Error("the second app-token read did not serve the cached token")
		}
	}
	if got := e.fake.Calls(graphtest.EndpointAppToken); got != 1 {
		t.Errorf("the client-credentials grant was called %d times for two reads, want 1", got)
	}
}
