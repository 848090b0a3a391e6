package instagram

import (
	"strings"
	"testing"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// decideDue at its edges: what the periodic work does with an account it is
// handed, from the account's schedule.Account alone.
func TestDecideDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	window := 10 * 24 * time.Hour
	day := 24 * time.Hour
	// An Instagram Login token issued issued ago that lives 60 days, last
	// checked an hour ago, with no check offset.
	ig := func(issued time.Duration) schedule.Account {
		return schedule.Account{Login: loginInstagram, Status: statusValid, IssuedAt: now.Add(-issued),
			ExpiresAt: now.Add(-issued + 60*day), RegisteredAt: now.Add(-90 * day), CheckedAt: now.Add(-time.Hour)}
	}
	// A Facebook Login token last checked checked ago, expiring in expires.
	fb := func(checked, expires time.Duration) schedule.Account {
		return schedule.Account{Login: loginFacebook, Status: statusValid, IssuedAt: now.Add(-20 * day),
			ExpiresAt: now.Add(expires), RegisteredAt: now.Add(-20 * day), CheckedAt: now.Add(-checked)}
	}
	with := func(t schedule.Account, f func(*schedule.Account)) schedule.Account { f(&t); return t }
	unchecked := func(t *schedule.Account) { t.CheckedAt = time.Time{} }

	rows := []struct {
		name       string
		t          schedule.Account
		holdsToken bool
		want       dueKind
		why        string // a part of dueWork.why
	}{
		// Instagram Login: the refresh is due window before expiry.
		{"refresh not due", ig(10 * day), true, dueNothing, ""},
		{"refresh due to the second", ig(50 * day), true, dueRefresh, ""},
		{"refresh a second early", ig(50*day - time.Second), true, dueNothing, ""},
		{"refresh overdue", ig(55 * day), true, dueRefresh, ""},
		// The 24-hour rule: never before, even with a window longer than the token's life.
		{"young token, huge window", with(ig(12*time.Hour), func(t *schedule.Account) { t.ExpiresAt = now.Add(time.Hour * 30) }), true, dueRefused, "24 hours"},
		{"unknown expiry, a day after registration", schedule.Account{Login: loginInstagram, Status: statusValid, RegisteredAt: now.Add(-day)}, true, dueRefresh, ""},
		{"unknown expiry, younger", schedule.Account{Login: loginInstagram, Status: statusValid, RegisteredAt: now.Add(-day + time.Second)}, true, dueNothing, ""},
		// Back-off: the retry time wins over a due refresh.
		{"backing off", with(ig(55*day), func(t *schedule.Account) { t.Status, t.RetryAt = statusRefreshFailing, now.Add(time.Minute) }), true, dueNothing, ""},
		{"back-off over", with(ig(55*day), func(t *schedule.Account) { t.Status, t.RetryAt = statusRefreshFailing, now }), true, dueRefresh, ""},
		// Expiry: nothing but the owner can save the token.
		{"expired", ig(60 * day), true, dueNeedsReauth, "expired at"},
		{"expired while backing off", with(ig(61*day), func(t *schedule.Account) { t.Status, t.RetryAt = statusRefreshFailing, now.Add(time.Hour) }), true, dueNeedsReauth, "expired at"},
		{"no token", ig(10 * day), false, dueNeedsReauth, "holds no token"},
		// Parked: taken up only by a race, and refused.
		{"needs_reauth", with(ig(50*day), func(t *schedule.Account) { t.Status = statusNeedsReauth }), true, dueRefused, "needs re-authorization"},
		{"needs_reauth, expired, no token", with(ig(70*day), func(t *schedule.Account) { t.Status = statusNeedsReauth }), false, dueRefused, "needs re-authorization"},
		// The daily check between refreshes, only of a working token.
		{"daily check due", with(ig(day), unchecked), true, dueInstagramCheck, ""},
		{"daily check not yet", with(ig(day-time.Second), unchecked), true, dueRefused, "24 hours"},
		{"checked since", with(ig(10*day), func(t *schedule.Account) { t.CheckedAt = now.Add(-day + time.Second) }), true, dueNothing, ""},
		{"check and refresh both due: refresh", with(ig(50*day), func(t *schedule.Account) { t.CheckedAt = now.Add(-2 * day) }), true, dueRefresh, ""},
		{"no check while failing", with(ig(10*day), func(t *schedule.Account) {
			t.Status, t.RetryAt, t.CheckedAt = statusRefreshFailing, now.Add(time.Hour), time.Time{}
		}), true, dueNothing, ""},
		{"no check without a token", with(ig(10*day), unchecked), false, dueNeedsReauth, "holds no token"},

		// Facebook Login: checked hourly, never refreshed.
		{"facebook check due", fb(time.Hour, 30*day), true, dueFacebookCheck, ""},
		{"facebook check not due", fb(time.Hour-time.Second, 30*day), true, dueNothing, ""},
		{"facebook token expiring: checked at expiry", fb(time.Minute, 0), true, dueFacebookCheck, ""},
		{"facebook token expired", fb(time.Minute, -day), true, dueFacebookCheck, ""},
		{"facebook page token (no expiry)", with(fb(2*time.Hour, 0), func(t *schedule.Account) { t.ExpiresAt = time.Time{} }), true, dueFacebookCheck, ""},
		{"facebook needs_reauth", with(fb(2*time.Hour, day), func(t *schedule.Account) { t.Status = statusNeedsReauth }), true, dueNothing, ""},
		{"facebook without a token", fb(2*time.Hour, day), false, dueNothing, ""},
		{"facebook with a stale retry", with(fb(2*time.Hour, 30*day), func(t *schedule.Account) { t.RetryAt = now.Add(day) }), true, dueFacebookCheck, ""},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			got := decideDue(r.t, r.holdsToken, window, now)
			if got.kind != r.want || !strings.Contains(got.why, r.why) || (r.why == "") != (got.why == "") {
				t.Fatalf("decideDue = %+v, want kind %d with why containing %q", got, r.want, r.why)
			}
		})
	}
}

