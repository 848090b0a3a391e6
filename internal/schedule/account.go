package schedule

import (
	"hash/fnv"
	"time"
)

// The stored strings an account's status and login take. They are the
// engine's storage format and API (accounts/<name> answers them), and the
// schedule counts accounts by them (Figures), so they are defined here,
// where both the plugin and the queue read them.
const (
	StatusValid          = "valid"
	StatusRefreshFailing = "refresh_failing"
	StatusNeedsReauth    = "needs_reauth"
	// StatusExpiring is a Facebook Login account whose token still works
	// but expires within the refresh window: Facebook has no refresh
	// grant, so only its owner authorizing again renews it. Still served.
	StatusExpiring = "expiring"

	LoginInstagram = "instagram"
	LoginFacebook  = "facebook"
	// LoginThreads is refreshed as Instagram Login is (th_refresh_token).
	LoginThreads = "threads"
)

// Account is what the schedule keeps of one account: enough to recompute
// its due time when the refresh window changes, to find a Meta user's
// accounts and to report the figures, without reading storage.
type Account struct {
	ExpiresAt    time.Time // zero: unknown
	IssuedAt     time.Time // zero: unknown
	RegisteredAt time.Time
	RetryAt      time.Time // set after a failed refresh: back-off
	Status       string

	// Facebook Login accounts are never refreshed (Facebook has no refresh
	// grant): for them the schedule holds the next health check instead.
	Login       string
	CheckedAt   time.Time     // last health check; zero: none since registration
	CheckOffset time.Duration // per-account spread of the checks (CheckOffset)

	// Owners are hashes of the owner's ids at Meta (Instagram user id,
	// app-scoped id; 0 when unknown: OwnerHash), so that Meta's deauthorize
	// and data-deletion callbacks find a user's accounts in memory rather
	// than by reading every account from storage. Hashes rather than the
	// ids keep this at 16 bytes an account; a collision only makes a
	// caller load one account more, since callers check the stored ids.
	Owners [2]uint64

	// Scopes are the scopes granted to the token (empty: unknown), which
	// the queue keeps as bits (figures), not as names.
	Scopes []string
}

// OwnerHash is an id's entry in Account.Owners.
func OwnerHash(id string) uint64 {
	if id == "" {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64() | 1 // never 0, which stands for no id
}

// Timing is the account as the timing rules read it.
func (a Account) Timing() Timing {
	login := Instagram
	if a.Login == LoginFacebook {
		login = Facebook
	}
	status := Degraded
	switch a.Status {
	case StatusValid:
		status = Valid
	case StatusNeedsReauth:
		status = NeedsReauth
	}
	return Timing{
		Login:        login,
		Status:       status,
		ExpiresAt:    a.ExpiresAt,
		IssuedAt:     a.IssuedAt,
		RegisteredAt: a.RegisteredAt,
		RetryAt:      a.RetryAt,
		CheckedAt:    a.CheckedAt,
		CheckOffset:  a.CheckOffset,
	}
}

// DueAt is when the periodic work should next take the account up; zero
// when it should not (Timing.DueAt).
func (a Account) DueAt(window time.Duration) time.Time { return a.Timing().DueAt(window) }

// NextRefreshAt is the account's next refresh as the engine reports it
// (Timing.NextRefreshAt).
func (a Account) NextRefreshAt(window time.Duration) time.Time {
	return a.Timing().NextRefreshAt(window)
}

// TokenFreshUntil is when a token read's ttl ends: the next look at the
// token that may replace or condemn it (Timing.TokenFreshUntil).
func (a Account) TokenFreshUntil(window time.Duration) time.Time {
	return a.Timing().TokenFreshUntil(window)
}

// NextCheckAt is the account's next health check; zero when there will be
// none (Timing.NextCheckAt).
func (a Account) NextCheckAt() time.Time { return a.Timing().NextCheckAt() }

// InstagramCheckDueAt is when a working Instagram Login account is next
// checked, and false when it is not checked (Timing.InstagramCheckDueAt).
func (a Account) InstagramCheckDueAt() (time.Time, bool) { return a.Timing().InstagramCheckDueAt() }

// Expired reports whether the token is past its known expiry (Expired).
func (a Account) Expired(now time.Time) bool { return Expired(a.ExpiresAt, now) }

// Record is one account as the schedule index stores it and a rebuild
// reads it: its name, what the schedule keeps of it, and whether it is
// pending (written before the account: the account may not match).
type Record struct {
	Name    string
	Account Account
	Pending bool
}
