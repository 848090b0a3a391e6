package instagram

import (
	"fmt"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// The account lifecycle (account_state.go) as a table: from each status,
// each event, the status and the failure record after. The transitions are
// pure, so each row runs one on a fresh record.

var (
	stNow     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stEarlier = stNow.Add(-2 * time.Hour)   // an earlier error or check
	stRetry   = stNow.Add(30 * time.Minute) // a back-off already running
	stWindow  = 10 * 24 * time.Hour
)

// stateFixture is an account in a given status, as the engine leaves it.
func stateFixture(t *testing.T, name string) *account {
	t.Helper()
	ig := func(status string) *account {
		return &account{Name: "a", Login: loginInstagram, AccessToken: "IGtok", TokenType: "bearer",
			IssuedAt: stNow.Add(-30 * 24 * time.Hour), ExpiresAt: stNow.Add(30 * 24 * time.Hour),
			RegisteredAt: stNow.Add(-90 * 24 * time.Hour), LastCheckedAt: stEarlier, Status: status}
	}
	fb := func(status string, expiresIn time.Duration) *account {
		return &account{Name: "a", Login: loginFacebook, AccessToken: "FBtok", UserAccessToken: "FBtok", TokenType: "bearer",
			ExpiresAt: stNow.Add(expiresIn), UserTokenExpiresAt: stNow.Add(expiresIn),
			RegisteredAt: stNow.Add(-9 * 24 * time.Hour), LastCheckedAt: stEarlier, Status: status, Scopes: []string{"old"}}
	}
	switch name {
	case "ig/valid":
		return ig(statusValid)
	case "ig/refresh_failing":
		a := ig(statusRefreshFailing)
		a.ConsecutiveFailures, a.RetryAt, a.LastError, a.LastErrorAt = 2, stRetry, "earlier", stEarlier
		return a
	case "ig/needs_reauth":
		a := ig(statusNeedsReauth)
		a.ConsecutiveFailures, a.LastError, a.LastErrorAt = 3, "earlier", stEarlier
		return a
	case "ig/unset": // a record from before statuses were stored
		return ig("")
	case "fb/valid":
		return fb(statusValid, 50*24*time.Hour)
	case "fb/expiring":
		return fb(statusExpiring, 5*24*time.Hour)
	case "fb/needs_reauth":
		a := fb(statusNeedsReauth, 50*24*time.Hour)
		a.ConsecutiveFailures, a.LastError, a.LastErrorAt = 1, "earlier", stEarlier
		return a
	case "fb/page": // serving a Page token, which does not expire
		a := fb(statusValid, 50*24*time.Hour)
		a.AccessToken, a.PageID, a.ExpiresAt = "PAGEtok", "p1", time.Time{}
		return a
	}
	t.Fatalf("no fixture %q", name)
	return nil
}

// stateAfter is what a row checks after the event.
type stateAfter struct {
	status      string
	failures    int
	retryAt     time.Time
	lastError   string
	lastErrorAt time.Time
	checkedAt   time.Time
}

func (s stateAfter) String() string {
	return fmt.Sprintf("status %q failures %d retry_at %s last_error %q at %s checked %s",
		s.status, s.failures, formatTime(s.retryAt), s.lastError, formatTime(s.lastErrorAt), formatTime(s.checkedAt))
}

func stateOf(a *account) stateAfter {
	return stateAfter{a.Status, a.ConsecutiveFailures, a.RetryAt, a.LastError, a.LastErrorAt, a.LastCheckedAt}
}

// stBackoff is a back-off without jitter: n minutes before retry n.
func stBackoff(n int) time.Duration { return time.Duration(n) * time.Minute }

var stateEvents = map[string]func(a *account){
	"serving":      func(a *account) { a.markServing(stNow, stWindow) },
	"needs_reauth": func(a *account) { a.markNeedsReauth(stNow, "why") },
	"deauthorized": func(a *account) { a.markDeauthorized(stNow) },
	"refresh_ok": func(a *account) {
		a.recordRefreshSuccess(stNow, &graph.LongLivedToken{AccessToken: "NEWtok", ExpiresIn: 5184000})
	},
	"refresh_transient": func(a *account) {
		a.recordRefreshFailure(stNow, &graph.Error{Code: graph.CodeService}, "down", stBackoff)
	},
	"refresh_retry_after": func(a *account) {
		a.recordRefreshFailure(stNow, &graph.Error{Code: graph.CodeUserThrottled, RetryAfter: 3 * time.Hour}, "slow", stBackoff)
	},
	"refresh_token_refused": func(a *account) {
		a.recordRefreshFailure(stNow, &graph.Error{Code: graph.CodeInvalidToken}, "dead", stBackoff)
	},
	"ig_check_ok":     func(a *account) { a.recordInstagramCheck(stNow) },
	"ig_check_failed": func(a *account) { a.recordInstagramCheckFailure(stNow, "no answer") },
	"fb_check_ok": func(a *account) {
		a.recordFacebookCheck(stNow, &graph.TokenInfo{IsValid: true, ExpiresAt: stNow.Add(40 * 24 * time.Hour), Scopes: []string{"new"}}, stWindow)
	},
	"fb_check_ok_near_end": func(a *account) {
		a.recordFacebookCheck(stNow, &graph.TokenInfo{IsValid: true, ExpiresAt: stNow.Add(3 * 24 * time.Hour)}, stWindow)
	},
	"fb_check_failed":  func(a *account) { a.recordFacebookCheckFailure(stNow, "no answer") },
	"check_found_dead": func(a *account) { a.recordCheckNeedsReauth(stNow, "dead") },
	"migrated":         func(a *account) { a.migrateStatus() },
}

func TestAccountStateTransitions(t *testing.T) {
	// The failure record a working account is left with.
	serving := func(status string, checked time.Time, lastErrorAt time.Time) stateAfter {
		return stateAfter{status: status, lastErrorAt: lastErrorAt, checkedAt: checked}
	}
	// needs_reauth after failures counted so far.
	reauth := func(failures int, why string, checked time.Time) stateAfter {
		return stateAfter{status: statusNeedsReauth, failures: failures, lastError: why, lastErrorAt: stNow, checkedAt: checked}
	}
	failing := func(failures int, retry time.Duration, why string) stateAfter {
		return stateAfter{status: statusRefreshFailing, failures: failures, retryAt: stNow.Add(retry), lastError: why, lastErrorAt: stNow, checkedAt: stEarlier}
	}
	rows := []struct {
		from, event string
		want        stateAfter
	}{
		// A registration, a Page chosen: working, whatever went before.
		{"ig/valid", "serving", serving(statusValid, stEarlier, time.Time{})},
		{"ig/refresh_failing", "serving", serving(statusValid, stEarlier, stEarlier)},
		{"ig/needs_reauth", "serving", serving(statusValid, stEarlier, stEarlier)},
		{"fb/valid", "serving", serving(statusValid, stEarlier, time.Time{})},
		{"fb/expiring", "serving", serving(statusExpiring, stEarlier, time.Time{})},
		{"fb/needs_reauth", "serving", serving(statusValid, stEarlier, stEarlier)},
		{"fb/page", "serving", serving(statusValid, stEarlier, time.Time{})},

		// Needs re-authorization: one more failure, from any status, and
		// the back-off is over.
		{"ig/valid", "needs_reauth", reauth(1, "why", stEarlier)},
		{"ig/refresh_failing", "needs_reauth", reauth(3, "why", stEarlier)},
		{"ig/needs_reauth", "needs_reauth", reauth(4, "why", stEarlier)},
		{"fb/valid", "needs_reauth", reauth(1, "why", stEarlier)},
		{"fb/expiring", "needs_reauth", reauth(1, "why", stEarlier)},
		{"fb/needs_reauth", "needs_reauth", reauth(2, "why", stEarlier)},

		// The owner removed the app: the same, with the deauthorized message.
		{"ig/valid", "deauthorized", reauth(1, deauthorizedError, stEarlier)},
		{"ig/refresh_failing", "deauthorized", reauth(3, deauthorizedError, stEarlier)},
		{"ig/needs_reauth", "deauthorized", reauth(4, deauthorizedError, stEarlier)},
		{"fb/valid", "deauthorized", reauth(1, deauthorizedError, stEarlier)},
		{"fb/expiring", "deauthorized", reauth(1, deauthorizedError, stEarlier)},
		{"fb/page", "deauthorized", reauth(1, deauthorizedError, stEarlier)},
		{"fb/needs_reauth", "deauthorized", reauth(2, deauthorizedError, stEarlier)},

		// Refreshes (Instagram Login). A success clears the record (a
		// manual refresh of a needs_reauth account may succeed).
		{"ig/valid", "refresh_ok", serving(statusValid, stEarlier, time.Time{})},
		{"ig/refresh_failing", "refresh_ok", serving(statusValid, stEarlier, stEarlier)},
		{"ig/needs_reauth", "refresh_ok", serving(statusValid, stEarlier, stEarlier)},
		// A failure that may pass backs off by the failure count...
		{"ig/valid", "refresh_transient", failing(1, 1*time.Minute, "down")},
		{"ig/refresh_failing", "refresh_transient", failing(3, 3*time.Minute, "down")},
		{"ig/needs_reauth", "refresh_transient", failing(4, 4*time.Minute, "down")},
		// ...or as long as Meta asked, when longer.
		{"ig/valid", "refresh_retry_after", failing(1, 3*time.Hour, "slow")},
		{"ig/refresh_failing", "refresh_retry_after", failing(3, 3*time.Hour, "slow")},
		// A refused token needs its owner.
		{"ig/valid", "refresh_token_refused", reauth(1, "dead", stEarlier)},
		{"ig/refresh_failing", "refresh_token_refused", reauth(3, "dead", stEarlier)},
		{"ig/needs_reauth", "refresh_token_refused", reauth(4, "dead", stEarlier)},

		// Instagram's daily check, only ever run on valid accounts. A
		// failed one is recorded but neither counted nor a change of
		// status: nothing was learned about the token.
		{"ig/valid", "ig_check_ok", stateAfter{status: statusValid, checkedAt: stNow}},
		{"ig/valid", "ig_check_failed", stateAfter{status: statusValid, lastError: "no answer", lastErrorAt: stNow, checkedAt: stNow}},
		{"ig/valid", "check_found_dead", reauth(1, "dead", stNow)},

		// Facebook's hourly check: the status follows the expiry Meta
		// reports; a failed check is counted, the status unchanged.
		{"fb/valid", "fb_check_ok", serving(statusValid, stNow, time.Time{})},
		{"fb/expiring", "fb_check_ok", serving(statusValid, stNow, time.Time{})},
		{"fb/valid", "fb_check_ok_near_end", serving(statusExpiring, stNow, time.Time{})},
		{"fb/expiring", "fb_check_ok_near_end", serving(statusExpiring, stNow, time.Time{})},
		{"fb/page", "fb_check_ok_near_end", serving(statusExpiring, stNow, time.Time{})},
		{"fb/valid", "fb_check_failed", stateAfter{status: statusValid, failures: 1, lastError: "no answer", lastErrorAt: stNow, checkedAt: stNow}},
		{"fb/expiring", "fb_check_failed", stateAfter{status: statusExpiring, failures: 1, lastError: "no answer", lastErrorAt: stNow, checkedAt: stNow}},
		{"fb/valid", "check_found_dead", reauth(1, "dead", stNow)},
		{"fb/expiring", "check_found_dead", reauth(1, "dead", stNow)},
		{"fb/page", "check_found_dead", reauth(1, "dead", stNow)},

		// Reading an old record: no status meant valid; a status stays.
		{"ig/unset", "migrated", serving(statusValid, stEarlier, time.Time{})},
		{"ig/refresh_failing", "migrated", stateAfter{status: statusRefreshFailing, failures: 2, retryAt: stRetry, lastError: "earlier", lastErrorAt: stEarlier, checkedAt: stEarlier}},
		{"fb/needs_reauth", "migrated", stateAfter{status: statusNeedsReauth, failures: 1, lastError: "earlier", lastErrorAt: stEarlier, checkedAt: stEarlier}},
	}
	for _, r := range rows {
		t.Run(r.from+"/"+r.event, func(t *testing.T) {
			a := stateFixture(t, r.from)
			stateEvents[r.event](a)
			if got := stateOf(a); got != r.want {
				t.Errorf("after %s from %s:\n got %v\nwant %v", r.event, r.from, got, r.want)
			}
			// What every transition keeps true.
			switch a.Status {
			case statusNeedsReauth:
				if !a.RetryAt.IsZero() || a.ConsecutiveFailures == 0 || a.LastError == "" {
					t.Errorf("needs_reauth with retry_at %v, %d failures, last_error %q", a.RetryAt, a.ConsecutiveFailures, a.LastError)
				}
			case statusRefreshFailing:
				if !a.RetryAt.After(stNow) {
					t.Errorf("refresh_failing with retry_at %v", a.RetryAt)
				}
			case statusExpiring:
				if a.Login != loginFacebook {
					t.Error("an Instagram Login account expiring")
				}
			}
		})
	}
}

// The fields besides the status that transitions change.
func TestAccountStateTokenFields(t *testing.T) {
	t.Run("deauthorized drops both tokens", func(t *testing.T) {
		a := stateFixture(t, "fb/page")
		a.markDeauthorized(stNow)
		if a.AccessToken != "" || a.UserAccessToken != "" || a.PageID != "p1" {
			t.Fatalf("token %q, user token %q, page %q", a.AccessToken, a.UserAccessToken, a.PageID)
		}
	})
	t.Run("needs_reauth keeps the token for the record", func(t *testing.T) {
		a := stateFixture(t, "ig/valid")
		a.markNeedsReauth(stNow, "why")
		if a.AccessToken != "IGtok" {
			t.Fatalf("token %q", a.AccessToken)
		}
	})
	t.Run("refresh_ok stores the new token", func(t *testing.T) {
		a := stateFixture(t, "ig/refresh_failing")
		a.recordRefreshSuccess(stNow, &graph.LongLivedToken{AccessToken: "NEWtok", TokenType: "Bearer", ExpiresIn: 5184000})
		if a.AccessToken != "NEWtok" || a.TokenType != "bearer" || !a.IssuedAt.Equal(stNow) || !a.LastRefreshedAt.Equal(stNow) ||
			!a.ExpiresAt.Equal(stNow.Add(60*24*time.Hour)) {
			t.Fatalf("after a refresh: %+v", a)
		}
		a.recordRefreshSuccess(stNow, &graph.LongLivedToken{AccessToken: "NOEXP"})
		if !a.ExpiresAt.IsZero() || a.TokenType != "bearer" {
			t.Fatalf("a refresh without expires_in: expiry %v, type %q", a.ExpiresAt, a.TokenType)
		}
	})
	t.Run("failures never back off past the last chance to refresh", func(t *testing.T) {
		a := stateFixture(t, "ig/valid")
		a.ExpiresAt = stNow.Add(time.Hour)
		a.recordRefreshFailure(stNow, &graph.Error{Code: graph.CodeUserThrottled, RetryAfter: 3 * time.Hour}, "slow", stBackoff)
		if want := a.ExpiresAt.Add(-backoffBase); !a.RetryAt.Equal(want) {
			t.Fatalf("retry at %v, want %v", a.RetryAt, want)
		}
		b := stateFixture(t, "ig/valid")
		b.ExpiresAt = stNow.Add(30 * time.Second) // the last chance has passed: back off as usual
		b.recordRefreshFailure(stNow, &graph.Error{Code: graph.CodeService}, "down", stBackoff)
		if want := stNow.Add(time.Minute); !b.RetryAt.Equal(want) {
			t.Fatalf("retry at %v, want %v", b.RetryAt, want)
		}
	})
	t.Run("a Facebook check records what Meta reports", func(t *testing.T) {
		a := stateFixture(t, "fb/valid")
		exp, data := stNow.Add(40*24*time.Hour), stNow.Add(80*24*time.Hour)
		a.recordFacebookCheck(stNow, &graph.TokenInfo{IsValid: true, ExpiresAt: exp, DataAccessExpiresAt: data, Scopes: []string{"b", "a"}}, stWindow)
		if !a.ExpiresAt.Equal(exp) || !a.UserTokenExpiresAt.Equal(exp) || !a.DataAccessExpiresAt.Equal(data) || fmt.Sprint(a.Scopes) != "[b a]" {
			t.Fatalf("after a check: expires %v, user token expires %v, data access %v, scopes %v", a.ExpiresAt, a.UserTokenExpiresAt, a.DataAccessExpiresAt, a.Scopes)
		}
		// No expiry and no scopes reported: a user token keeps what it knew.
		a.recordFacebookCheck(stNow, &graph.TokenInfo{IsValid: true}, stWindow)
		if !a.ExpiresAt.Equal(exp) || fmt.Sprint(a.Scopes) != "[b a]" {
			t.Fatalf("after a check reporting nothing: expires %v, scopes %v", a.ExpiresAt, a.Scopes)
		}
		// A Page token's expiry is Meta's word, never (zero) included.
		p := stateFixture(t, "fb/page")
		p.recordFacebookCheck(stNow, &graph.TokenInfo{IsValid: true}, stWindow)
		if !p.ExpiresAt.IsZero() || !p.UserTokenExpiresAt.Equal(stNow.Add(50*24*time.Hour)) || p.Status != statusValid {
			t.Fatalf("a Page account after a check: expires %v, user token expires %v, %s", p.ExpiresAt, p.UserTokenExpiresAt, p.Status)
		}
	})
}
