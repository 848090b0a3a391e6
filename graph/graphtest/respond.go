package graphtest

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Subcodes of code 190 the fake sends. Meta documents 458 app not installed,
// 459 user checkpointed, 460 password changed, 463 expired, 464 unconfirmed
// user, 467 invalid token and 492 invalid session.
const (
	subcodePasswordChanged = 460
	subcodeExpired         = 463
	subcodeInvalidSession  = 467
)

const jsonContentType = "application/json; charset=UTF-8"

// apiError is a Graph error the fake answers with.
type apiError struct {
	status  int
	code    int
	subcode int
	typ     string
	message string
}

func oauthError(code, subcode int, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, subcode: subcode, typ: "OAuthException", message: msg}
}

func igError(code int, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, typ: "IGApiException", message: msg}
}

// errUnsupportedMethod is Instagram's catch-all answer to a token request of
// the wrong kind or with another app's secret.
func errUnsupportedMethod(r *http.Request) *apiError {
	return igError(100, "Unsupported request - method type: "+strings.ToLower(r.Method))
}

func errCannotParseToken() *apiError {
	return oauthError(190, 0, "Invalid OAuth access token - Cannot parse access token")
}

// graphErrorBody is the JSON Meta's Graph hosts send with an error.
func graphErrorBody(code, subcode int, typ, msg string) []byte {
	obj := map[string]any{"message": msg, "type": typ, "code": code, "fbtrace_id": traceID()}
	if subcode != 0 {
		obj["error_subcode"] = subcode
	}
	if code == 1 || code == 2 {
		obj["is_transient"] = true
	}
	b, _ := json.Marshal(map[string]any{"error": obj})
	return b
}

// traceID stands in for Meta's fbtrace_id: random, so that tests cannot
// depend on it.
func traceID() string { return "Fake" + newSecret("")[:16] }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, graphErrorBody(1, 0, "OAuthException", "fake: "+err.Error())
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", jsonContentType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	if e.code == 190 {
		// Meta names the problem in this header too.
		w.Header().Set("WWW-Authenticate", `OAuth "Facebook Platform" "invalid_token" "`+strings.ReplaceAll(e.message, `"`, `'`)+`"`)
	}
	writeRaw(w, e.status, graphErrorBody(e.code, e.subcode, e.typ, e.message))
}

// writeFlatError answers in api.instagram.com's flat error shape.
func writeFlatError(w http.ResponseWriter, msg string) {
	writeJSON(w, http.StatusBadRequest, map[string]any{"error_type": "OAuthException", "code": 400, "error_message": msg})
}

// tokenParam is the request's access token: the access_token parameter,
// or an "Authorization: Bearer|OAuth" header.
func tokenParam(r *http.Request) string {
	if t := r.FormValue("access_token"); t != "" {
		return t
	}
	auth := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
			return strings.TrimSpace(auth[len(scheme):])
		}
	}
	return ""
}

// checkTokenLocked finds a live token of one of kinds. A token of another
// kind is reported as unparseable, as Meta does for a token of the other
// product; callers that answer differently check the kind themselves.
func (s *Server) checkTokenLocked(tok string, kinds ...TokenKind) (*tokenRecord, *apiError) {
	rec, ok := s.state.tokens[tok]
	if !ok || !kindIn(rec.Kind, kinds) {
		return nil, errCannotParseToken()
	}
	if e := s.liveLocked(rec); e != nil {
		return nil, e
	}
	return rec, nil
}

func kindIn(k TokenKind, kinds []TokenKind) bool {
	for _, want := range kinds {
		if k == want {
			return true
		}
	}
	return false
}

// liveLocked is nil for a usable token, else the 190 error Meta gives.
func (s *Server) liveLocked(rec *tokenRecord) *apiError {
	now := s.nowLocked()
	switch {
	case rec.Revoked && rec.revokeSubcode == subcodePasswordChanged:
		return oauthError(190, subcodePasswordChanged, "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.")
	case rec.Revoked && rec.revokeSubcode == subcodeAppNotInstalled:
		return oauthError(190, subcodeAppNotInstalled, "Error validating access token: The user has not authorized application "+s.appID+".")
	case rec.Revoked:
		return oauthError(190, rec.revokeSubcode, "Error validating access token: The session is invalid because the user logged out.")
	case !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt):
		return oauthError(190, subcodeExpired, fmt.Sprintf("Error validating access token: Session has expired on %s. The current time is %s.",
			rec.ExpiresAt.UTC().Format(metaTime), now.UTC().Format(metaTime)))
	}
	return nil
}

// metaTime is how Meta writes times in its expiry messages.
const metaTime = "Monday, 02-Jan-06 15:04:05 MST"

// checkProof enforces appsecret_proof for a user or Page token: a
// wrong proof always fails, a missing one only when the app requires it.
func (s *Server) checkProof(r *http.Request, tok string) *apiError {
	proof := r.FormValue("appsecret_proof")
	switch {
	case proof == "" && s.requireProof:
		return &apiError{status: http.StatusBadRequest, code: 100, typ: "GraphMethodException", message: "API calls from the server require an appsecret_proof argument"}
	case proof != "" && !hmac.Equal([]byte(proof), []byte(graph.AppSecretProof(s.appSecret, tok))):
		return &apiError{status: http.StatusBadRequest, code: 100, typ: "GraphMethodException", message: "Invalid appsecret_proof provided in the API argument"}
	}
	return nil
}

// expiresIn is the whole seconds from now until t, as Meta reports it.
func expiresIn(t, now time.Time) int64 { return int64(t.Sub(now) / time.Second) }
