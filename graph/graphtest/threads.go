package graphtest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Threads (the Threads API): Instagram Login's token model on hosts of its
// own, threads.net (the dialog) and graph.threads.net (everything else),
// with Graph-style errors everywhere, the code exchange's included. Its
// tokens are kinds of their own: graph.instagram.com and graph.facebook.com
// do not know them, and graph.threads.net knows no other product's token or
// code, as at Meta.

// threadsBasic is the permission every Threads endpoint requires.
const threadsBasic = "threads_basic"

// threadsScope reports whether Meta accepts name as a Threads permission.
func threadsScope(name string) bool {
	switch name {
	case threadsBasic, "threads_content_publish", "threads_manage_replies",
		"threads_read_replies", "threads_manage_insights":
		return true
	}
	return false
}

// threadsKinds are the tokens graph.threads.net knows.
func threadsKinds() []TokenKind { return []TokenKind{KindThreadsShortLived, KindThreadsLongLived} }

// errThreadsBasicMissing is the answer to a token granted without
// threads_basic. Meta documents the rule (every endpoint, the refresh
// included, needs the permission) but not its answer; the fake gives
// Graph's permission error, code 10, which asks for re-authorization.
func errThreadsBasicMissing() *apiError {
	return oauthError(10, 0, "(#10) Application does not have permission for this action: threads_basic was not granted")
}

// requireThreadsBasic is nil for a token granted threads_basic.
func requireThreadsBasic(rec *tokenRecord) *apiError {
	if !slices.Contains(rec.Scopes, threadsBasic) {
		return errThreadsBasicMissing()
	}
	return nil
}

// errThreadsMethod is graph.threads.net's answer to a token request sent
// with the wrong method, the wrong kind of token or another app's secret.
// Meta documents none of these answers; the fake gives graph.instagram.com's
// (code 100, a permanent refusal), the host Threads' token model follows.
func errThreadsMethod(r *http.Request) *apiError {
	return oauthError(100, 0, "Unsupported request - method type: "+strings.ToLower(r.Method))
}

// threadsScopesOrBasic is scopes, or threads_basic alone when there are
// none: every grant the Threads dialog makes has it (the dialog refuses a
// request without it), so that is what a code or token minted without a
// word about scopes carries. To mint one without threads_basic, name
// other scopes.
func threadsScopesOrBasic(scopes []string) []string {
	if len(scopes) == 0 {
		return []string{threadsBasic}
	}
	return scopes
}

// threadsAuthorize is the Threads dialog (threads.net/oauth/authorize).
// Like the other dialogs it approves at once (or shows the consent page),
// as ?fake_user=<username> when given, unless fake_deny=1; Threads appends
// "#_" to the redirect. Meta requires threads_basic in scope: the fake
// refuses a scope list without it, which catches a plugin that forgets it
// (Meta's own answer to that is not documented).
func (s *Server) threadsAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("client_id") != s.appID:
		writeAPIError(w, errInvalidAppID())
		return
	case q.Get("redirect_uri") == "":
		writeAPIError(w, oauthError(100, 0, "Missing redirect_uri parameter."))
		return
	case q.Get("response_type") != "code":
		writeAPIError(w, oauthError(100, 0, "Unsupported response_type: must be code"))
		return
	}
	// Comma- or space-separated, as Meta's Threads page allows.
	scopes := splitScopes(q.Get("scope"))
	for _, sc := range scopes {
		if !threadsScope(sc) {
			writeAPIError(w, oauthError(100, 0, "Invalid Scopes: "+sc))
			return
		}
	}
	if !slices.Contains(scopes, threadsBasic) {
		writeAPIError(w, oauthError(100, 0, "Invalid Scopes: threads_basic is required"))
		return
	}
	s.redirectFromDialog(w, r, dialogGrant{product: productThreads, scopes: scopes}, "#_")
}

// threadsExchangeCode is graph.threads.net/oauth/access_token: a Threads
// code (single use, one hour, bound to its redirect_uri) for a short-lived
// token, answered {"access_token","user_id"} with user_id a bare JSON
// number above 2^53 (the case a float64 decoder gets wrong). Errors are
// Graph's, as graph.facebook.com gives them for the same mistakes.
func (s *Server) threadsExchangeCode(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeAPIError(w, errThreadsMethod(r))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeAPIError(w, oauthError(100, 0, "Invalid request body"))
		return
	}
	for _, p := range []string{"client_id", "client_secret", "grant_type", "redirect_uri", "code"} {
		if r.Form.Get(p) == "" {
			writeAPIError(w, oauthError(100, 0, "Missing required parameter: "+p))
			return
		}
	}
	if e := s.checkClient(r); e != nil {
		writeAPIError(w, e)
		return
	}
	if r.Form.Get("grant_type") != "authorization_code" {
		// Threads' client_credentials grant (app tokens) is not modelled.
		writeAPIError(w, oauthError(100, 0, "Unsupported grant_type"))
		return
	}
	s.mu.Lock()
	now := s.nowLocked()
	c, e := s.redeemGraphCodeLocked(productThreads, r.Form.Get("code"), r.Form.Get("redirect_uri"), now)
	if e != nil {
		s.mu.Unlock()
		writeAPIError(w, e)
		return
	}
	tok := s.state.mintToken(KindThreadsShortLived, c.userID, c.scopes, now)
	threadsID := s.state.byKey[c.userID].ThreadsUserID
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "user_id": json.RawMessage(threadsID)})
}

