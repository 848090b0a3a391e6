package graphtest

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// The admin API under /_fake/ lets a script (make dev, e2e) do what tests
// do in process: add users, mint codes and tokens, revoke, read counters,
// move the clock and inject failures. Requests and answers are JSON.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /_fake/users", admin(s.adminAddUser))
	mux.HandleFunc("POST /_fake/codes", admin(s.adminMintCode))
	mux.HandleFunc("POST /_fake/configurations", admin(s.adminAddConfiguration))
	mux.HandleFunc("POST /_fake/tokens", admin(s.adminMintToken))
	mux.HandleFunc("POST /_fake/token-info", admin(s.adminTokenInfo))
	mux.HandleFunc("POST /_fake/current-token", admin(s.adminCurrentToken))
	mux.HandleFunc("POST /_fake/revoke", admin(s.adminRevoke))
	mux.HandleFunc("POST /_fake/business-uninstall", admin(s.adminBusinessUninstall))
	mux.HandleFunc("GET /_fake/calls", admin(s.adminCalls))
	mux.HandleFunc("POST /_fake/last-request", admin(s.adminLastRequest))
	mux.HandleFunc("POST /_fake/clock", admin(s.adminClock))
	mux.HandleFunc("POST /_fake/latency", admin(s.adminLatency))
	mux.HandleFunc("POST /_fake/fail", admin(s.adminFail))
	mux.HandleFunc("DELETE /_fake/fail", admin(s.adminClearFailures))
	mux.HandleFunc("POST /_fake/app-problem", admin(s.adminAppProblem))
}

// adminRequest is the union of every admin body; each handler reads its
// own fields.
type adminRequest struct {
	Username    string          `json:"username"`
	Scopes      []string        `json:"scopes"`
	RedirectURI string          `json:"redirect_uri"`
	Login       string          `json:"login"`      // codes: "instagram" (default), "facebook" or "threads"
	Kind        TokenKind       `json:"kind"`       // tokens: short (default), long, facebook, facebook_long, system_user, threads_short, threads_long
	Expiring    bool            `json:"expiring"`   // configurations, system_user tokens: 60 days instead of never
	TokenKind   string          `json:"token_kind"` // configurations: user (default) or system_user
	ID          string          `json:"id"`         // configurations: the id to use; default a fresh one
	IssuedAt    json.RawMessage `json:"issued_at"`  // tokens: RFC 3339 or Unix seconds; default now
	AccessToken string          `json:"access_token"`
	Advance     string          `json:"advance"` // clock: a Go duration, "25h"
	Latency     string          `json:"latency"` // latency: a Go duration, "100ms"; "0s" for none
	Endpoint    string          `json:"endpoint"`
	N           int             `json:"n"`
	Failure     Failure         `json:"failure"`
	AppProblem  string          `json:"app_problem"` // app-problem: a graph.AppProblemKind, "" for none
}

type adminError struct {
	status int
	msg    string
}

func (e *adminError) Error() string { return e.msg }

func badRequest(msg string) error { return &adminError{http.StatusBadRequest, msg} }

func admin(h func(*adminRequest) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req adminRequest
		if r.Method != http.MethodGet && r.ContentLength != 0 {
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
				return
			}
		}
		out, err := h(&req)
		if err != nil {
			status := http.StatusInternalServerError
			var ae *adminError
			if errors.As(err, &ae) {
				status = ae.status
			}
			writeJSON(w, status, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) adminAddUser(req *adminRequest) (any, error) {
	if req.Username == "" {
		return nil, badRequest("username is required")
	}
	return s.AddUser(req.Username), nil
}

// adminUser is the named user, or the dialogs' default user.
func (s *Server) adminUser(username string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if username == "" {
		return *s.state.defaultUser()
	}
	return *s.resolveUserLocked(username)
}

func (s *Server) adminMintCode(req *adminRequest) (any, error) {
	if req.RedirectURI == "" {
		return nil, badRequest("redirect_uri is required")
	}
	u := s.adminUser(req.Username)
	var code string
	userID := u.UserID // the id the product's code exchange answers
	switch req.Login {
	case "", "instagram":
		code = s.MintCode(u.UserID, req.Scopes, req.RedirectURI)
	case "facebook":
		code = s.MintFacebookCode(u.UserID, req.Scopes, req.RedirectURI)
	case "threads":
		code = s.MintThreadsCode(u.UserID, req.Scopes, req.RedirectURI)
		userID = u.ThreadsUserID
	default:
		return nil, badRequest(`login must be "instagram", "facebook" or "threads"`)
	}
	return map[string]string{"code": code, "user_id": userID}, nil
}

func (s *Server) adminMintToken(req *adminRequest) (any, error) {
	issuedAt, err := parseAdminTime(req.IssuedAt)
	if err != nil {
		return nil, err
	}
	if issuedAt.IsZero() {
		issuedAt = s.Now()
	}
	u := s.adminUser(req.Username)
	var tok string
	switch req.Kind {
	case "", KindShortLived:
		// Short-lived tokens are always issued now: their point is the
		// hour they have left.
		tok = s.MintShortLivedToken(u.UserID, req.Scopes)
	case KindLongLived:
		tok = s.MintLongLivedToken(u.UserID, req.Scopes, issuedAt)
	case KindFacebookUser, KindFacebookLongUser:
		tok = s.MintFacebookUserToken(u.UserID, req.Scopes, issuedAt, req.Kind == KindFacebookLongUser)
	case KindSystemUser:
		tok = s.MintSystemUserToken(u.UserID, req.Scopes, issuedAt, req.Expiring)
	case KindThreadsShortLived:
		// Issued now, like Instagram's short-lived tokens.
		tok = s.MintThreadsShortLivedToken(u.UserID, req.Scopes)
	case KindThreadsLongLived:
		tok = s.MintThreadsLongLivedToken(u.UserID, req.Scopes, issuedAt)
	default:
		return nil, badRequest("kind must be short, long, facebook, facebook_long, system_user, threads_short or threads_long")
	}
	st, _ := s.TokenInfo(tok)
	userID := u.UserID
	if st.Kind.threads() {
		userID = u.ThreadsUserID // the id graph.threads.net knows the user by
	}
	return map[string]any{"access_token": tok, "user_id": userID, "kind": st.Kind, "issued_at": st.IssuedAt, "expires_at": st.ExpiresAt}, nil
}

// parseAdminTime reads an RFC 3339 string or Unix seconds; absent is zero.
func parseAdminTime(raw json.RawMessage) (time.Time, error) {
	if isNullJSON(raw) {
		return time.Time{}, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(n, 0).UTC(), nil
		}
		return time.Time{}, badRequest("issued_at must be RFC 3339 or Unix seconds")
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return time.Time{}, badRequest("issued_at must be RFC 3339 or Unix seconds")
	}
	return time.Unix(n, 0).UTC(), nil
}

