package instagram

import (
	"fmt"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// What the periodic work does with an account the schedule hands out is a
// decision on the account's timing alone (decideDue): no storage, no Meta,
// no Vault types, so that it can be tested at its edges as a table
// (due_test.go) and move with the rest of the timing rules.

// dueKind is one thing the periodic work can do with an account.
type dueKind int

const (
	// dueNothing: not due after all (a write since the account was
	// queued moved it, or it is parked); it goes back in the queue as
	// stored.
	dueNothing dueKind = iota
	// dueRefused: the refresh was due but Instagram would refuse it now
	// (the account needs re-authorization, or a write since it was queued
	// left a token younger than 24 hours). Back in the queue as stored,
	// and counted as a failed refresh.
	dueRefused
	// dueNeedsReauth: an Instagram Login token that nothing but its owner
	// can save (expired, or none held): marked needs_reauth.
	dueNeedsReauth
	// dueInstagramCheck: the daily check of a working token its login
	// refreshes (Instagram Login's).
	dueInstagramCheck
	// dueFacebookCheck: the hourly check of a token its login has no
	// refresh grant for (Facebook Login's).
	dueFacebookCheck
	// dueRefresh: the refresh of a token its login refreshes.
	dueRefresh
)

// dueWork is decideDue's answer.
type dueWork struct {
	kind dueKind
	// why is what dueNeedsReauth records on the account, and why a
	// dueRefused refresh would be refused.
	why string
}

// decideDue says what is due now for an account with timing t. holdsToken
// is whether it holds a token at all (a deauthorized account does not);
// window is the configured refresh window.
//
// Accounts whose login has no refresh grant (Facebook Login) are only ever
// checked.
// An Instagram Login account whose token can no longer be refreshed is
// marked needs_reauth; a working one is checked daily while its refresh is
// not due, and refreshed once it is.
func decideDue(t schedule.Account, holdsToken bool, window time.Duration, now time.Time) dueWork {
	// When the refresh or a check falls due is internal/schedule's rule;
	// what can be done about it takes the token too. No app pause here:
	// the periodic run stops handing out work while one holds.
	due := schedule.Decide(t.Timing(), schedule.Config{Window: window}, now)
	if !loginNamed(t.Login).refreshes() {
		if !holdsToken || due.Work != schedule.Check {
			return dueWork{kind: dueNothing}
		}
		return dueWork{kind: dueFacebookCheck}
	}
	if t.Status != statusNeedsReauth {
		if why := beyondRefresh(t, holdsToken, now); why != "" {
			// Say so on the account and stop handing it out, rather
			// than claim it again at every tick.
			return dueWork{kind: dueNeedsReauth, why: why}
		}
	}
	if holdsToken && due.Work == schedule.Check {
		return dueWork{kind: dueInstagramCheck}
	}
	switch {
	case t.Status == statusNeedsReauth:
		return dueWork{kind: dueRefused, why: "needs re-authorization"}
	case schedule.TooYoungToRefresh(t.IssuedAt, now):
		return dueWork{kind: dueRefused, why: youngTokenReason(loginNamed(t.Login), t.IssuedAt)}
	case due.Work != schedule.Refresh:
		return dueWork{kind: dueNothing}
	}
	return dueWork{kind: dueRefresh}
}

// beyondRefresh says why a refreshed token (Instagram Login's) can never
// be refreshed again, if it cannot: it expired (Meta refuses expired
// tokens: only its owner authorizing again renews it), or the account holds
// none. "" while a refresh can still save it.
func beyondRefresh(t schedule.Account, holdsToken bool, now time.Time) string {
	switch {
	case !holdsToken:
		return "the account holds no token; the owner must authorize again (auth-url)"
	case t.Expired(now):
		return fmt.Sprintf("the token expired at %s before it could be refreshed, and %s cannot refresh an expired token; the owner must authorize again (auth-url)",
			formatTime(t.ExpiresAt), loginNamed(t.Login).product())
	}
	return ""
}

// youngTokenReason says why a token of login l issued at issuedAt cannot
// be refreshed yet, and from when it can.
func youngTokenReason(l login, issuedAt time.Time) string {
	return fmt.Sprintf("the token was issued at %s and %s refreshes tokens only once they are 24 hours old (from %s)",
		formatTime(issuedAt), l.product(), formatTime(issuedAt.Add(minTokenAge)))
}
