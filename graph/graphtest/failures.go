package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Failure is an answer injected in place of an endpoint's own.
type Failure struct {
	Status    int         `json:"status,omitempty"` // default 500, or 200 with Oversize or Malformed
	Body      string      `json:"body,omitempty"`
	Header    http.Header `json:"header,omitempty"`
	Hang      bool        `json:"hang,omitempty"`      // block until the client gives up (or the fake closes)
	Oversize  bool        `json:"oversize,omitempty"`  // a multi-MiB body, to test the client's limit
	Malformed bool        `json:"malformed,omitempty"` // a truncated JSON body (or Body, when set)
}

// oversizeBytes is the size of an Oversize body: well past the client's
// 1 MiB default limit.
const oversizeBytes = 3 << 20

type failRule struct {
	f         Failure
	remaining int // < 0: until cleared
}

// Fail makes the next n calls of endpoint answer f; n < 0 until
// ClearFailures, n == 0 clears that endpoint's failure.
func (s *Server) Fail(endpoint string, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == 0 {
		delete(s.fails, endpoint)
		return
	}
	s.fails[endpoint] = &failRule{f: f, remaining: n}
}

// ClearFailures removes every injected failure.
func (s *Server) ClearFailures() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.fails)
}

func (s *Server) takeFailureLocked(endpoint string) (Failure, bool) {
	if s.appProblem != "" && !isDialog(endpoint) {
		return AppProblemFailure(s.appProblem, endpoint), true
	}
	rule, ok := s.fails[endpoint]
	if !ok {
		return Failure{}, false
	}
	if rule.remaining > 0 {
		rule.remaining--
		if rule.remaining == 0 {
			delete(s.fails, endpoint)
		}
	}
	return rule.f, true
}

// isDialog reports whether endpoint is a login dialog (a page in the
// user's browser, which an app-level problem does not answer).
func isDialog(endpoint string) bool {
	return endpoint == EndpointAuthorize || endpoint == EndpointFacebookAuthorize || endpoint == EndpointThreadsAuthorize
}

func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, f Failure) {
	if f.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	for k, vs := range f.Header {
		w.Header()[http.CanonicalHeaderKey(k)] = vs
	}
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
		if f.Oversize || f.Malformed {
			status = http.StatusOK
		}
	}
	body := []byte(f.Body)
	switch {
	case f.Oversize:
		body = []byte(`{"access_token":"IGAA` + strings.Repeat("A", oversizeBytes) + `","token_type":"bearer","expires_in":5184000}`)
	case f.Malformed && f.Body == "":
		body = []byte(`{"access_token":"IGAA`)
	}
	writeRaw(w, status, body)
}

// GraphError is a Failure answering Meta's Graph error object, with the
// status Meta uses: 500 for the transient codes 1 and 2, else 400.
func GraphError(code, subcode int, typ, msg string) Failure {
	status := http.StatusBadRequest
	if code == 1 || code == 2 {
		status = http.StatusInternalServerError
	}
	return Failure{Status: status, Body: string(graphErrorBody(code, subcode, typ, msg))}
}

// FlatError is a Failure in api.instagram.com's flat error shape.
func FlatError(msg string) Failure {
	b, _ := json.Marshal(map[string]any{"error_type": "OAuthException", "code": 400, "error_message": msg})
	return Failure{Status: http.StatusBadRequest, Body: string(b)}
}

// Throttled is a Failure answering a rate limit with code (4, 17, 32, 613
// or 80002), with Meta's usage headers at 100% and
// estimated_time_to_regain_access set to regainMinutes.
func Throttled(code int, regainMinutes int) Failure {
	typ, msg := "OAuthException", fmt.Sprintf("(#%d) Application request limit reached", code)
	switch code {
	case 17:
		msg = "(#17) User request limit reached"
	case 32:
		msg = "(#32) Page request limit reached"
	case 613:
		msg = "(#613) Calls to this api have exceeded the rate limit."
	case 80002:
		typ, msg = "IGApiException", "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again."
	}
	f := GraphError(code, 0, typ, msg)
	f.Header = http.Header{
		"X-App-Usage": {`{"call_count":100,"total_time":34,"total_cputime":21}`},
		"X-Business-Use-Case-Usage": {fmt.Sprintf(
			`{"17841400000000001":[{"type":"instagram","call_count":100,"total_cputime":21,"total_time":34,"estimated_time_to_regain_access":%d}]}`,
			regainMinutes)},
	}
	return f
}

// AppProblemFailure is the answer Meta gives when the app as a whole is in
// trouble (graph.AppProblemOf), as endpoint would give it: the codes Meta
// documents for the app (4, 3, 368), and for a deactivated or development-mode
// app, for which Meta documents no code, the messages such answers carry
// with the token-error codes they come with (190, 200, and the flat shape
// of api.instagram.com's code exchange).
func AppProblemFailure(kind graph.AppProblemKind, endpoint string) Failure {
	switch kind {
	case graph.AppThrottled:
		return Throttled(4, 60)
	case graph.AppBlocked:
		return GraphError(368, 0, "OAuthException", "(#368) Temporarily blocked for policies violations")
	case graph.AppRestricted:
		return GraphError(3, 0, "OAuthException", "(#3) Application does not have the capability to make this API call.")
	case graph.AppDeactivated:
		if endpoint == EndpointExchangeCode {
			return FlatError("Error validating application. Application has been deleted.")
		}
		return GraphError(190, 0, "OAuthException", "Error validating application. Application has been deleted.")
	case graph.AppDevelopmentMode:
		if endpoint == EndpointExchangeCode {
			return FlatError("Insufficient developer role")
		}
		return GraphError(200, 0, "OAuthException", "(#200) App not active: this app is in development mode and the account is not one of its testers")
	}
	return GraphError(1, 0, "OAuthException", "An unknown error occurred")
}

// SetAppProblem makes every endpoint but the login dialogs answer as Meta
// does for an app with that problem, until SetAppProblem(""): unlike Fail,
// it concerns every call of every account at once, as an app-level
// problem does.
func (s *Server) SetAppProblem(kind graph.AppProblemKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appProblem = kind
}