func isNullJSON(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func (s *Server) adminTokenInfo(req *adminRequest) (any, error) {
	st, ok := s.TokenInfo(req.AccessToken)
	if !ok {
		return nil, &adminError{http.StatusNotFound, "unknown token"}
	}
	return st, nil
}

func (s *Server) adminCurrentToken(req *adminRequest) (any, error) {
	tok := s.CurrentToken(req.Username)
	if tok == "" {
		return nil, &adminError{http.StatusNotFound, "no token for that user"}
	}
	return map[string]string{"access_token": tok}, nil
}

func (s *Server) adminRevoke(req *adminRequest) (any, error) {
	switch {
	case req.AccessToken != "":
		s.Revoke(req.AccessToken)
	case req.Username != "":
		s.RevokeUser(req.Username)
	default:
		return nil, badRequest("access_token or username is required")
	}
	return map[string]bool{"revoked": true}, nil
}

// adminLastRequest answers the parameters of the last request an endpoint
// received ({"endpoint":"me"}): what Meta saw, token and proof included.
func (s *Server) adminLastRequest(req *adminRequest) (any, error) {
	if req.Endpoint == "" {
		return nil, badRequest("endpoint is required")
	}
	last := s.LastRequest(req.Endpoint)
	if last == nil {
		return nil, &adminError{http.StatusNotFound, "no request to that endpoint yet"}
	}
	return map[string]any{"endpoint": req.Endpoint, "params": last}, nil
}

func (s *Server) adminCalls(*adminRequest) (any, error) {
	return map[string]any{"calls": s.AllCalls(), "max_concurrent": s.MaxConcurrent()}, nil
}

func (s *Server) adminClock(req *adminRequest) (any, error) {
	if req.Advance != "" {
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d < 0 {
			return nil, badRequest(`advance must be a non-negative Go duration such as "25h"`)
		}
		s.Advance(d)
	}
	return map[string]time.Time{"now": s.Now()}, nil
}

// maxAdminLatency bounds POST /_fake/latency: longer than any caller's
// timeout is a hang, which POST /_fake/fail injects explicitly.
const maxAdminLatency = 60 * time.Second

// adminLatency sets the delay of every endpoint request (SetLatency), for a
// process that runs the fake apart, such as the benchmark.
func (s *Server) adminLatency(req *adminRequest) (any, error) {
	d, err := time.ParseDuration(req.Latency)
	if err != nil || d < 0 || d > maxAdminLatency {
		return nil, badRequest(`latency must be a Go duration from "0s" to "60s", such as "100ms"`)
	}
	s.SetLatency(d)
	return map[string]string{"latency": d.String()}, nil
}

func (s *Server) adminFail(req *adminRequest) (any, error) {
	if req.Endpoint == "" {
		return nil, badRequest("endpoint is required")
	}
	n := req.N
	if n == 0 {
		n = 1
	}
	s.Fail(req.Endpoint, n, req.Failure)
	return map[string]any{"endpoint": req.Endpoint, "n": n}, nil
}

func (s *Server) adminClearFailures(*adminRequest) (any, error) {
	s.ClearFailures()
	return map[string]bool{"cleared": true}, nil
}

// adminAddConfiguration registers a Facebook Login for Business
// configuration (token_kind user or system_user, expiring, scopes).
func (s *Server) adminAddConfiguration(req *adminRequest) (any, error) {
	c, ok := s.AddConfiguration(Configuration{ID: req.ID, TokenKind: req.TokenKind, Expiring: req.Expiring, Scopes: req.Scopes})
	if !ok {
		return nil, badRequest("token_kind must be user or system_user, and scopes Facebook Login permissions")
	}
	return c, nil
}

// adminAppProblem sets (or, with "", clears) the app-level problem every
// endpoint answers (SetAppProblem).
func (s *Server) adminAppProblem(req *adminRequest) (any, error) {
	kind := graph.AppProblemKind(req.AppProblem)
	if kind != "" && !slices.Contains(graph.AllAppProblemKinds(), kind) {
		return nil, badRequest("app_problem must be one of the graph.AppProblemKind values or empty")
	}
	s.SetAppProblem(kind)
	return map[string]string{"app_problem": string(kind)}, nil
}
