package instagram

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// TestSystemUserAccountLearnsOfUninstallFromTheHourlyCheck: an account
// holding a system-user token (Facebook Login for Business) belongs to the
// business's system user, whose id no deauthorize or data deletion request
// names: a request for the person who approved it leaves it alone. What
// tells the engine the app was removed is Meta revoking the token: the
// hourly debug_token check then finds it invalid and marks the account
// needs_reauth, and token/<name> stops serving it.
func TestSystemUserAccountLearnsOfUninstallFromTheHourlyCheck(t *testing.T) {
	for _, expiring := range []bool{false, true} {
		t.Run(map[bool]string{false: "never expiring", true: "60 days"}[expiring], func(t *testing.T) {
			e := newFacebookEnv(t)
			owner := e.meta.AddUser("biz_owner")
			tok := e.secret(e.meta.MintSystemUserToken(owner.UserID, fbTestScopes, e.clock.Now(), expiring))
			meta := e.mustOK(e.write("accounts/biz", map[string]any{"access_token": tok})).Data
			if meta["token_kind"] != tokenKindSystemUser {
				t.Fatalf("accounts/biz = %v", meta)
			}
			if e.account("biz").belongsTo(owner.UserID) {
				t.Fatal("the system-user account matches its approver's user id")
			}

			// Meta's callbacks name the person, never the system user.
			for _, path := range []string{"deauthorize", "data-deletion"} {
				if a := e.postSignedRequest(path, map[string]any{"signed_request": e.signedRequestFor(owner.UserID)}); a.status != http.StatusOK {
					t.Fatalf("%s answered %d %s", path, a.status, a.body)
				}
			}
			if a := e.account("biz"); a == nil || a.Status != statusValid || a.AccessToken != tok {
				t.Fatalf("a request for the approver changed the system-user account: %+v", a)
			}

			// The business removes the app: Meta revokes the token.
			e.meta.Revoke(tok)
			calls := e.meta.Calls(graphtest.EndpointDebugToken)
			e.clock.Advance(healthCheckInterval + healthCheckSpread + time.Minute)
			e.tick()
			if e.meta.Calls(graphtest.EndpointDebugToken) == calls {
				t.Fatal("no debug_token check within the hour and its spread")
			}
			a := e.account("biz")
			if a.Status != statusNeedsReauth || !strings.Contains(a.LastError, "invalid") {
				t.Fatalf("after the hourly check: status %s, error %q; want needs_reauth", a.Status, a.LastError)
			}
			resp, err := e.read("token/biz")
			if got := httpStatus(resp, err); got != http.StatusConflict {
				t.Fatalf("token/biz answered %d after the revocation, want 409", got)
			}
		})
	}
}
