package graphtest

import (
	"net/url"
	"strconv"
	"time"
)

// Facebook Login for Business (docs/logins.md): a Business-type
// app makes configurations in its App Dashboard; the dialog takes one by
// config_id instead of scope, and the configuration fixes the permissions
// and the kind of token the code exchange gives: a user token, or a Business
// Integration System User (BISU) token that belongs to the client's business
// and never expires or lives 60 days.

// Configuration token kinds.
const (
	ConfigUserToken       = "user"
	ConfigSystemUserToken = "system_user"
)

// firstSystemUserID starts the ids of the system users the fake creates
// for the businesses that authorize (odd and above 2^53, like every id).
const firstSystemUserID = 61550000000000001

// Configuration is a Facebook Login for Business configuration.
type Configuration struct {
	ID string `json:"id"`
	// TokenKind is ConfigUserToken or ConfigSystemUserToken.
	TokenKind string `json:"token_kind"`
	// Expiring gives a system-user token a 60-day life; otherwise it
	// never expires. User tokens ignore it (they are ordinary user tokens).
	Expiring bool     `json:"expiring"`
	Scopes   []string `json:"scopes"`
}

// AddConfiguration registers a configuration, as a developer does in the
// App Dashboard, and returns it with its id (a fresh one when c.ID is
// empty). TokenKind defaults to a user token; scopes default to what an
// Instagram integration asks for.
func (s *Server) AddConfiguration(c Configuration) (Configuration, bool) {
	if c.TokenKind == "" {
		c.TokenKind = ConfigUserToken
	}
	if c.TokenKind != ConfigUserToken && c.TokenKind != ConfigSystemUserToken {
		return Configuration{}, false
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"instagram_basic", "pages_show_list", "pages_read_engagement", "business_management"}
	}
	for _, sc := range c.Scopes {
		if !facebookScope(sc) {
			return Configuration{}, false
		}
	}
	c.Scopes = append([]string(nil), c.Scopes...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		c.ID = strconv.FormatInt(firstConfigurationID+int64(len(s.state.configs)), 10)
	}
	stored := c
	s.state.configs[c.ID] = &stored
	return c, true
}

// firstConfigurationID starts the ids AddConfiguration hands out.
const firstConfigurationID = 871000000000001

// configurationDialogLocked checks a dialog request that carries config_id
// and returns the configuration. Meta's manual flow sends config_id in place
// of scope, with response_type=code and override_default_response_type=true
// (without the override a configuration answers in its default response
// type). The fake refuses what Meta would not serve as a code flow, and,
// stricter than Meta, a scope sent beside config_id, so that a plugin that
// mixes the two is caught here.
func (s *Server) configurationDialogLocked(q url.Values) (*Configuration, *apiError) {
	c, ok := s.state.configs[q.Get("config_id")]
	switch {
	case !ok:
		return nil, oauthError(100, 0, "Invalid config_id: no Facebook Login for Business configuration "+q.Get("config_id")+" for this app")
	case q.Has("scope"):
		return nil, oauthError(100, 0, "scope does not go with config_id: the configuration fixes the permissions")
	case q.Get("response_type") != "code" || q.Get("override_default_response_type") != "true":
		return nil, oauthError(100, 0, "A configuration's code flow needs response_type=code and override_default_response_type=true")
	}
	return c, nil
}

// systemUserLocked is the system user the fake keeps for the business of
// the user who authorizes: one per business, as Meta keeps one BISU per
// client business and app, so a second authorization yields the same id.
func (st *store) systemUserLocked(ownerUserID string) string {
	if id, ok := st.systemUsers[ownerUserID]; ok {
		return id
	}
	id := strconv.FormatInt(firstSystemUserID+userIDStride*int64(len(st.systemUsers)), 10)
	st.systemUsers[ownerUserID] = id
	return id
}

// mintSystemUserToken issues a BISU token for the business of ownerUserID:
// never expiring, or 60 days when expiring.
func (st *store) mintSystemUserToken(ownerUserID string, scopes []string, issuedAt time.Time, expiring bool) string {
	tok := st.mintToken(KindSystemUser, ownerUserID, scopes, issuedAt)
	rec := st.tokens[tok]
	rec.SystemUserID = st.systemUserLocked(ownerUserID)
	if expiring {
		rec.ExpiresAt = issuedAt.Add(LongLivedLifetime)
	}
	return tok
}

// MintSystemUserToken issues a Business Integration System User token for
// the business of the user (UserID, ID or username), as the code exchange
// of a system-user configuration does: never expiring, or 60 days.
func (s *Server) MintSystemUserToken(userID string, scopes []string, issuedAt time.Time, expiring bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state.mintSystemUserToken(s.resolveUserLocked(userID).UserID, scopes, issuedAt, expiring)
}
