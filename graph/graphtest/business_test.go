package graphtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// businessDialog opens the Facebook dialog with a configuration, as
// Facebook Login for Business's manual flow does, plus extra parameters.
func businessDialog(t *testing.T, s *Server, configID string, extra url.Values) response {
	t.Helper()
	q := url.Values{"client_id": {s.AppID()}, "redirect_uri": {redirectURI}, "state": {"st"}, "config_id": {configID},
		"response_type": {"code"}, "override_default_response_type": {"true"}}
	for k, v := range extra {
		q[k] = v
	}
	ep := s.Endpoints()
	return do(t, http.MethodGet, ep.FacebookAuthBaseURL+"/"+ep.Version+"/dialog/oauth?"+q.Encode(), nil)
}

// exchangeFacebookCode trades a code at graph.facebook.com.
func exchangeFacebookCode(t *testing.T, s *Server, code string) response {
	t.Helper()
	ep := s.Endpoints()
	return do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/oauth/access_token?"+url.Values{
		"client_id": {s.AppID()}, "client_secret": {s.AppSecret()}, "redirect_uri": {redirectURI}, "code": {code}}.Encode(), nil)
}

func debugTokenData(t *testing.T, s *Server, tok string) map[string]any {
	t.Helper()
	ep := s.Endpoints()
	r := do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/debug_token?"+url.Values{
		"input_token": {tok}, "access_token": {s.AppID() + "|" + s.AppSecret()}}.Encode(), nil)
	data, _ := r.json["data"].(map[string]any)
	if r.status != http.StatusOK || data == nil {
		t.Fatalf("debug_token: %d %s", r.status, r.body)
	}
	return data
}

// TestBusinessConfigurationSystemUser: a system-user configuration's code
// exchange gives a BISU token that debug_token reports as SYSTEM_USER of the
// business's system user (the same one on a second authorization), never
// expiring or expiring after 60 days as configured; it reaches the Pages of
// the user who authorized, fb_exchange_token refuses it, a password change
// of that user leaves it alone, and revoking it kills it.
func TestBusinessConfigurationSystemUser(t *testing.T) {
	for _, expiring := range []bool{false, true} {
		t.Run("expiring="+strconv.FormatBool(expiring), func(t *testing.T) {
			s, clock := newTestServer(t, Options{})
			owner := s.AddUser("shop_owner")
			conf, ok := s.AddConfiguration(Configuration{TokenKind: ConfigSystemUserToken, Expiring: expiring})
			if !ok || conf.ID == "" {
				t.Fatal("AddConfiguration refused a system-user configuration")
			}

			code := mustQuery(t, businessDialog(t, s, conf.ID, url.Values{"fake_user": {owner.Username}}), "code")
			r := exchangeFacebookCode(t, s, code)
			tok, _ := r.json["access_token"].(string)
			if r.status != http.StatusOK || tok == "" || r.json["token_type"] != "bearer" {
				t.Fatalf("exchange: %d %s", r.status, r.body)
			}
			if _, has := r.json["expires_in"]; has != expiring {
				t.Errorf("expires_in present = %v, want %v: %s", has, expiring, r.body)
			}
			if expiring && r.json["expires_in"] != float64(LongLivedLifetime/time.Second) {
				t.Errorf("expires_in = %v, want 60 days", r.json["expires_in"])
			}

			data := debugTokenData(t, s, tok)
			wantExp := float64(0)
			if expiring {
				wantExp = float64(clock.Now().Add(LongLivedLifetime).Unix())
			}
			sysUser, _ := data["user_id"].(string)
			if data["type"] != "SYSTEM_USER" || data["is_valid"] != true || data["expires_at"] != wantExp || sysUser == "" ||
				sysUser == owner.ID || sysUser == owner.UserID {
				t.Fatalf("debug_token of a BISU token: %v", data)
			}
			if st, _ := s.TokenInfo(tok); st.Kind != KindSystemUser || st.SystemUserID != sysUser {
				t.Errorf("TokenInfo = %+v", st)
			}

			// Authorizing again: the same system user, a new token.
			code2 := mustQuery(t, businessDialog(t, s, conf.ID, url.Values{"fake_user": {owner.Username}}), "code")
			tok2, _ := exchangeFacebookCode(t, s, code2).json["access_token"].(string)
			if tok2 == "" || tok2 == tok || debugTokenData(t, s, tok2)["user_id"] != sysUser {
				t.Error("a second authorization of the same business changed its system user")
			}

			// The business's Pages.
			ep := s.Endpoints()
			pages := do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/me/accounts?"+url.Values{
				"access_token": {tok}, "fields": {"id,instagram_business_account"}}.Encode(), nil)
			list, _ := pages.json["data"].([]any)
			if pages.status != http.StatusOK || len(list) != 1 || list[0].(map[string]any)["id"] != owner.PageID {
				t.Fatalf("me/accounts with a BISU token: %d %s", pages.status, pages.body)
			}

			graphErr(t, do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/oauth/access_token?"+url.Values{
				"grant_type": {"fb_exchange_token"}, "client_id": {s.AppID()}, "client_secret": {s.AppSecret()},
				"fb_exchange_token": {tok}}.Encode(), nil), 100)

			s.RevokeUser(owner.UserID)
			if debugTokenData(t, s, tok)["is_valid"] != true {
				t.Error("the owner's password change invalidated the business's system-user token")
			}
			s.Revoke(tok)
			if d := debugTokenData(t, s, tok); d["is_valid"] != false {
				t.Errorf("a revoked BISU token: %v", d)
			}
			if expiring {
				clock.Advance(LongLivedLifetime)
				if d := debugTokenData(t, s, tok2); d["is_valid"] != false {
					t.Errorf("an expired BISU token: %v", d)
				}
			}
		})
	}
}

