package instagram

import (
	"errors"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/notify"
)

// An account's lifecycle. Its status says what the engine can do for it:
//
//	valid            the token works; Instagram Login tokens are refreshed
//	                 on schedule and checked daily, Facebook Login tokens
//	                 checked hourly
//	expiring         (Facebook Login only) the token works but expires
//	                 within refresh_window, and only its owner can renew it
//	refresh_failing  (Instagram Login only) the last refresh failed in a way
//	                 that may pass; it is retried with back-off (RetryAt)
//	needs_reauth     only the owner authorizing again makes it work: the
//	                 periodic work stops taking it up and token/<name> stops
//	                 serving it
//
// Every change of status, and of the failure record kept beside it
// (RetryAt, LastError, LastErrorAt, ConsecutiveFailures), goes through the
// transitions in this file: nothing else assigns Status. They work on a
// record the caller owns (a clone, or one being built) and never call Meta
// or storage, so account_state_test.go can test each one from each status.

// maxLastError bounds the error kept on an account, and so what is logged
// and answered with it: Meta's text comes cut to graph.MaxMessageBytes, and
// the engine's words around it stay well inside this; anything longer (from
// any source) is cut here, where every transition that keeps one passes.
const maxLastError = 2 * graph.MaxMessageBytes

// keptError is msg as an account keeps it: cut to maxLastError bytes on a
// rune boundary.
func keptError(msg string) string { return graph.CutText(msg, maxLastError) }

// markServing records that the account's token was just obtained or
// confirmed working (a registration, a Page chosen, a healthy Facebook
// check): valid, or expiring for a token its login cannot refresh that
// expires within window. Any failure on record is over.
func (a *account) markServing(now time.Time, window time.Duration) {
	a.Status = servingStatus(a, now, window)
	a.clearFailures()
}

// servingStatus is the status of a working account: valid, or expiring
// once a token its login has no refresh grant for (a Facebook user token,
// or a system-user token with an expiry; Page tokens and never-expiring
// system-user tokens have none) expires within the refresh window.
func servingStatus(a *account, now time.Time, window time.Duration) string {
	if !a.login().refreshes() && !a.ExpiresAt.IsZero() && a.ExpiresAt.Sub(now) <= window {
		return statusExpiring
	}
	return statusValid
}

// clearFailures forgets a failure record the account has left behind. The
// time of the last error stays, for the record.
func (a *account) clearFailures() {
	a.RetryAt = time.Time{}
	a.ConsecutiveFailures = 0
	a.LastError = ""
}

// markNeedsReauth records that only the account's owner can make it work
// again (a token Meta refuses, one that expired, one its owner revoked):
// the periodic work stops taking it up (timing.dueAt is zero), token/<name>
// stops serving it and status counts it. It counts as one more failure.
// Every transition to needs_reauth goes through here; the token is left as
// it was, for the record (markDeauthorized drops it first).
func (a *account) markNeedsReauth(now time.Time, why string) {
	a.Status = statusNeedsReauth
	a.RetryAt = time.Time{}
	a.ConsecutiveFailures++
	a.LastError = keptError(why)
	a.LastErrorAt = now
}

// markDeauthorized records that the owner removed the app (Meta's
// deauthorize callback): the tokens are revoked at Meta, so they are
// dropped (for a Facebook Login account, the user token a Page token came
// from too), and the account needs re-authorization like any other.
//
// Before issue 16 this transition alone did not count a failure; no test
// or document relied on that, and it now counts one like every other way
// into needs_reauth.
func (a *account) markDeauthorized(now time.Time) {
	a.AccessToken = ""
	a.UserAccessToken = ""
	a.markNeedsReauth(now, deauthorizedError)
	a.notifyAs = notify.Deauthorized // not account.needs_reauth
}

// recordRefreshSuccess stores the token an Instagram refresh gave: a new
// issue time, the expiry Meta reported (unknown when it reported none), and
// a valid account with no failure on record.
func (a *account) recordRefreshSuccess(now time.Time, tok *graph.LongLivedToken) {
	a.AccessToken = tok.AccessToken
	a.TokenType = normalTokenType(tok.TokenType)
	a.IssuedAt = now
	a.ExpiresAt = time.Time{}
	if tok.ExpiresIn > 0 {
		a.ExpiresAt = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	}
	a.LastRefreshedAt = now
	a.Status = statusValid
	a.clearFailures()
}

