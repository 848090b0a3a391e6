package schedule

import (
	"testing"
	"time"
)

// TestDecide is the due decision at its edges: each case one account, one
// configuration and one instant, with the work due and when it fell (or
// will fall) due.
func TestDecide(t *testing.T) {
	const (
		day    = 24 * time.Hour
		window = 10 * day
		offset = 7 * time.Minute
	)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	// ig is a working Instagram Login account whose 60-day token was
	// issued (and registered) at t0.
	ig := Timing{Login: Instagram, Status: Valid, IssuedAt: t0, RegisteredAt: t0, ExpiresAt: t0.Add(60 * day), CheckOffset: offset}
	with := func(base Timing, f func(*Timing)) Timing { f(&base); return base }
	refreshAt := t0.Add(50 * day) // ExpiresAt - window
	// fb is a Facebook Login user token registered at t0.
	fb := Timing{Login: Facebook, Status: Valid, RegisteredAt: t0, IssuedAt: t0, ExpiresAt: t0.Add(60 * day), CheckOffset: offset}
	fbCheck := t0.Add(time.Hour + offset)

	cases := []struct {
		name string
		t    Timing
		c    Config
		now  time.Time
		want Decision
	}{
		// The 24-hour rule: never before a token is a day old, even when
		// the window asks for more.
		{"young token, window wants it now: not before 24h", with(ig, func(t *Timing) { t.ExpiresAt = t0.Add(5 * day) }), Config{Window: window}, t0.Add(day - time.Second),
			Decision{Nothing, t0.Add(day)}},
		{"young token, window wants it now: at 24h", with(ig, func(t *Timing) { t.ExpiresAt = t0.Add(5 * day) }), Config{Window: window}, t0.Add(day),
			Decision{Refresh, t0.Add(day)}},
		{"issue time unknown: 24h after registration", with(ig, func(t *Timing) { t.IssuedAt = time.Time{}; t.ExpiresAt = time.Time{} }), Config{Window: window}, t0.Add(day),
			Decision{Refresh, t0.Add(day)}},
		{"expiry unknown: 24h after issue", with(ig, func(t *Timing) { t.ExpiresAt = time.Time{} }), Config{Window: window}, t0.Add(day - time.Nanosecond),
			Decision{Nothing, t0.Add(day)}},

		// The daily check of a working Instagram token between refreshes.
		{"daily check a day and the offset after issue", ig, Config{Window: window}, t0.Add(day + offset),
			Decision{Check, t0.Add(day + offset)}},
		{"just before the daily check", ig, Config{Window: window}, t0.Add(day + offset - time.Nanosecond),
			Decision{Nothing, t0.Add(day + offset)}},
		{"daily check counts from the last check", with(ig, func(t *Timing) { t.CheckedAt = t0.Add(3 * day) }), Config{Window: window}, t0.Add(3*day + time.Hour),
			Decision{Nothing, t0.Add(4*day + offset)}},

		// The refresh window.
		{"just before the window", with(ig, func(t *Timing) { t.CheckedAt = refreshAt.Add(-time.Hour) }), Config{Window: window}, refreshAt.Add(-time.Nanosecond),
			Decision{Nothing, refreshAt}},
		{"window opens: refresh", with(ig, func(t *Timing) { t.CheckedAt = refreshAt.Add(-time.Hour) }), Config{Window: window}, refreshAt,
			Decision{Refresh, refreshAt}},
		{"refresh and check both due: refresh wins", ig, Config{Window: window}, refreshAt.Add(time.Hour),
			Decision{Refresh, refreshAt}},
		{"a wider window moves the refresh earlier", with(ig, func(t *Timing) { t.CheckedAt = t0.Add(29 * day) }), Config{Window: 30 * day}, t0.Add(30 * day),
			Decision{Refresh, t0.Add(30 * day)}},

		// Expiry: an expired Instagram token is due for its refresh; the
		// refresh step finds it beyond help. Its daily check stops
		// mattering once the refresh is due.
		{"expired Instagram token: due", with(ig, func(t *Timing) { t.CheckedAt = t0.Add(59 * day) }), Config{Window: window}, t0.Add(61 * day),
			Decision{Refresh, refreshAt}},

		// Back-off after a failed refresh: not before RetryAt, and no
		// daily checks meanwhile (the retries watch the token).
		{"backing off", with(ig, func(t *Timing) { t.Status = Degraded; t.RetryAt = refreshAt.Add(2 * time.Hour) }), Config{Window: window}, refreshAt.Add(time.Hour),
			Decision{Nothing, refreshAt.Add(2 * time.Hour)}},
		{"back-off over", with(ig, func(t *Timing) { t.Status = Degraded; t.RetryAt = refreshAt.Add(2 * time.Hour) }), Config{Window: window}, refreshAt.Add(2 * time.Hour),
			Decision{Refresh, refreshAt.Add(2 * time.Hour)}},
		{"back-off earlier than the window does not advance it", with(ig, func(t *Timing) { t.Status = Degraded; t.RetryAt = t0.Add(2 * day) }), Config{Window: window}, t0.Add(3 * day),
			Decision{Nothing, refreshAt}},
		{"degraded Instagram account gets no daily check", with(ig, func(t *Timing) { t.Status = Degraded }), Config{Window: window}, t0.Add(2 * day),
			Decision{Nothing, refreshAt}},

		// Needs re-authorization: parked, whatever the time.
		{"Instagram needs_reauth: never", with(ig, func(t *Timing) { t.Status = NeedsReauth }), Config{Window: window}, t0.Add(100 * day),
			Decision{Nothing, time.Time{}}},
		{"Facebook needs_reauth: never", with(fb, func(t *Timing) { t.Status = NeedsReauth }), Config{Window: window}, t0.Add(100 * day),
			Decision{Nothing, time.Time{}}},

		// A paused app: nothing until the pause ends, then what is due.
		{"paused: refresh deferred to the pause's end", ig, Config{Window: window, PausedUntil: refreshAt.Add(3 * time.Hour)}, refreshAt.Add(time.Hour),
			Decision{Nothing, refreshAt.Add(3 * time.Hour)}},
		{"paused, nothing due before its end: the due time stands", ig, Config{Window: window, PausedUntil: t0.Add(time.Hour)}, t0.Add(30 * time.Minute),
			Decision{Nothing, t0.Add(day + offset)}},
		{"pause over", ig, Config{Window: window, PausedUntil: refreshAt.Add(3 * time.Hour)}, refreshAt.Add(3 * time.Hour),
			Decision{Refresh, refreshAt}},
		{"paused parked account stays parked", with(ig, func(t *Timing) { t.Status = NeedsReauth }), Config{Window: window, PausedUntil: t0.Add(day)}, t0,
			Decision{Nothing, time.Time{}}},

		// Facebook Login: checked hourly, never refreshed, whatever the
		// window says.
		{"Facebook: first check an hour and the offset after registration", fb, Config{Window: window}, fbCheck,
			Decision{Check, fbCheck}},
		{"Facebook: not before", fb, Config{Window: window}, fbCheck.Add(-time.Nanosecond),
			Decision{Nothing, fbCheck}},
		{"Facebook in the window: still a check, not a refresh", with(fb, func(t *Timing) { t.CheckedAt = t0.Add(55 * day) }), Config{Window: window}, t0.Add(55*day + time.Hour + offset),
			Decision{Check, t0.Add(55*day + time.Hour + offset)}},
		{"Facebook expiring within the hour: checked at expiry", with(fb, func(t *Timing) { t.Status = Degraded; t.CheckedAt = t0.Add(60*day - 10*time.Minute) }), Config{Window: window}, t0.Add(60 * day),
			Decision{Check, t0.Add(60 * day)}},
		{"Facebook backing off is still checked hourly", with(fb, func(t *Timing) { t.RetryAt = t0.Add(5 * day) }), Config{Window: window}, fbCheck,
			Decision{Check, fbCheck}},

		// A system-user (or Page) token that never expires: hourly checks
		// for ever.
		{"never-expiring Facebook token, years on", with(fb, func(t *Timing) { t.ExpiresAt = time.Time{}; t.CheckedAt = t0.Add(3 * 365 * day) }), Config{Window: window}, t0.Add(3*365*day + time.Hour + offset),
			Decision{Check, t0.Add(3*365*day + time.Hour + offset)}},
		{"never-expiring Facebook token between checks", with(fb, func(t *Timing) { t.ExpiresAt = time.Time{}; t.CheckedAt = t0.Add(3 * 365 * day) }), Config{Window: window}, t0.Add(3*365*day + time.Hour),
			Decision{Nothing, t0.Add(3*365*day + time.Hour + offset)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.t, tc.c, tc.now)
			if got.Work != tc.want.Work || !got.At.Equal(tc.want.At) {
				t.Errorf("Decide = %s at %s, want %s at %s", got.Work, got.At, tc.want.Work, tc.want.At)
			}
			if got.Work != Nothing && got.At.After(tc.now) {
				t.Errorf("%s due at %s, after now %s", got.Work, got.At, tc.now)
			}
		})
	}
}

