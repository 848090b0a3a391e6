package graphtest

import "net/http"

// A client business that uninstalls the app (Business Settings > Business
// integrations > Remove) ends the Business Integration System User Meta
// made for it: Meta announces it to the app's webhook
// (business_integration_uninstall) and the system user's tokens stop
// working. The fake has no webhooks; it only does the second part, which is
// what the engine can observe (its hourly debug_token check).

// subcodeAppNotInstalled is code 190's subcode for a token whose owner no
// longer has the app (Meta's 458, "app not installed").
const subcodeAppNotInstalled = 458

// UninstallBusiness has the business of the user (UserID, ID or username)
// uninstall the app: every system-user token of that business answers code
// 190, subcode 458 from now on, at debug_token and in use. The person's own
// tokens and other businesses' tokens are untouched; authorizing again
// gives a working token for the same system user.
//
// Page tokens got through the system user are left alone: the fake keeps
// one token per Page whoever asked for it, and Meta does not document
// whether an uninstall ends them.
func (s *Server) UninstallBusiness(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.state.user(userID)
	if !ok {
		return
	}
	for _, rec := range s.state.tokens {
		if rec.UserID == u.UserID && rec.Kind == KindSystemUser {
			rec.Revoked, rec.revokeSubcode = true, subcodeAppNotInstalled
		}
	}
}

func (s *Server) adminBusinessUninstall(req *adminRequest) (any, error) {
	if req.Username == "" {
		return nil, badRequest("username is required: the user whose business uninstalls the app")
	}
	if _, ok := s.User(req.Username); !ok {
		return nil, &adminError{http.StatusNotFound, "no such user"}
	}
	s.UninstallBusiness(req.Username)
	return map[string]bool{"uninstalled": true}, nil
}
