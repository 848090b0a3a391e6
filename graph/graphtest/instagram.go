package graphtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// instagramScope reports whether Meta accepts name as an Instagram Login
// scope; the old business_* names were retired on 2025-01-27.
func instagramScope(name string) bool {
	switch name {
	case "instagram_business_basic", "instagram_business_content_publish",
		"instagram_business_manage_messages", "instagram_business_manage_comments",
		"instagram_business_manage_insights":
		return true
	}
	return false
}

// versionPattern is the shape of a Graph API version path element.
var versionPattern = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// splitScopes splits Meta's comma-separated scope list (spaces tolerated).
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// authorize is the Instagram Login dialog. The fake's user approves at
// once, as the default user or as ?fake_user=<username>, unless the query
// has fake_deny=1.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != s.appID:
		writeFlatError(w, "Invalid platform app")
		return
	case q.Get("redirect_uri") == "":
		writeFlatError(w, "Invalid redirect_uri")
		return
	case q.Get("response_type") != "code":
		writeFlatError(w, "Invalid response_type: must be code")
		return
	}
	scopes := splitScopes(q.Get("scope"))
	var bad []string
	for _, sc := range scopes {
		if !instagramScope(sc) {
			bad = append(bad, sc)
		}
	}
	if len(bad) > 0 {
		writeFlatError(w, "Invalid Scopes: "+strings.Join(bad, ", "))
		return
	}
	s.redirectFromDialog(w, r, dialogGrant{product: productInstagram, scopes: scopes}, "#_")
}

// dialogGrant is what a login dialog's consent grants: the product, the
// Facebook Login for Business configuration if any, and the permissions.
type dialogGrant struct {
	product  product
	configID string
	scopes   []string
}

// redirectFromDialog answers a login dialog: a 302 to redirect_uri with a
// code (or with Meta's denial parameters), state echoed, and the fragment
// Meta appends; or, with consent pages on, first the page asking for
// consent.
func (s *Server) redirectFromDialog(w http.ResponseWriter, r *http.Request, g dialogGrant, fragment string) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	target, err := url.Parse(redirectURI)
	if err != nil || !target.IsAbs() {
		writeFlatError(w, "Invalid redirect_uri")
		return
	}
	if s.wantsConsentPage(q) {
		s.writeConsentPage(w, r, g)
		return
	}
	params := target.Query()
	if q.Get("fake_deny") == "1" {
		params.Set("error", "access_denied")
		params.Set("error_reason", "user_denied")
		params.Set("error_description", "The user denied your request.")
	} else {
		s.mu.Lock()
		u := s.state.defaultUser()
		if name := q.Get("fake_user"); name != "" {
			u = s.resolveUserLocked(name)
		}
		code := s.state.mintCode(g.product, u.UserID, g.scopes, redirectURI, s.nowLocked())
		s.state.codes[code].configID = g.configID
		params.Set("code", code)
		s.mu.Unlock()
	}
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	target.RawQuery = params.Encode()
	target.Fragment = ""
	http.Redirect(w, r, target.String()+fragment, http.StatusFound)
}

// exchangeCode is api.instagram.com/oauth/access_token: code for a
// short-lived token. Errors here are in the flat shape.
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeFlatError(w, "Invalid request: this endpoint only accepts POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeFlatError(w, "Invalid request body")
		return
	}
	f := r.PostForm // the form body only, as Meta reads it
	for _, p := range []string{"client_id", "client_secret", "grant_type", "redirect_uri", "code"} {
		if f.Get(p) == "" {
			writeFlatError(w, "Missing required parameter: "+p)
			return
		}
	}
	if f.Get("client_id") != s.appID || f.Get("client_secret") != s.appSecret {
		writeFlatError(w, "Invalid platform app")
		return
	}
	if f.Get("grant_type") != "authorization_code" {
		writeFlatError(w, "Unsupported grant_type")
		return
	}

	s.mu.Lock()
	now := s.nowLocked()
	c, ok := s.state.codes[f.Get("code")]
	var msg string
	switch {
	case !ok || c.product != productInstagram || !now.Before(c.expiresAt):
		msg = "Matching code was not found or was already used"
	case c.used:
		msg = "This authorization code has been used"
	case c.redirectURI != f.Get("redirect_uri"):
		// The code stays usable: Meta documents no penalty for a mismatch.
		msg = "Redirect URI doesn't match original redirect URI"
	}
	if msg != "" {
		s.mu.Unlock()
		writeFlatError(w, msg)
		return
	}
	c.used = true
	tok := s.state.mintToken(KindShortLived, c.userID, c.scopes, now)
	s.exchanges++
	flat := s.shape == ShapeFlat || (s.shape == ShapeAlternate && s.exchanges%2 == 0)
	s.mu.Unlock()

	if flat {
		// user_id as a bare JSON number above 2^53, permissions as an array.
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": tok,
			"user_id":      json.RawMessage(c.userID),
			"permissions":  append([]string{}, c.scopes...),
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": []map[string]any{{
		"access_token": tok,
		"user_id":      c.userID,
		"permissions":  strings.Join(c.scopes, ","),
	}}})
}

