package instagram

import (
	"net/http"
	"testing"
	"time"
)

// TestPasswordChangeLandsInOneNeedsReauth: Meta ends a user's sessions when
// they change their password (code 190, subcode 460; unified accounts do so
// since 2026), and tells nobody. Whichever step of the engine sees it (the
// periodic refresh, a manual refresh, Instagram Login's daily check,
// Facebook Login's hourly debug_token check of a user or a Page token),
// the account lands in the same needs_reauth, with one failure counted,
// the same last_error (the step that found it, then one wording), and
// token/<name> answers 409.
func TestPasswordChangeLandsInOneNeedsReauth(t *testing.T) {
	rows := []struct {
		name, step string
		facebook   bool
		setup      func(e *testEnv) (user string)
		// reach runs the step that meets the dead session.
		reach func(e *testEnv)
	}{
		{"instagram periodic refresh", "refresh", false,
			func(e *testEnv) string {
				return e.registerLongLived("acct", "acct_user", e.clock.Now().Add(-40*24*time.Hour)).UserID
			},
			func(e *testEnv) { e.tick() }},
		{"instagram manual refresh", "refresh", false,
			func(e *testEnv) string {
				return e.registerLongLived("acct", "acct_user", e.clock.Now().Add(-2*24*time.Hour)).UserID
			},
			func(e *testEnv) {
				resp, err := e.write("accounts/acct/refresh", nil)
				if got := httpStatus(resp, err); got != http.StatusBadRequest {
					e.t.Fatalf("manual refresh of a dead session: %d, want 400", got)
				}
			}},
		{"instagram daily check", "health check (me)", false,
			func(e *testEnv) string { return e.registerFromCode("acct", "acct_user").UserID },
			func(e *testEnv) { e.untilCheck("acct"); e.tick() }},
		{"facebook user token check", "health check (debug_token)", true,
			func(e *testEnv) string { return e.registerFacebook("acct", "acct_user", false).UserID },
			func(e *testEnv) { e.clock.Advance(healthCheckInterval + healthCheckSpread + time.Minute); e.tick() }},
		{"facebook page token check", "health check (debug_token)", true,
			func(e *testEnv) string { return e.registerFacebook("acct", "acct_user", true).UserID },
			func(e *testEnv) { e.clock.Advance(healthCheckInterval + healthCheckSpread + time.Minute); e.tick() }},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			var e *testEnv
			if r.facebook {
				e = newFacebookEnv(t)
			} else {
				e = newTestEnv(t)
				e.configure(nil)
			}
			user := r.setup(e)
			e.meta.RevokeUser(user)
			r.reach(e)

			a := e.account("acct")
			want := r.step + ": " + sessionEndedReason
			if a.Status != statusNeedsReauth || a.ConsecutiveFailures != 1 || a.LastError != want {
				t.Fatalf("status %s, %d failures, last_error\n %q\nwant needs_reauth, 1 failure,\n %q", a.Status, a.ConsecutiveFailures, a.LastError, want)
			}
			resp, err := e.read("token/acct")
			if got := httpStatus(resp, err); got != http.StatusConflict {
				t.Fatalf("token/acct after the password change: %d, want 409", got)
			}
		})
	}
}
