package graph

import (
	"context"
	"slices"

	"golang.org/x/oauth2"
)

// Threads (the Threads API, config login=threads) has Instagram Login's
// token model on hosts and grant names of its own: a dialog at threads.net,
// a code exchanged for a one-hour token at graph.threads.net, that token
// exchanged for a 60-day one (th_exchange_token), refreshed once at least
// 24 hours old and not expired (th_refresh_token), and /v1.0/me. The app ID
// and secret are the Threads app's, not the Instagram or Meta app's. Every
// error, the code exchange's included, comes in the Graph shape, which
// parseError already reads.

// ThreadsScopeBasic is the permission every Threads endpoint requires, the
// refresh included: Meta refuses to refresh a token granted without it.
const ThreadsScopeBasic = "threads_basic"

// ThreadsScopes returns every Threads permission Meta documents,
// ThreadsScopeBasic first. A fresh slice each call: callers may keep it.
func ThreadsScopes() []string {
	return []string{
		ThreadsScopeBasic,
		"threads_content_publish",
		"threads_manage_replies",
		"threads_read_replies",
		"threads_manage_insights",
	}
}

// IsThreadsScope reports whether name is a Threads permission.
func IsThreadsScope(name string) bool { return slices.Contains(ThreadsScopes(), name) }

// threadsMeFields are the Threads /me fields User holds.
const threadsMeFields = "id,username,name"

// ThreadsAuthorizeURL returns the Threads dialog URL
// (threads.net/oauth/authorize) that the account owner opens. The scopes go
// comma-separated, as for Meta's other dialogs; Meta requires
// ThreadsScopeBasic among them, which the caller checks.
func (c *Client) ThreadsAuthorizeURL(redirectURI string, scopes []string, state string) string {
	cfg := oauth2.Config{
		ClientID:    c.appID,
		Endpoint:    oauth2.Endpoint{AuthURL: joinURL(c.ep.ThreadsAuthBaseURL, "oauth/authorize")},
		RedirectURL: redirectURI,
	}
	return cfg.AuthCodeURL(state, authURLOptions(scopes, false)...)
}

// ThreadsExchangeCode trades a Threads authorization code (cleaned with
// CleanCode: Threads appends "#_" too) for a short-lived (one-hour) token at
// graph.threads.net/oauth/access_token. redirectURI must be the one the
// authorization request used. The answer is {"access_token","user_id"}: the
// ShortLivedToken has no Permissions (Threads does not list them here), and
// UserID is the Threads user id, exact.
//
// Not golang.org/x/oauth2's Config.Exchange, for the reason ExchangeCode
// gives: user_id, a JSON number that may exceed 2^53, would reach us only as
// a float64 through Token.Extra.
func (c *Client) ThreadsExchangeCode(ctx context.Context, code, redirectURI string) (*ShortLivedToken, error) {
	return c.exchangeCode(ctx, threadsAPI, code, redirectURI)
}

// ThreadsExchangeForLongLived trades a short-lived Threads token for a
// 60-day one (grant_type=th_exchange_token). It needs the app secret, so it
// runs server side only.
func (c *Client) ThreadsExchangeForLongLived(ctx context.Context, shortLived string) (*LongLivedToken, error) {
	return c.exchangeForLongLived(ctx, threadsAPI, shortLived)
}

// ThreadsRefresh extends a long-lived Threads token
// (grant_type=th_refresh_token) for 60 days from now. Meta refuses a token
// younger than 24 hours, an expired one, and one granted without
// threads_basic. Store the access_token it returns.
//
// It carries appsecret_proof, as Refresh does and for the same reasons
// (a Graph call authenticated by a user token; apps with "Require App
// Secret" on refuse calls without it). Meta's Threads pages list only
// grant_type and access_token and do not say whether graph.threads.net
// checks the proof.
func (c *Client) ThreadsRefresh(ctx context.Context, longLived string) (*LongLivedToken, error) {
	return c.refresh(ctx, threadsAPI, longLived)
}

// ThreadsMe reads the token's Threads profile from
// graph.threads.net/v1.0/me: the cheapest check that a Threads token works.
// Threads has one id per user (app-scoped, the code exchange's user_id), so
// the User has it in both ID and UserID; AccountType is empty.
func (c *Client) ThreadsMe(ctx context.Context, token string) (*User, error) {
	return c.me(ctx, threadsAPI, token)
}
