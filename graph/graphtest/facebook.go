package graphtest

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// facebookScope reports whether the fake grants the Facebook Login
// permission name.
func facebookScope(name string) bool {
	switch name {
	case "instagram_basic", "instagram_content_publish", "instagram_manage_comments",
		"instagram_manage_insights", "instagram_manage_messages",
		"pages_show_list", "pages_read_engagement", "pages_manage_metadata",
		"business_management", "public_profile", "email":
		return true
	}
	return false
}

// Facebook's answers to bad client credentials. Meta does not document
// them; these are the messages seen in practice, both under code 101 so
// that a misconfigured secret reads as permanent, not transient.
func errInvalidAppID() *apiError {
	return oauthError(101, 0, "Error validating application. Invalid application ID.")
}
func errInvalidSecret() *apiError { return oauthError(101, 0, "Error validating client secret.") }

func badVersion(w http.ResponseWriter, r *http.Request) bool {
	if v := r.PathValue("version"); v != "" && !versionPattern.MatchString(v) {
		writeAPIError(w, oauthError(2500, 0, "Unknown path components: /"+v))
		return true
	}
	return false
}

// facebookAuthorize is the Facebook Login dialog; like authorize, it
// approves at once unless fake_deny=1. Facebook appends "#_=_".
func (s *Server) facebookAuthorize(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != s.appID:
		writeAPIError(w, errInvalidAppID())
		return
	case q.Get("redirect_uri") == "":
		writeAPIError(w, oauthError(100, 0, "Missing redirect_uri parameter."))
		return
	case q.Get("response_type") != "" && q.Get("response_type") != "code":
		writeAPIError(w, oauthError(100, 0, "Unsupported response_type"))
		return
	}
	if q.Has("config_id") {
		s.mu.Lock()
		c, e := s.configurationDialogLocked(q)
		s.mu.Unlock()
		if e != nil {
			writeAPIError(w, e)
			return
		}
		s.redirectFromDialog(w, r, dialogGrant{product: productFacebook, configID: c.ID, scopes: c.Scopes}, "#_=_")
		return
	}
	scopes := splitScopes(q.Get("scope"))
	for _, sc := range scopes {
		if !facebookScope(sc) {
			writeAPIError(w, oauthError(100, 0, "Invalid Scopes: "+sc))
			return
		}
	}
	s.redirectFromDialog(w, r, dialogGrant{product: productFacebook, scopes: scopes}, "#_=_")
}

// facebookAccessToken is graph.facebook.com[/{version}]/oauth/access_token,
// which serves three grants; each is counted as its own endpoint.
func (s *Server) facebookAccessToken(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	if err := r.ParseForm(); err != nil { // GET query or POST form: Facebook takes both
		writeAPIError(w, oauthError(100, 0, "Invalid request body"))
		return
	}
	switch r.Form.Get("grant_type") {
	case "client_credentials":
		s.serve(EndpointAppToken, w, r, s.appToken)
	case "fb_exchange_token":
		s.serve(EndpointFacebookExchangeToken, w, r, s.facebookExchangeToken)
	default:
		s.serve(EndpointFacebookExchangeCode, w, r, s.facebookExchangeCode)
	}
}

func (s *Server) checkClient(r *http.Request) *apiError {
	switch {
	case r.Form.Get("client_id") != s.appID:
		return errInvalidAppID()
	case r.Form.Get("client_secret") != s.appSecret:
		return errInvalidSecret()
	}
	return nil
}