// thExchangeToken is graph.threads.net/access_token
// (grant_type=th_exchange_token): a short-lived Threads token and the app
// secret for a 60-day token.
func (s *Server) thExchangeToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAPIError(w, errThreadsMethod(r))
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "th_exchange_token" {
		writeAPIError(w, oauthError(100, 0, "Unsupported grant_type: expected th_exchange_token"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, apiErr := s.checkTokenLocked(q.Get("access_token"), threadsKinds()...)
	switch {
	case apiErr != nil:
	case q.Get("client_secret") != s.appSecret || rec.Kind != KindThreadsShortLived:
		apiErr = errThreadsMethod(r)
	}
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	now := s.nowLocked()
	tok := s.state.mintToken(KindThreadsLongLived, rec.UserID, rec.Scopes, now)
	writeJSON(w, http.StatusOK, longLivedBody(tok, now.Add(LongLivedLifetime), now))
}

// threadsRefresh is graph.threads.net/refresh_access_token
// (grant_type=th_refresh_token): only a long-lived token at least 24 hours
// old, not expired, granted threads_basic; valid 60 days from the refresh.
// An unrefreshed token dies 60 days after its issue (liveLocked).
func (s *Server) threadsRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		writeAPIError(w, errThreadsMethod(r))
		return
	}
	q := r.URL.Query()
	if q.Get("grant_type") != "th_refresh_token" {
		writeAPIError(w, oauthError(100, 0, "Unsupported grant_type: expected th_refresh_token"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	old := q.Get("access_token")
	rec, apiErr := s.checkTokenLocked(old, threadsKinds()...)
	switch {
	case apiErr != nil:
	case rec.Kind != KindThreadsLongLived:
		apiErr = errThreadsMethod(r)
	case now.Sub(rec.IssuedAt) < MinRefreshAge:
		// Undocumented, like Instagram's: code 100, as the fake answers there.
		apiErr = oauthError(100, 0, "The access token is too new to be refreshed: a long-lived token can be refreshed once it is at least 24 hours old")
	default:
		if apiErr = requireThreadsBasic(rec); apiErr == nil {
			// As on graph.instagram.com (graph.Client.ThreadsRefresh says why).
			apiErr = s.checkProof(r, old)
		}
	}
	if apiErr != nil {
		writeAPIError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, s.renewLocked(old, rec, now))
}

// threadsMeField is the value of a graph.threads.net/me field.
func threadsMeField(u *User, field string) (any, bool) {
	switch field {
	case "id":
		return u.ThreadsUserID, true
	case "username":
		return u.Username, true
	case "name":
		return "Fake " + u.Username, true
	case "threads_profile_picture_url":
		return "https://example.invalid/threads/" + u.Username + ".jpg", true
	case "threads_biography":
		return "", true
	case "is_verified":
		return false, true
	}
	return nil, false
}

// threadsMe is graph.threads.net[/v1.0]/me. Threads has one version.
func (s *Server) threadsMe(w http.ResponseWriter, r *http.Request) {
	if v := r.PathValue("version"); v != "" && v != "v1.0" {
		writeAPIError(w, oauthError(100, 0, "Unknown path components: /"+v+"/me"))
		return
	}
	s.answerMe(w, r, meNode{kinds: threadsKinds(), check: requireThreadsBasic, field: threadsMeField})
}

// MintThreadsCode issues a Threads code for the user (UserID, ID, username
// or ThreadsUserID; an unknown name is added): one hour, single use, bound
// to redirectURI. No scopes: threads_basic.
func (s *Server) MintThreadsCode(userID string, scopes []string, redirectURI string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintCode(productThreads, s.resolveUserLocked(userID).UserID, threadsScopesOrBasic(scopes), redirectURI, s.nowLocked())
}

// MintThreadsShortLivedToken issues a Threads short-lived token (1 h from
// now). No scopes: threads_basic.
func (s *Server) MintThreadsShortLivedToken(userID string, scopes []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintToken(KindThreadsShortLived, s.resolveUserLocked(userID).UserID, threadsScopesOrBasic(scopes), s.nowLocked())
}

// MintThreadsLongLivedToken issues a Threads long-lived token issued at
// issuedAt, expiring 60 days later. No scopes: threads_basic.
func (s *Server) MintThreadsLongLivedToken(userID string, scopes []string, issuedAt time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintToken(KindThreadsLongLived, s.resolveUserLocked(userID).UserID, threadsScopesOrBasic(scopes), issuedAt)
}
