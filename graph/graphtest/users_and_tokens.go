package graphtest

import "time"

// The exported operations on the fake's users, codes and tokens. Each
// takes Server.mu; the store underneath has no lock of its own.

// AddUser adds an account (or returns the existing one with that
// username), with a linked Facebook Page.
func (s *Server) AddUser(username string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.state.addUser(username)
}

// AddPage adds another Page managed by the user (no linked Instagram
// account), for tests of me/accounts paging.
func (s *Server) AddPage(userID, name string) (Page, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.state.user(userID)
	if !ok {
		return Page{}, false
	}
	return *s.state.addPage(u, name, false), true
}

// User looks a user up by UserID, ID, username or ThreadsUserID.
func (s *Server) User(key string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.state.user(key)
	if !ok {
		return User{}, false
	}
	return *u, true
}

// resolveUserLocked finds the user for key, adding one named key when unknown,
// so that tests and the admin API can mint for a name in one step.
func (s *Server) resolveUserLocked(key string) *User {
	if u, ok := s.state.user(key); ok {
		return u
	}
	return s.state.addUser(key)
}

// MintCode issues an Instagram Login code for the user (UserID, ID or
// username; an unknown name is added): one hour, single use, bound to
// redirectURI.
func (s *Server) MintCode(userID string, scopes []string, redirectURI string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintCode(productInstagram, s.resolveUserLocked(userID).UserID, scopes, redirectURI, s.nowLocked())
}

// MintFacebookCode issues a Facebook Login code, like MintCode.
func (s *Server) MintFacebookCode(userID string, scopes []string, redirectURI string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintCode(productFacebook, s.resolveUserLocked(userID).UserID, scopes, redirectURI, s.nowLocked())
}

// MintShortLivedToken issues an Instagram short-lived token (1 h from now).
func (s *Server) MintShortLivedToken(userID string, scopes []string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintToken(KindShortLived, s.resolveUserLocked(userID).UserID, scopes, s.nowLocked())
}

// MintLongLivedToken issues an Instagram long-lived token issued at
// issuedAt, expiring 60 days later.
func (s *Server) MintLongLivedToken(userID string, scopes []string, issuedAt time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintToken(KindLongLived, s.resolveUserLocked(userID).UserID, scopes, issuedAt)
}

// MintFacebookUserToken issues a Facebook Login user token issued at
// issuedAt: short-lived (2 h) or long-lived (60 days).
func (s *Server) MintFacebookUserToken(userID string, scopes []string, issuedAt time.Time, longLived bool) string {
	kind := KindFacebookUser
	if longLived {
		kind = KindFacebookLongUser
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintToken(kind, s.resolveUserLocked(userID).UserID, scopes, issuedAt)
}

// Revoke invalidates one token: using it answers code 190, subcode 467
// (invalid session).
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.state.tokens[token]; ok {
		rec.Revoked, rec.revokeSubcode = true, subcodeInvalidSession
	}
}

// RevokeUser invalidates every token of the user (UserID, ID or username),
// Page tokens included, as a password change does: code 190, subcode 460.
// A system-user token of the user's business is not the user's and stays
// valid (revoke it with Revoke).
func (s *Server) RevokeUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.state.user(userID)
	if !ok {
		return
	}
	for _, rec := range s.state.tokens {
		if rec.UserID == u.UserID && rec.Kind != KindSystemUser {
			rec.Revoked, rec.revokeSubcode = true, subcodePasswordChanged
		}
	}
}

// TokenInfo reports what the fake knows of token.
func (s *Server) TokenInfo(token string) (TokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.state.tokens[token]
	if !ok {
		return TokenState{}, false
	}
	st := rec.TokenState
	st.Scopes = append([]string(nil), st.Scopes...)
	return st, true
}

// CurrentToken is the newest token minted for the user (UserID, ID or
// username), of any kind; "" if none.
func (s *Server) CurrentToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.state.user(userID)
	if !ok {
		return ""
	}
	return s.state.latest[u.UserID]
}
