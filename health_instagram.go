package instagram

import (
	"context"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// An Instagram Login token is refreshed about once a month, and a refresh is
// when Meta would say the token is dead. Between refreshes a password
// change, a removed permission or a security reset invalidates it without
// telling anyone (only removing the app sends the Deauthorize callback), and
// applications would be handed a dead token, reported valid, for weeks. So
// the periodic work also checks each working Instagram Login token once a
// day with the cheapest call it allows, graph.instagram.com/me: one Graph
// call a day per account, far inside Meta's per-account limits. When each
// check falls due is internal/schedule's rule (InstagramCheckDueAt).

// checkInstagramAccount is the daily health check of an Instagram Login
// account whose refresh is not due. The caller holds the account's lock and
// has loaded stored from storage. A token Meta refuses as invalid (code 190
// and the like) marks the account needs_reauth, so token/<name> stops
// serving it and status reports it; a check Meta cannot answer is recorded
// and tried again a day later, the status unchanged since nothing was
// learned about the token. The token itself is never changed.
func (b *backend) checkInstagramAccount(ctx context.Context, s logical.Storage, meta instagramClient, cfg *config, stored *account, now time.Time) (*account, error) {
	next := stored.clone()
	_, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.User, error) {
		return meta.Me(ctx, stored.AccessToken)
	})
	if err == nil {
		next.recordInstagramCheck(now)
		return b.saveCheck(ctx, s, stored, next, -1)
	}

	if _, app := graph.AppProblemOf(err); app {
		b.stats.recordHealthCheck(false)
		return stored, &workError{check: true, account: stored.Name, class: graph.Classify(err),
			msg: b.appLevelFailure(stored, err, stored.AccessToken, cfg.AppSecret)}
	}
	msg := "health check (me) failed: " + graph.Redact(err.Error(), stored.AccessToken, cfg.AppSecret)
	class := graph.Classify(err)
	if class == graph.ClassReauth {
		why := msg + "; the owner must authorize again (auth-url)"
		if sessionEndedIn(err) {
			why = sessionEndedMessage("health check (me)")
		}
		next.recordCheckNeedsReauth(now, why)
		return b.saveCheck(ctx, s, stored, next, class)
	}
	next.recordInstagramCheckFailure(now, msg)
	return b.saveFailedCheck(ctx, s, stored, next, class)
}