func (s *Server) facebookExchangeCode(w http.ResponseWriter, r *http.Request) {
	if e := s.checkClient(r); e != nil {
		writeAPIError(w, e)
		return
	}
	if gt := r.Form.Get("grant_type"); gt != "" && gt != "authorization_code" {
		writeAPIError(w, oauthError(100, 0, "Unsupported grant_type"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	c, e := s.redeemGraphCodeLocked(productFacebook, r.Form.Get("code"), r.Form.Get("redirect_uri"), now)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	if conf := s.state.configs[c.configID]; conf != nil && conf.TokenKind == ConfigSystemUserToken {
		// A system-user configuration: the exchange gives the business's
		// BISU token, with the lifetime the configuration fixed;
		// expires_in only when it expires.
		tok := s.state.mintSystemUserToken(c.userID, c.scopes, now, conf.Expiring)
		body := map[string]any{"access_token": tok, "token_type": "bearer"}
		if exp := s.state.tokens[tok].ExpiresAt; !exp.IsZero() {
			body["expires_in"] = expiresIn(exp, now)
		}
		writeJSON(w, http.StatusOK, body)
		return
	}
	tok := s.state.mintToken(KindFacebookUser, c.userID, c.scopes, now)
	writeJSON(w, http.StatusOK, longLivedBody(tok, now.Add(FacebookUserLifetime), now))
}

// redeemGraphCodeLocked uses up a code at a Graph host's code exchange
// (graph.facebook.com, graph.threads.net), or answers with the Graph error
// that host gives: a code of another product is unknown there, and a
// redirect_uri mismatch leaves the code usable.
func (s *Server) redeemGraphCodeLocked(p product, code, redirectURI string, now time.Time) (*codeRecord, *apiError) {
	c, ok := s.state.codes[code]
	switch {
	case !ok || c.product != p:
		return nil, oauthError(100, 0, "Invalid verification code format.")
	case c.used:
		return nil, oauthError(100, 36009, "This authorization code has been used.")
	case !now.Before(c.expiresAt):
		return nil, oauthError(100, 0, "This authorization code has expired.")
	case c.redirectURI != redirectURI:
		return nil, oauthError(100, 36008, "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request")
	}
	c.used = true
	return c, nil
}

func (s *Server) facebookExchangeToken(w http.ResponseWriter, r *http.Request) {
	if e := s.checkClient(r); e != nil {
		writeAPIError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.state.tokens[r.Form.Get("fb_exchange_token")]; ok && rec.Kind == KindSystemUser {
		// Meta documents fb_exchange_token for user tokens only and no
		// answer for a system user's, whose lifetime its configuration
		// fixed. The fake refuses, so a plugin that sends one is caught.
		writeAPIError(w, oauthError(100, 0, "fb_exchange_token exchanges user access tokens only; this is a system user access token"))
		return
	}
	rec, e := s.checkTokenLocked(r.Form.Get("fb_exchange_token"), KindFacebookUser, KindFacebookLongUser)
	if e != nil {
		writeAPIError(w, e)
		return
	}
	now := s.nowLocked()
	tok := s.state.mintToken(KindFacebookLongUser, rec.UserID, rec.Scopes, now)
	writeJSON(w, http.StatusOK, longLivedBody(tok, now.Add(LongLivedLifetime), now))
}

// appToken answers the client-credentials grant. Facebook app tokens do
// not expire, so there is no expires_in.
func (s *Server) appToken(w http.ResponseWriter, r *http.Request) {
	if e := s.checkClient(r); e != nil {
		writeAPIError(w, e)
		return
	}
	s.mu.Lock()
	tok := s.appID + "|" + newSecret("")
	s.state.tokens[tok] = &tokenRecord{TokenState: TokenState{Kind: KindApp, IssuedAt: s.nowLocked()}}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer"})
}

// isAppTokenLocked accepts the literal "{app-id}|{app-secret}" and tokens
// from the client-credentials grant.
func (s *Server) isAppTokenLocked(tok string) bool {
	if tok == s.appID+"|"+s.appSecret {
		return true
	}
	rec, ok := s.state.tokens[tok]
	return ok && rec.Kind == KindApp && !rec.Revoked
}

// pageField reports whether me/accounts serves the field.
func pageField(f string) bool {
	switch f {
	case "id", "name", "access_token", "instagram_business_account":
		return true
	}
	return false
}

// pages is graph.facebook.com[/{version}]/me/accounts, paged by ?limit=
// and ?after= like Meta's cursor paging.
func (s *Server) pages(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	tok := tokenParam(r)
	fields := splitScopes(r.FormValue("fields"))
	if len(fields) == 0 {
		fields = []string{"id", "name", "access_token"}
	}
	for _, f := range fields {
		if !pageField(f) {
			writeAPIError(w, oauthError(100, 0, "Tried accessing nonexisting field ("+f+") on node type (Page)"))
			return
		}
	}
	limit, err := strconv.Atoi(r.FormValue("limit"))
	if err != nil || limit <= 0 {
		limit = 25
	}
	start := 0
	if a := r.FormValue("after"); a != "" {
		b, err := base64.RawURLEncoding.DecodeString(a)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			writeAPIError(w, oauthError(100, 0, "Invalid after cursor"))
			return
		}
		start = n
	}

	s.mu.Lock()
	// A system user reaches the Pages its business granted in the
	// configuration; the fake grants those of the user who authorized.
	rec, e := s.checkTokenLocked(tok, KindFacebookUser, KindFacebookLongUser, KindSystemUser)
	if e == nil {
		e = s.checkProof(r, tok)
	}
	if e != nil {
		s.mu.Unlock()
		writeAPIError(w, e)
		return
	}
	all := s.state.pagesOf(rec.UserID)
	end := min(start+limit, len(all))
	start = min(start, end)
	data := make([]map[string]any, 0, end-start)
	for _, p := range all[start:end] {
		data = append(data, s.pageJSONLocked(p, rec, fields))
	}
	s.mu.Unlock()

	cursor := func(n int) string { return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(n))) }
	paging := map[string]any{"cursors": map[string]string{"before": cursor(start), "after": cursor(end)}}
	if end < len(all) {
		next := url.Values{}
		for k, v := range r.Form {
			next[k] = v
		}
		next.Set("after", cursor(end))
		paging["next"] = "http://" + r.Host + r.URL.Path + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "paging": paging})
}

