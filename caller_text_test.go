package instagram

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hashicorp/vault/sdk/logical"
)

// phishingText is what a hostile caller would have a Vault-origin page say.
const phishingText = "Your Vault session expired, sign in at https://vault-login.evil.example"

// phishingPieces are the parts of phishingText that must not reach an
// answer in any form: raw, HTML-escaped or URL-encoded.
var phishingPieces = []string{"evil.example", "session expired", "session%20expired", "session+expired", "vault-login"}

func assertNoCallerText(t *testing.T, what, body string) {
	t.Helper()
	for _, p := range phishingPieces {
		if strings.Contains(body, p) {
			t.Errorf("%s repeats the caller's text (%q):\n%s", what, p, body)
		}
	}
}

// TestUnauthenticatedAnswersShowNoCallerChosenText: nothing a caller of an
// unauthenticated path chooses is repeated in the answer, escaped or not,
// so a Vault-origin page cannot be made to carry a phisher's words: the
// callback names no unknown parameter and repeats no error_reason,
// error_description, error_code or error_message (it says in fixed words
// what was wrong; the log keeps the detail for the operator), and
// deauthorize, data-deletion and a deletion's status name no unknown field.
// The callback once listed unknown parameter names, and repeated Meta's
// denial text as the query carried it, on its page.
func TestUnauthenticatedAnswersShowNoCallerChosenText(t *testing.T) {
	e := newTestEnv(t)
	e.configure(nil)

	t.Run("callback, unknown parameter", func(t *testing.T) {
		back := e.startAuthorization("shop", "shop_user")
		params := url.Values{phishingText: {"1"}}
		for k, v := range back {
			params[k] = v
		}
		p := e.callback(logical.ReadOperation, params)
		p.expect(t, http.StatusBadRequest, "Authorization not completed", "parameters this page does not take")
		assertNoCallerText(t, "the callback page", p.body)
		// The state was not used up: the real redirect still completes.
		e.callback(logical.ReadOperation, back).expect(t, http.StatusOK, "@shop_user")
	})

	for _, field := range []string{"error_reason", "error_description", "error_message", "error_code", "error"} {
		t.Run("callback, denial with "+field, func(t *testing.T) {
			_, state := e.authURL(map[string]any{"account": "denied"})
			params := url.Values{"state": {state}, "error": {"access_denied"}, field: {phishingText}}
			p := e.callback(logical.ReadOperation, params)
			p.expect(t, http.StatusBadRequest, "Authorization declined", "was not granted")
			assertNoCallerText(t, "the callback page", p.body)
		})
	}

	for _, c := range []struct {
		name string
		op   logical.Operation
		path string
		data map[string]any
	}{
		{"deauthorize", logical.UpdateOperation, "deauthorize", map[string]any{"signed_request": "a.b", phishingText: "1"}},
		{"data-deletion", logical.UpdateOperation, "data-deletion", map[string]any{"signed_request": "a.b", phishingText: "1"}},
		{"data-deletion status", logical.ReadOperation, "data-deletion/0123456789abcdef0123456789abcdef", map[string]any{phishingText: "1"}},
	} {
		t.Run(c.name+", unknown field", func(t *testing.T) {
			resp, err := e.b.HandleRequest(t.Context(), &logical.Request{Operation: c.op, Path: c.path, Data: c.data, Storage: e.storage})
			got := answerOf(t, resp, err)
			if got.status != http.StatusBadRequest || !strings.Contains(got.body, "unknown field") {
				t.Fatalf("%d %q, want a 400 saying a field is unknown", got.status, got.body)
			}
			assertNoCallerText(t, c.name+"'s answer", got.body)
		})
	}
}
