package instagram

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// Facebook Login tokens cannot be refreshed: a long-lived user token lives
// about 60 days and only its owner logging in again renews it, and a Page
// token derived from it does not expire but dies with a password change, a
// lost Page role or the app's removal. So the periodic work does not refresh
// them: it checks them with debug_token, hourly at most per account, and
// reports what it finds on the account.
const (
	// healthCheckInterval is the least time between two health checks of
	// one account.
	healthCheckInterval = schedule.FacebookCheckInterval

	// healthCheckSpread is the range of the per-account offset added to
	// the interval, so that accounts registered together (a restore, a
	// script) are not all checked in the same periodic run for ever: each
	// account's checks come every hour plus its own offset.
	healthCheckSpread = schedule.CheckSpread
)

// reauthDueAt is when the owner of an account whose login has no refresh
// grant must authorize again at the latest: its token's expiry; zero for a
// Page token (and for accounts the engine refreshes).
func (a *account) reauthDueAt() time.Time {
	if a.login().refreshes() {
		return time.Time{}
	}
	return a.ExpiresAt
}

// errNoRefreshGrant answers a manual refresh of a Facebook Login account.
func errNoRefreshGrant(name string) error {
	return fmt.Errorf("%w: account %q came through Facebook Login, which has no refresh grant: a user token, or a system-user token that expires, is renewed only by its owner authorizing again (auth-url), and a Page token or a never-expiring system-user token does not expire; the engine checks the token hourly and reports its health on accounts/%s",
		errRefreshRefused, name, name)
}

// checkFacebookAccount is the periodic work for a Facebook Login account
// once its check is due (decideDue): a debug_token health check. The caller
// holds the account's lock and has loaded stored from storage. A token Meta reports invalid (is_valid false,
// or code 190) marks the account needs_reauth; an expired user token does so
// without a call; a user token within the refresh window is reported
// expiring. A check Meta cannot answer is recorded on the account and
// tried again at the next hourly check; the status stays as it was, since
// nothing was learned about the token. The token itself is never changed.
func (b *backend) checkFacebookAccount(ctx context.Context, s logical.Storage, fb facebookClient, cfg *config, stored *account, now time.Time) (*account, error) {
	name := stored.Name
	next := stored.clone()
	if stored.expired(now) {
		next.recordCheckNeedsReauth(now, fmt.Sprintf("the %s expired at %s: Facebook cannot renew it; the owner must authorize again (auth-url)", stored.tokenNoun(), formatTime(stored.ExpiresAt)))
		return b.saveCheck(ctx, s, stored, next, graph.ClassReauth)
	}

	info, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.TokenInfo, error) {
		return fb.DebugToken(ctx, stored.AccessToken)
	})
	if _, app := graph.AppProblemOf(err); app {
		b.stats.recordHealthCheck(false)
		return stored, &workError{check: true, account: name, class: graph.Classify(err),
			msg: b.appLevelFailure(stored, err, stored.AccessToken, stored.UserAccessToken, cfg.AppSecret)}
	}
	if err != nil {
		// debug_token's own errors concern the call (the app's
		// credentials, Meta's availability), not the token checked: the
		// token's verdict comes in data.is_valid.
		next.recordFacebookCheckFailure(now, "health check (debug_token) failed: "+graph.Redact(err.Error(), stored.AccessToken, stored.UserAccessToken, cfg.AppSecret))
		return b.saveFailedCheck(ctx, s, stored, next, graph.Classify(err))
	}

	if !info.IsValid || (info.Error != nil && info.Error.Code == 190) {
		why := "Facebook reports the token invalid"
		if info.Error != nil {
			why += ": " + graph.Redact(info.Error.Error(), stored.AccessToken, stored.UserAccessToken, cfg.AppSecret)
		}
		why += "; the owner must authorize again (auth-url)"
		if sessionEnded(info.Error) {
			why = sessionEndedMessage("health check (debug_token)")
		}
		next.recordCheckNeedsReauth(now, why)
		return b.saveCheck(ctx, s, stored, next, graph.ClassReauth)
	}

	next.recordFacebookCheck(now, info, cfg.RefreshWindow)
	if next.Status == statusExpiring && stored.Status != statusExpiring {
		b.Logger().Warn("Facebook token nearing its end: its owner must authorize again", "account", name, "token_kind", next.TokenKind,
			"reauth_due_at", formatTime(next.reauthDueAt()))
	}
	return b.saveCheck(ctx, s, stored, next, -1)
}

// saveFailedCheck stores a health check Meta could not answer: nothing was
// learned about the token, so only the error is recorded, and the next
// check comes at its usual time.
func (b *backend) saveFailedCheck(ctx context.Context, s logical.Storage, stored, next *account, class graph.Class) (*account, error) {
	b.stats.recordHealthCheck(false)
	if err := b.saveAccount(ctx, s, next); err != nil {
		return stored, err
	}
	b.Logger().Warn("health check failed", "account", next.Name, "consecutive_failures", next.ConsecutiveFailures,
		"next_check_at", formatTime(next.scheduled().NextCheckAt()), "error", next.LastError)
	return next, &workError{check: true, account: next.Name, class: class, msg: next.LastError}
}

// saveCheck stores the outcome of a health check; class is the failure's
// class, or -1 for a token found healthy.
func (b *backend) saveCheck(ctx context.Context, s logical.Storage, stored, next *account, class graph.Class) (*account, error) {
	if err := b.saveAccount(ctx, s, next); err != nil {
		return stored, err
	}
	if class < 0 {
		b.stats.recordHealthCheck(true)
		b.Logger().Debug("health check passed", "account", next.Name, "status", next.Status)
		return next, nil
	}
	b.stats.recordHealthCheck(false)
	b.Logger().Warn("account needs re-authorization", "account", next.Name, "error", next.LastError)
	return next, &workError{check: true, account: next.Name, class: class, msg: next.LastError}
}