// pageJSONLocked renders one Page, minting its token on first need: a Page
// token derived this way does not expire, and Meta hands back the same one.
func (s *Server) pageJSONLocked(p *Page, user *tokenRecord, fields []string) map[string]any {
	out := map[string]any{}
	for _, f := range fields {
		switch f {
		case "id":
			out["id"] = p.ID
		case "name":
			out["name"] = p.Name
		case "instagram_business_account":
			if p.InstagramBusinessAccountID != "" {
				out[f] = map[string]string{"id": p.InstagramBusinessAccountID}
			}
		case "access_token":
			tok, ok := s.state.pageTokens[p.ID]
			if rec := s.state.tokens[tok]; !ok || rec.Revoked {
				tok = s.state.mintToken(KindPage, p.OwnerUserID, user.Scopes, s.nowLocked())
				s.state.tokens[tok].PageID = p.ID
				s.state.pageTokens[p.ID] = tok
			}
			out[f] = tok
		}
	}
	return out
}

// debugToken is graph.facebook.com[/{version}]/debug_token. The caller
// authenticates with an app token or a live Facebook user token.
func (s *Server) debugToken(w http.ResponseWriter, r *http.Request) {
	if badVersion(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if caller := tokenParam(r); !s.isAppTokenLocked(caller) {
		if _, e := s.checkTokenLocked(caller, KindFacebookUser, KindFacebookLongUser, KindSystemUser); e != nil {
			writeAPIError(w, e)
			return
		}
	}
	input := r.FormValue("input_token")
	if input == "" {
		writeAPIError(w, oauthError(100, 0, "The parameter input_token is required"))
		return
	}
	rec, ok := s.state.tokens[input]
	if !ok || rec.Kind.instagram() || rec.Kind.threads() {
		// Instagram Login and Threads tokens are unknown to graph.facebook.com.
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
			"error":    map[string]any{"code": 190, "message": errCannotParseToken().message},
			"is_valid": false,
			"scopes":   []string{},
		}})
		return
	}
	data := map[string]any{
		"app_id":      s.appID,
		"application": "Fake App",
		"type":        debugType(rec.Kind),
		"is_valid":    true,
		"issued_at":   rec.IssuedAt.Unix(),
		"expires_at":  int64(0),
		"scopes":      append([]string{}, rec.Scopes...),
	}
	if !rec.ExpiresAt.IsZero() {
		data["expires_at"] = rec.ExpiresAt.Unix()
	}
	switch rec.Kind {
	case KindApp:
	case KindSystemUser:
		// A system user is no person: its own id, and no 90-day data
		// access window (the fake reports none).
		data["user_id"] = rec.SystemUserID
	default:
		data["data_access_expires_at"] = rec.IssuedAt.Add(DataAccessLifetime).Unix()
		data["user_id"] = s.state.byKey[rec.UserID].ID
	}
	if rec.PageID != "" {
		data["profile_id"] = rec.PageID
	}
	if e := s.liveLocked(rec); e != nil {
		data["is_valid"] = false
		data["error"] = map[string]any{"code": e.code, "subcode": e.subcode, "message": e.message}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

// debugType is debug_token's name for a token kind.
func debugType(k TokenKind) string {
	switch k {
	case KindPage:
		return "PAGE"
	case KindApp:
		return "APP"
	case KindSystemUser:
		return "SYSTEM_USER"
	}
	return "USER"
}