// igExchangeToken is graph.instagram.com/access_token: a short-lived
// token for a long-lived one.
func (s *Server) igExchangeToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAPIError(w, errUnsupportedMethod(r))
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "ig_exchange_token" {
		writeAPIError(w, igError(100, "Unsupported grant_type: expected ig_exchange_token"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, apiErr := s.checkTokenLocked(q.Get("access_token"), KindShortLived, KindLongLived)
	switch {
	case apiErr != nil:
	case q.Get("client_secret") != s.appSecret || rec.Kind != KindShortLived:
		// What Meta answers for another app's secret or a long-lived token.
		apiErr = errUnsupportedMethod(r)
	}
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	now := s.nowLocked()
	tok := s.state.mintToken(KindLongLived, rec.UserID, rec.Scopes, now)
	writeJSON(w, http.StatusOK, longLivedBody(tok, now.Add(LongLivedLifetime), now))
}

// refresh is graph.instagram.com/refresh_access_token.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAPIError(w, errUnsupportedMethod(r))
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "ig_refresh_token" {
		writeAPIError(w, igError(100, "Unsupported grant_type: expected ig_refresh_token"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	old := q.Get("access_token")
	rec, apiErr := s.checkTokenLocked(old, KindShortLived, KindLongLived)
	switch {
	case apiErr != nil:
	case rec.Kind != KindLongLived:
		apiErr = errUnsupportedMethod(r)
	case now.Sub(rec.IssuedAt) < MinRefreshAge:
		// Meta leaves the answer for a token younger than 24 hours
		// undocumented. The fake answers code 100 (invalid parameter):
		// retrying cannot help until the token is old enough, and a
		// plugin must not send such a refresh in the first place.
		apiErr = igError(100, "The access token is too new to be refreshed: a long-lived token can be refreshed once it is at least 24 hours old")
	default:
		// Meta's reference lists no appsecret_proof here; the fake holds
		// the refresh to the rule of every Graph call with a user token
		// (see graph.Client.Refresh): a wrong proof fails, and a missing
		// one when the app requires it.
		apiErr = s.checkProof(r, old)
	}
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, s.renewLocked(old, rec, now))
}

// renewLocked is a refresh's success, for Instagram Login and Threads
// alike: 60 days from now, on a new token string (the old one keeping its
// own expiry) or, without rotation, on the same one.
func (s *Server) renewLocked(old string, rec *tokenRecord, now time.Time) map[string]any {
	expires := now.Add(LongLivedLifetime)
	tok := old
	if s.rotate {
		tok = s.state.mintToken(rec.Kind, rec.UserID, rec.Scopes, now)
	} else {
		rec.IssuedAt, rec.ExpiresAt = now, expires
		s.state.latest[rec.UserID] = old
	}
	return longLivedBody(tok, expires, now)
}

func longLivedBody(tok string, expires, now time.Time) map[string]any {
	return map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": expiresIn(expires, now)}
}

// igMeField is the value of a graph.instagram.com/me field; false for a
// field the node does not have.
func igMeField(u *User, field string) (any, bool) {
	switch field {
	case "id":
		return u.ID, true
	case "user_id":
		return u.UserID, true
	case "username":
		return u.Username, true
	case "name":
		return "Fake " + u.Username, true
	case "account_type":
		return "BUSINESS", true
	case "profile_picture_url":
		return "https://example.invalid/" + u.Username + ".jpg", true
	case "followers_count", "media_count":
		return 0, true
	}
	return nil, false
}

// me is graph.instagram.com[/{version}]/me.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	if v := r.PathValue("version"); v != "" && !versionPattern.MatchString(v) {
		writeAPIError(w, igError(100, "Unknown path components: /"+v+"/me"))
		return
	}
	s.answerMe(w, r, meNode{kinds: []TokenKind{KindShortLived, KindLongLived}, field: igMeField})
}

// meNode is one host's /me: the tokens it knows, what else it asks of the
// token, and its fields.
type meNode struct {
	kinds []TokenKind
	check func(*tokenRecord) *apiError // nil: nothing more
	field func(*User, string) (any, bool)
}

// answerMe answers /me for node: the token checked (then node.check, then
// appsecret_proof), and the fields asked for, "id" when none; a field the
// node does not have fails the call, as Graph does.
func (s *Server) answerMe(w http.ResponseWriter, r *http.Request, node meNode) {
	tok := tokenParam(r)
	s.mu.Lock()
	rec, apiErr := s.checkTokenLocked(tok, node.kinds...)
	var u User
	if apiErr == nil {
		u = *s.state.byKey[rec.UserID]
		if node.check != nil {
			apiErr = node.check(rec)
		}
	}
	if apiErr == nil {
		apiErr = s.checkProof(r, tok)
	}
	s.mu.Unlock()
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	fields := splitScopes(r.FormValue("fields"))
	if len(fields) == 0 {
		fields = []string{"id"}
	}
	out := map[string]any{}
	for _, f := range fields {
		v, ok := node.field(&u, f)
		if !ok {
			writeAPIError(w, oauthError(100, 0, "Tried accessing nonexisting field ("+f+") on node type (User)"))
			return
		}
		out[f] = v
	}
	writeJSON(w, http.StatusOK, out)
}
