package graphtest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBusinessUninstallRevokesSystemUserTokens: when a client business
// uninstalls the app (Meta's business_integration_uninstall), every
// system-user token of that business fails with code 190, subcode 458 (app
// not installed), at debug_token and in use; the person who authorized
// keeps their own token, another business keeps its system-user token, and
// the business authorizing again gets a working token for the same system
// user. The admin API does the same by username.
func TestBusinessUninstallRevokesSystemUserTokens(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	conf, _ := s.AddConfiguration(Configuration{TokenKind: ConfigSystemUserToken})
	owner := s.AddUser("shop_owner")
	other := s.AddUser("other_owner")
	authorize := func(u User) string {
		t.Helper()
		code := mustQuery(t, businessDialog(t, s, conf.ID, url.Values{"fake_user": {u.Username}}), "code")
		tok, _ := exchangeFacebookCode(t, s, code).json["access_token"].(string)
		if tok == "" {
			t.Fatal("no system-user token")
		}
		return tok
	}
	bisu, otherBISU := authorize(owner), authorize(other)
	personal := s.MintFacebookUserToken(owner.UserID, []string{"instagram_basic"}, s.Now(), true)
	sysUser := debugTokenData(t, s, bisu)["user_id"]

	s.UninstallBusiness(owner.Username)

	d := debugTokenData(t, s, bisu)
	e, _ := d["error"].(map[string]any)
	if d["is_valid"] != false || e["code"] != float64(190) || e["subcode"] != float64(458) {
		t.Fatalf("debug_token of an uninstalled business's token: %v", d)
	}
	ep := s.Endpoints()
	r := do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/me/accounts?"+url.Values{"access_token": {bisu}}.Encode(), nil)
	if graphErr(t, r, 190); r.json["error"].(map[string]any)["error_subcode"] != float64(458) {
		t.Errorf("me/accounts with the uninstalled token: %s", r.body)
	}
	if debugTokenData(t, s, personal)["is_valid"] != true {
		t.Error("the uninstall invalidated the owner's own user token")
	}
	if debugTokenData(t, s, otherBISU)["is_valid"] != true {
		t.Error("the uninstall invalidated another business's system-user token")
	}

	again := authorize(owner)
	if d := debugTokenData(t, s, again); d["is_valid"] != true || d["user_id"] != sysUser {
		t.Errorf("authorizing again after the uninstall: %v", d)
	}

	// The admin API, as make dev uses it.
	post := func(body string) int {
		t.Helper()
		resp, err := http.Post(s.URL()+"/_fake/business-uninstall", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := post(`{}`); status != http.StatusBadRequest {
		t.Errorf("business-uninstall without a username: %d", status)
	}
	if status := post(`{"username":"shop_owner"}`); status != http.StatusOK || debugTokenData(t, s, again)["is_valid"] != false {
		t.Errorf("admin business-uninstall: %d", status)
	}
}