// TestBusinessConfigurationUserToken: a user-token configuration gives an
// ordinary (short-lived) user token, with the configuration's permissions,
// which fb_exchange_token makes long-lived.
func TestBusinessConfigurationUserToken(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	conf, _ := s.AddConfiguration(Configuration{Scopes: []string{"instagram_basic", "pages_show_list"}})
	code := mustQuery(t, businessDialog(t, s, conf.ID, nil), "code")
	r := exchangeFacebookCode(t, s, code)
	tok, _ := r.json["access_token"].(string)
	if r.status != http.StatusOK || r.json["expires_in"] != float64(FacebookUserLifetime/time.Second) {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	data := debugTokenData(t, s, tok)
	if data["type"] != "USER" || len(data["scopes"].([]any)) != 2 {
		t.Fatalf("debug_token: %v", data)
	}
	ep := s.Endpoints()
	long := do(t, http.MethodGet, ep.FacebookGraphBaseURL+"/"+ep.Version+"/oauth/access_token?"+url.Values{
		"grant_type": {"fb_exchange_token"}, "client_id": {s.AppID()}, "client_secret": {s.AppSecret()},
		"fb_exchange_token": {tok}}.Encode(), nil)
	if long.status != http.StatusOK || long.json["expires_in"] != float64(LongLivedLifetime/time.Second) {
		t.Fatalf("fb_exchange_token of a configuration's user token: %d %s", long.status, long.body)
	}
}

// TestBusinessDialogRefusals: an unknown configuration, a scope beside
// config_id, and a request without the code-flow override are refused in
// the Graph shape; no code is issued.
func TestBusinessDialogRefusals(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	conf, _ := s.AddConfiguration(Configuration{})
	graphErr(t, businessDialog(t, s, "999", nil), 100)
	graphErr(t, businessDialog(t, s, conf.ID, url.Values{"scope": {"instagram_basic"}}), 100)
	graphErr(t, businessDialog(t, s, conf.ID, url.Values{"override_default_response_type": nil}), 100)
	graphErr(t, businessDialog(t, s, conf.ID, url.Values{"response_type": {"token"}}), 100)
	s.mu.Lock()
	n := len(s.state.codes)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d codes issued by refused dialogs", n)
	}
	if _, ok := s.AddConfiguration(Configuration{TokenKind: "robot"}); ok {
		t.Error("AddConfiguration took an unknown token kind")
	}
	if _, ok := s.AddConfiguration(Configuration{Scopes: []string{"instagram_business_basic"}}); ok {
		t.Error("AddConfiguration took an Instagram Login scope")
	}
	// Denial works as on any dialog.
	loc, _ := url.Parse(businessDialog(t, s, conf.ID, url.Values{"fake_deny": {"1"}}).header.Get("Location"))
	if loc.Query().Get("error") != "access_denied" || loc.Query().Has("code") {
		t.Errorf("denial: %s", loc)
	}
}

// TestAdminConfigurationsAndSystemUserTokens: the admin API registers
// configurations and mints BISU tokens, for make dev and scripts.
func TestAdminConfigurationsAndSystemUserTokens(t *testing.T) {
	s, _ := newTestServer(t, Options{})
	post := func(path string, body any) response {
		b, _ := json.Marshal(body)
		resp, err := http.Post(s.URL()+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return response{status: resp.StatusCode, json: out}
	}
	r := post("/_fake/configurations", map[string]any{"token_kind": "system_user", "expiring": true})
	if r.status != http.StatusOK || r.json["id"] == "" || r.json["token_kind"] != "system_user" || r.json["expiring"] != true {
		t.Fatalf("POST /_fake/configurations: %d %v", r.status, r.json)
	}
	if r := post("/_fake/configurations", map[string]any{"token_kind": "robot"}); r.status != http.StatusBadRequest {
		t.Errorf("a bad configuration: %d %v", r.status, r.json)
	}
	r = post("/_fake/tokens", map[string]any{"username": "biz", "kind": "system_user"})
	tok, _ := r.json["access_token"].(string)
	if st, _ := s.TokenInfo(tok); r.status != http.StatusOK || st.Kind != KindSystemUser || !st.ExpiresAt.IsZero() {
		t.Fatalf("POST /_fake/tokens system_user: %d %v %+v", r.status, r.json, st)
	}
}
