package instagram

import (
	"time"

	rules "github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// The timing rules (when a token is refreshed, when it is checked, what is
// due now) live in internal/schedule, a pure package tested as a table at
// their edges; imported as rules, since this package's own schedule is the
// in-memory queue. What stays here is the mapping from the engine's timing
// to the rules' Timing, and the methods its callers use.

// rules is the account's timing as internal/schedule reads it.
func (t timing) rules() rules.Timing {
	login := rules.Instagram
	if t.login == loginFacebook {
		login = rules.Facebook
	}
	status := rules.Degraded
	switch t.status {
	case statusValid:
		status = rules.Valid
	case statusNeedsReauth:
		status = rules.NeedsReauth
	}
	return rules.Timing{
		Login:        login,
		Status:       status,
		ExpiresAt:    t.expiresAt,
		IssuedAt:     t.issuedAt,
		RegisteredAt: t.registeredAt,
		RetryAt:      t.retryAt,
		CheckedAt:    t.checkedAt,
		CheckOffset:  t.checkOffset,
	}
}

// healthCheckOffset is name's fixed share of the checks' spread
// (rules.CheckOffset).
func healthCheckOffset(name string) time.Duration { return rules.CheckOffset(name) }

// dueAt is when the periodic work should next take the account up; zero
// when it should not (rules.Timing.DueAt).
func (t timing) dueAt(window time.Duration) time.Time { return t.rules().DueAt(window) }

// nextRefreshAt is the account's next refresh as the engine reports it
// (rules.Timing.NextRefreshAt).
func (t timing) nextRefreshAt(window time.Duration) time.Time {
	return t.rules().NextRefreshAt(window)
}

// tokenFreshUntil is when a token read's ttl ends: the next look at the
// token that may replace or condemn it (rules.Timing.TokenFreshUntil).
func (t timing) tokenFreshUntil(window time.Duration) time.Time {
	return t.rules().TokenFreshUntil(window)
}

// nextCheckAt is the account's next health check; zero when there will be
// none (rules.Timing.NextCheckAt).
func (t timing) nextCheckAt() time.Time { return t.rules().NextCheckAt() }

// instagramCheckDueAt is when a working Instagram Login account is next
// checked, and false when it is not checked (rules.Timing.InstagramCheckDueAt).
func (t timing) instagramCheckDueAt() (time.Time, bool) { return t.rules().InstagramCheckDueAt() }
