package schedule

import (
	"hash/fnv"
	"time"
)

const (
	// MinTokenAge is how old an Instagram Login token must be before
	// Instagram refreshes it.
	MinTokenAge = 24 * time.Hour

	// FacebookCheckInterval is the least time between two health checks of
	// one Facebook Login account. Facebook has no refresh grant, so those
	// tokens are only ever checked.
	FacebookCheckInterval = time.Hour

	// InstagramCheckInterval is the least time between two health checks
	// of a working Instagram Login token between its refreshes: one cheap
	// call a day, since only a refresh would otherwise find a token that a
	// password change or a security reset killed.
	InstagramCheckInterval = 24 * time.Hour

	// CheckSpread is the range of the per-account offset (CheckOffset)
	// added to both check intervals, so that accounts registered together
	// (a restore, a script) are not all checked in the same periodic run
	// for ever.
	CheckSpread = 30 * time.Minute
)

// CheckOffset is name's fixed share of CheckSpread, in whole seconds: stable
// across restarts and nodes, different between accounts.
func CheckOffset(name string) time.Duration {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return time.Duration(h.Sum32()%uint32(CheckSpread/time.Second)) * time.Second
}

// Login is how the account's owner authorized it.
type Login int

const (
	// Instagram Login: the token is refreshed, and checked daily between
	// refreshes while it works.
	Instagram Login = iota
	// Facebook Login: the token cannot be refreshed, only checked hourly.
	Facebook
)

// Status is what the timing rules need of an account's status.
type Status int

const (
	// Valid: the token works and its last refresh (if any) succeeded.
	Valid Status = iota
	// Degraded: still served, but not plainly valid (a refresh failing and
	// backing off, a Facebook token nearing its end). An Instagram Login
	// account in this state is not given daily checks: its retries
	// already watch it.
	Degraded
	// NeedsReauth: only the owner authorizing again helps; the account is
	// parked, off the schedule.
	NeedsReauth
)

// Timing is what the rules read of one account. Zero times are unknown
// (ExpiresAt: unknown, or a token that never expires).
type Timing struct {
	Login        Login
	Status       Status
	ExpiresAt    time.Time
	IssuedAt     time.Time
	RegisteredAt time.Time
	// RetryAt is set after a failed refresh: the back-off's end.
	RetryAt time.Time
	// CheckedAt is the last health check; zero: none since registration.
	CheckedAt time.Time
	// CheckOffset is the account's share of CheckSpread (CheckOffset).
	CheckOffset time.Duration
}

// DueAt is when the periodic work should next take the account up, or the
// zero time when it should not (it needs re-authorization): its next
// refresh (RefreshDueAt) or, for a working Instagram Login account, its
// daily health check if that comes first (InstagramCheckDueAt). For a
// Facebook Login account it is the next health check (FacebookCheckDueAt):
// those tokens are never refreshed.
func (t Timing) DueAt(window time.Duration) time.Time {
	refresh, check := t.NextRefreshAt(window), t.NextCheckAt()
	if refresh.IsZero() || (!check.IsZero() && check.Before(refresh)) {
		return check
	}
	return refresh
}

// NextRefreshAt is an account's next refresh: zero for a Facebook Login
// account, which is never refreshed, and for one that needs
// re-authorization.
func (t Timing) NextRefreshAt(window time.Duration) time.Time {
	if t.Status == NeedsReauth || t.Login == Facebook {
		return time.Time{}
	}
	return t.RefreshDueAt(window)
}

// TokenFreshUntil is when the engine next takes a look at the token it
// serves that may replace or condemn it, so the end of a token read's ttl:
// the refresh of an Instagram Login token (not its daily check), the next
// health check of a Facebook Login one; zero when the account needs
// re-authorization.
func (t Timing) TokenFreshUntil(window time.Duration) time.Time {
	if t.Login == Facebook {
		return t.NextCheckAt()
	}
	return t.NextRefreshAt(window)
}

// NextCheckAt is the account's next health check: hourly for a Facebook
// Login account, daily between refreshes for a working Instagram Login one;
// zero when there will be none.
func (t Timing) NextCheckAt() time.Time {
	if t.Login == Facebook {
		if t.Status == NeedsReauth {
			return time.Time{}
		}
		return t.FacebookCheckDueAt()
	}
	at, _ := t.InstagramCheckDueAt()
	return at
}

// RefreshDueAt is when an Instagram Login token should next be refreshed:
// window before its expiry, after any back-off (RetryAt). It never makes a
// token worse: Instagram refuses refreshes of tokens younger than 24 hours,
// so the earliest due time is 24 hours after issue (or after registration
// when the issue time is unknown, which also teaches the engine the token's
// expiry at the first refresh Instagram certainly allows).
func (t Timing) RefreshDueAt(window time.Duration) time.Time {
	base := t.IssuedAt
	if base.IsZero() {
		base = t.RegisteredAt
	}
	earliest := base.Add(MinTokenAge)
	due := earliest
	if !t.ExpiresAt.IsZero() {
		if byWindow := t.ExpiresAt.Add(-window); byWindow.After(earliest) {
			due = byWindow
		}
	}
	if t.RetryAt.After(due) {
		due = t.RetryAt
	}
	return due
}

// FacebookCheckDueAt is when a Facebook Login account is next checked: an
// hour and its offset after the last check (registration counts as one), or
// at its token's expiry if that comes first, when the account is marked
// needs_reauth without asking Meta.
func (t Timing) FacebookCheckDueAt() time.Time {
	base := t.CheckedAt
	if base.IsZero() {
		base = t.RegisteredAt
	}
	due := base.Add(FacebookCheckInterval + t.CheckOffset)
	if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(due) {
		due = t.ExpiresAt
	}
	return due
}

// InstagramCheckDueAt is when a working Instagram Login account is next
// checked: a day and its offset after the last sign of life of its token (a
// check, its issue or its registration). false for an account that is not
// checked: a Facebook Login one (FacebookCheckDueAt), one that needs
// re-authorization, and one whose refresh is failing, which its retries
// already watch.
func (t Timing) InstagramCheckDueAt() (time.Time, bool) {
	if t.Login == Facebook || t.Status != Valid || !t.RetryAt.IsZero() {
		return time.Time{}, false
	}
	base := t.RegisteredAt
	for _, at := range []time.Time{t.IssuedAt, t.CheckedAt} {
		if at.After(base) {
			base = at
		}
	}
	return base.Add(InstagramCheckInterval + t.CheckOffset), true
}

// InstagramCheckDue reports whether the account's daily check, and not its
// refresh, is what is due now.
func (t Timing) InstagramCheckDue(window time.Duration, now time.Time) bool {
	check, ok := t.InstagramCheckDueAt()
	return ok && !check.After(now) && t.RefreshDueAt(window).After(now)
}

// Expired reports whether a token that expires at expiresAt (zero: unknown,
// or never) is past its expiry at now. The instant of expiry counts as
// expired: Meta refuses the token from then on.
func Expired(expiresAt, now time.Time) bool {
	return !expiresAt.IsZero() && !now.Before(expiresAt)
}

// TooYoungToRefresh reports whether a token issued at issuedAt (zero:
// unknown) is younger than the MinTokenAge Instagram requires before a
// refresh: such a refresh is refused, whatever is due.
func TooYoungToRefresh(issuedAt, now time.Time) bool {
	return !issuedAt.IsZero() && now.Sub(issuedAt) < MinTokenAge
}