// recordRefreshFailure notes a failed refresh without touching the token.
// msg is err's message with secrets removed. A token Meta refuses for good
// (graph.ClassReauth) needs its owner and stops the retries; anything else
// makes the account refresh_failing, retried after backoff(failures) or as
// long as Meta asked (Retry-After) if longer, but never after the last
// minute in which the token could still be saved.
//
// Code 4 and the other app-level answers never get here: they pause every
// call (metaObserver.AppProblem) and leave the account alone.
func (a *account) recordRefreshFailure(now time.Time, err error, msg string, backoff func(failures int) time.Duration) {
	if sessionEndedIn(err) {
		msg = sessionEndedMessage("refresh")
	}
	if graph.Classify(err) == graph.ClassReauth {
		a.markNeedsReauth(now, msg)
		return
	}
	a.ConsecutiveFailures++
	a.LastError = keptError(msg)
	a.LastErrorAt = now
	a.Status = statusRefreshFailing
	delay := backoff(a.ConsecutiveFailures)
	var gerr *graph.Error
	if errors.As(err, &gerr) && gerr.RetryAfter > delay {
		delay = gerr.RetryAfter
	}
	retry := now.Add(delay)
	if !a.ExpiresAt.IsZero() {
		if last := a.ExpiresAt.Add(-backoffBase); retry.After(last) && last.After(now) {
			retry = last
		}
	}
	a.RetryAt = retry
}

// recordInstagramCheck records a daily check (me) that found the token
// working. Only valid accounts are checked, so the status stays; an error
// on record was an earlier check's.
func (a *account) recordInstagramCheck(now time.Time) {
	a.LastCheckedAt = now
	a.LastError = ""
}

// recordInstagramCheckFailure records a daily check Meta could not answer:
// nothing was learned about the token, so the status stays and the next
// check comes a day later. Unlike a Facebook check's, this failure is not
// counted in ConsecutiveFailures, which for an Instagram Login account
// counts failed refreshes (health_instagram_test.go asserts 0 here).
func (a *account) recordInstagramCheckFailure(now time.Time, msg string) {
	a.LastCheckedAt = now
	a.LastError = keptError(msg)
	a.LastErrorAt = now
}

// recordFacebookCheck records what a debug_token check of a working token
// reported: the served token's expiry as Meta sees it (a Page token's is
// zero, never; a user token keeps its known expiry if Meta reports none),
// the data access expiry, the granted scopes when Meta lists them, and the
// status that follows (markServing).
func (a *account) recordFacebookCheck(now time.Time, info *graph.TokenInfo, window time.Duration) {
	a.LastCheckedAt = now
	if !info.ExpiresAt.IsZero() || a.PageID != "" {
		a.ExpiresAt = info.ExpiresAt
	}
	if a.PageID == "" {
		a.UserTokenExpiresAt = a.ExpiresAt
	}
	a.DataAccessExpiresAt = info.DataAccessExpiresAt
	if len(info.Scopes) > 0 {
		a.Scopes = cleanScopes(info.Scopes)
	}
	a.markServing(now, window)
}

// recordFacebookCheckFailure records a debug_token check Meta could not
// answer: nothing was learned about the token, so the status stays; the
// failure is counted and the next check comes at its usual time.
func (a *account) recordFacebookCheckFailure(now time.Time, msg string) {
	a.LastCheckedAt = now
	a.ConsecutiveFailures++
	a.LastError = keptError(msg)
	a.LastErrorAt = now
}

// recordCheckNeedsReauth records a health check (of either login) that
// found the token dead: checked now, and needs_reauth.
func (a *account) recordCheckNeedsReauth(now time.Time, why string) {
	a.LastCheckedAt = now
	a.markNeedsReauth(now, why)
}

// migrateStatus gives a record stored without a status (the first
// versions wrote none for working accounts) the status it meant.
func (a *account) migrateStatus() {
	if a.Status == "" {
		a.Status = statusValid
	}
}
