package instagram

import (
	"context"
	"slices"
	"strings"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// Threads (the Threads API, config login=threads): Instagram Login's token
// model on hosts and grant names of its own. The owner consents on the
// Threads dialog (threads.net); the code becomes a one-hour token at
// graph.threads.net, that a 60-day one (th_exchange_token), which is
// refreshed there once at least 24 hours old (th_refresh_token) and checked
// daily with /v1.0/me between refreshes. app_id and app_secret are the
// Threads app's. So a Threads account is kept exactly as an Instagram Login
// account is (instagramLogin, over Threads' token API: threadsAPI), and
// internal/schedule times it as one (only Facebook Login is timed apart).
// What differs is below: the dialog takes no Instagram options, the scopes
// are Threads', token/<name> names no Instagram account, and Threads'
// Graph paths carry its own version.

const loginThreads = schedule.LoginThreads

// defaultThreadsScopes are config's default scopes under login=threads:
// threads_basic, which every Threads call needs, the refresh included.
var defaultThreadsScopes = []string{graph.ThreadsScopeBasic}

// threadsClient is the Threads part of Meta's API.
type threadsClient interface {
	ThreadsAuthorizeURL(redirectURI string, scopes []string, state string) string
	ThreadsExchangeCode(ctx context.Context, code, redirectURI string) (*graph.ShortLivedToken, error)
	ThreadsExchangeForLongLived(ctx context.Context, shortLived string) (*graph.LongLivedToken, error)
	ThreadsRefresh(ctx context.Context, longLived string) (*graph.LongLivedToken, error)
	ThreadsMe(ctx context.Context, token string) (*graph.User, error)
}

// threadsAPI is Threads' token API in the shape instagramLogin calls a
// product's token API.
type threadsAPI struct{ c threadsClient }

// AuthorizeURL: the Threads dialog has none of Instagram's options
// (threadsLogin.authURL warns about them).
func (t threadsAPI) AuthorizeURL(redirectURI string, scopes []string, state string, _ graph.DialogOptions) string {
	return t.c.ThreadsAuthorizeURL(redirectURI, scopes, state)
}

func (t threadsAPI) ExchangeCode(ctx context.Context, code, redirectURI string) (*graph.ShortLivedToken, error) {
	return t.c.ThreadsExchangeCode(ctx, code, redirectURI)
}

func (t threadsAPI) ExchangeForLongLived(ctx context.Context, shortLived string) (*graph.LongLivedToken, error) {
	return t.c.ThreadsExchangeForLongLived(ctx, shortLived)
}

func (t threadsAPI) Refresh(ctx context.Context, longLived string) (*graph.LongLivedToken, error) {
	return t.c.ThreadsRefresh(ctx, longLived)
}

func (t threadsAPI) Me(ctx context.Context, token string) (*graph.User, error) {
	return t.c.ThreadsMe(ctx, token)
}

// threadsLogin is Instagram Login's token model over threadsAPI, with the
// differences above.
type threadsLogin struct{ instagramLogin }

// threads is the Threads login, logins' third row (a pointer, as
// instagram is).
var threads = &threadsLogin{instagramLogin{
	id: loginThreads, titleText: "the Threads API", productName: "Threads",
	scopes: defaultThreadsScopes,
	api:    func(m metaClient) instagramClient { return threadsAPI{m} },
	host:   func(c *config) string { return c.ThreadsGraphBaseURL },
}}

// authURL is the Threads dialog; Instagram's dialog options do not exist
// there.
func (l *threadsLogin) authURL(meta metaClient, d dialog) (string, []string) {
	var warnings []string
	if d.forceReauth {
		warnings = append(warnings, "force_reauth applies to Instagram Login only and was ignored")
	}
	if d.enableFBLogin != nil {
		warnings = append(warnings, "enable_fb_login applies to Instagram Login only and was ignored")
	}
	u, _ := l.instagramLogin.authURL(meta, dialog{redirectURI: d.redirectURI, scopes: d.scopes, state: d.state})
	return u, warnings
}

// graphVersion: Threads versions its Graph API apart from Meta's
// (graph_api_version does not apply).
func (l *threadsLogin) graphVersion(metaClient) string { return graph.ThreadsVersion }

// serve: a Threads token names a Threads user (user_id), never an
// Instagram account.
func (l *threadsLogin) serve(a *account, cfg *config) served {
	sv := l.instagramLogin.serve(a, cfg)
	sv.instagramUserID = ""
	return sv
}

// loginScopeError refuses, naming field, a scope list that login l's
// dialog would refuse in front of the account owner: under login=threads
// anything but Threads permissions, or a list without threads_basic
// (Meta requires it, and refuses to refresh a token granted without it);
// under another login a Threads permission, which only the Threads dialog
// knows. nil for a list that passes.
func loginScopeError(field string, l login, scopes []string) error {
	_, isThreads := l.(*threadsLogin)
	for _, s := range scopes {
		switch {
		case isThreads && !graph.IsThreadsScope(s):
			return badField(field, "%q is not a Threads permission: login=threads takes %s", s, strings.Join(graph.ThreadsScopes(), ","))
		case !isThreads && graph.IsThreadsScope(s):
			return badField(field, "%q is a Threads permission: it goes with login=threads only", s)
		}
	}
	if isThreads && !slices.Contains(scopes, graph.ThreadsScopeBasic) {
		return badField(field, "must include %s under login=threads: Meta requires it of every Threads call, the refresh included", graph.ThreadsScopeBasic)
	}
	return nil
}
