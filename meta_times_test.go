package instagram

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph/graphtest"
)

// farFutureDebugToken is a debug_token answer for a valid user token of
// account a whose field states Unix time sec.
func farFutureDebugToken(a *account, field string, sec int64) graphtest.Failure {
	body := fmt.Sprintf(`{"data":{"app_id":%q,"type":"USER","is_valid":true,"user_id":%q,"scopes":["instagram_basic"],"issued_at":%d,%q:%d}}`,
		testAppID, a.UserID, a.IssuedAt.Unix(), field, sec)
	return graphtest.Failure{Status: http.StatusOK, Body: body}
}

// TestFarFutureDebugTokenTimesAreRefusedNotStored: a debug_token answer
// stating a time past the ten-year bound is a failed answer from Meta that
// names the field, wherever it comes. At registration it once gave a 500
// ("year outside of range": JSON holds years up to 9999) and now refuses
// the registration, storing nothing; in a health check it is a failed
// check that leaves the account's times and status as they were, where a
// year-2300 expiry once went into the schedule's int64 nanoseconds and
// overflowed (status's soonest_expiry_at then lay in the past).
func TestFarFutureDebugTokenTimesAreRefusedNotStored(t *testing.T) {
	t.Run("registration", func(t *testing.T) {
		e := newFacebookEnv(t)
		u := e.meta.AddUser("far_user")
		code := e.meta.MintFacebookCode(u.UserID, fbTestScopes, testRedirectURI)
		e.secrets = append(e.secrets, code)
		e.meta.Fail(graphtest.EndpointDebugToken, 1, farFutureDebugToken(&account{UserID: u.ID, IssuedAt: e.clock.Now()}, "data_access_expires_at", 1_000_000_000_000_000))
		before := e.storageSnapshot()
		resp, err := e.write("accounts/far", map[string]any{"code": code})
		if st := httpStatus(resp, err); st != http.StatusBadGateway && st != http.StatusBadRequest {
			t.Fatalf("HTTP %d (%v, %v), want a 400 or 502 refusal", st, resp, err)
		}
		e.mustFail(resp, err, "data_access_expires_at")
		if e.account("far") != nil {
			t.Fatal("the account was stored")
		}
		if after := e.storageSnapshot(); len(after) != len(before) {
			t.Fatalf("storage changed: %d entries before, %d after", len(before), len(after))
		}
	})

	t.Run("health check", func(t *testing.T) {
		e := newFacebookEnv(t)
		e.registerFacebook("shop", "shop_user", false)
		stored := e.account("shop")
		year2300 := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		e.meta.Fail(graphtest.EndpointDebugToken, 1, farFutureDebugToken(stored, "expires_at", year2300))
		e.clock.Advance(healthCheckInterval + healthCheckSpread)
		e.tick()
		a := e.account("shop")
		if !a.ExpiresAt.Equal(stored.ExpiresAt) || a.Status != statusValid || !strings.Contains(a.LastError, "expires_at") {
			t.Fatalf("after the check: expires_at %s (was %s), status %s, last_error %q", formatTime(a.ExpiresAt), formatTime(stored.ExpiresAt), a.Status, a.LastError)
		}
		resp := e.mustOK(e.read("status"))
		if got := resp.Data["soonest_expiry_at"]; got != formatTime(stored.ExpiresAt) {
			t.Fatalf("status soonest_expiry_at = %v, want %s", got, formatTime(stored.ExpiresAt))
		}
		e.mustOK(e.read("token/shop"))
	})
}
