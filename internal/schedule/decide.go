package schedule

import "time"

// Work is what the periodic work should do with an account.
type Work int

const (
	// Nothing is due now.
	Nothing Work = iota
	// Refresh the Instagram Login token.
	Refresh
	// Check the token's health: a Facebook Login token's hourly check,
	// or a working Instagram Login token's daily one.
	Check
)

func (w Work) String() string {
	switch w {
	case Refresh:
		return "refresh"
	case Check:
		return "check"
	}
	return "nothing"
}

// Config is what of the engine's configuration and state bears on when
// work is due.
type Config struct {
	// Window is the refresh window: an Instagram Login token is refreshed
	// this long before it expires.
	Window time.Duration
	// PausedUntil is the end of an app-wide pause (Meta's throttle, code
	// 4), during which no account's work may call Meta; zero: none.
	PausedUntil time.Time
}

// Decision is Decide's answer.
type Decision struct {
	Work Work
	// At is when Work fell due (not after now) for a Refresh or a Check;
	// for Nothing, when the account is next due, or the zero time when it
	// never will be without a write (it needs re-authorization).
	At time.Time
}

// Decide says what is due now for an account with timing t: its refresh,
// its health check, or nothing (and then when something will be). The
// refresh wins when both are due: it proves the token alive too. An app
// pause defers everything to its end. Decide does not judge whether
// Instagram would accept a due refresh (an expired token is due, and the
// refresh step finds it beyond help); that needs more than the timing.
func Decide(t Timing, c Config, now time.Time) Decision {
	at := t.DueAt(c.Window)
	switch {
	case at.IsZero():
		return Decision{Work: Nothing}
	case now.Before(c.PausedUntil):
		if at.Before(c.PausedUntil) {
			at = c.PausedUntil
		}
		return Decision{Work: Nothing, At: at}
	case at.After(now):
		return Decision{Work: Nothing, At: at}
	case t.Login == Facebook:
		return Decision{Work: Check, At: at}
	case t.InstagramCheckDue(c.Window, now):
		check, _ := t.InstagramCheckDueAt()
		return Decision{Work: Check, At: check}
	}
	return Decision{Work: Refresh, At: t.RefreshDueAt(c.Window)}
}