// The times status and token reads report, from the same rules.
func TestTimingReportedTimes(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	window := 10 * 24 * time.Hour
	ig := schedule.Account{Login: loginInstagram, Status: statusValid, IssuedAt: now, ExpiresAt: now.Add(60 * 24 * time.Hour), RegisteredAt: now}
	refresh := now.Add(50 * 24 * time.Hour)
	check := now.Add(24 * time.Hour)
	if got := ig.NextRefreshAt(window); !got.Equal(refresh) {
		t.Errorf("instagram nextRefreshAt = %v, want %v", got, refresh)
	}
	if got := ig.NextCheckAt(); !got.Equal(check) {
		t.Errorf("instagram nextCheckAt = %v, want %v", got, check)
	}
	if got := ig.DueAt(window); !got.Equal(check) {
		t.Errorf("instagram dueAt = %v, want the check %v", got, check)
	}
	// A reader keeps an Instagram token until its refresh: the daily
	// check does not change it.
	if got := ig.TokenFreshUntil(window); !got.Equal(refresh) {
		t.Errorf("instagram tokenFreshUntil = %v, want the refresh %v", got, refresh)
	}

	fb := schedule.Account{Login: loginFacebook, Status: statusValid, RegisteredAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}
	if got := fb.NextRefreshAt(window); !got.IsZero() {
		t.Errorf("facebook nextRefreshAt = %v, want none", got)
	}
	fbCheck := now.Add(time.Hour)
	for what, got := range map[string]time.Time{"nextCheckAt": fb.NextCheckAt(), "dueAt": fb.DueAt(window), "tokenFreshUntil": fb.TokenFreshUntil(window)} {
		if !got.Equal(fbCheck) {
			t.Errorf("facebook %s = %v, want the hourly check %v", what, got, fbCheck)
		}
	}

	for _, parked := range []schedule.Account{
		{Login: loginInstagram, Status: statusNeedsReauth, IssuedAt: now, ExpiresAt: now.Add(time.Hour), RegisteredAt: now},
		{Login: loginFacebook, Status: statusNeedsReauth, RegisteredAt: now},
	} {
		for what, got := range map[string]time.Time{"nextRefreshAt": parked.NextRefreshAt(window), "nextCheckAt": parked.NextCheckAt(),
			"dueAt": parked.DueAt(window), "tokenFreshUntil": parked.TokenFreshUntil(window)} {
			if !got.IsZero() {
				t.Errorf("%s account needing re-authorization: %s = %v, want none", parked.Login, what, got)
			}
		}
	}
}