// TestCheckOffset: within the spread, whole seconds, stable, and spread
// over accounts.
func TestCheckOffset(t *testing.T) {
	seen := map[time.Duration]bool{}
	for _, name := range []string{"a", "b", "shop", "shop2", "brand", "x"} {
		o := CheckOffset(name)
		if o < 0 || o >= CheckSpread || o%time.Second != 0 || o != CheckOffset(name) {
			t.Errorf("CheckOffset(%q) = %s", name, o)
		}
		seen[o] = true
	}
	if len(seen) < 5 {
		t.Errorf("offsets of 6 names take only %d values", len(seen))
	}
}

// TestFacebookIsNeverRefreshed: a Facebook Login account has no next
// refresh; its token read's ttl runs to its next check.
func TestFacebookIsNeverRefreshed(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fb := Timing{Login: Facebook, Status: Valid, RegisteredAt: t0}
	if got := fb.NextRefreshAt(time.Hour); !got.IsZero() {
		t.Errorf("NextRefreshAt = %s, want zero", got)
	}
	check := t0.Add(FacebookCheckInterval)
	if got := fb.TokenFreshUntil(time.Hour); !got.Equal(check) {
		t.Errorf("TokenFreshUntil = %s, want the next check %s", got, check)
	}
	if got := fb.DueAt(time.Hour); !got.Equal(check) {
		t.Errorf("DueAt = %s, want the next check %s", got, check)
	}
	ig := Timing{Login: Instagram, Status: Valid, IssuedAt: t0, RegisteredAt: t0}
	if got, want := ig.TokenFreshUntil(time.Hour), t0.Add(MinTokenAge); !got.Equal(want) {
		t.Errorf("Instagram TokenFreshUntil = %s, want its refresh %s (not its daily check)", got, want)
	}
}
