package graph

import (
	"context"
	"strings"

	"golang.org/x/oauth2"
)

// igMeFields are the /me fields User holds.
const igMeFields = "id,user_id,username,name,account_type"

// DialogOptions are Business Login for Instagram's optional dialog
// parameters.
type DialogOptions struct {
	// ForceReauth makes Instagram ask for the password even with a
	// session (force_reauth=true, which replaced force_authentication).
	ForceReauth bool
	// EnableFBLogin, when set, sends enable_fb_login=1 (the owner may sign
	// in with the Facebook account linked to the Instagram account) or 0;
	// nil leaves Meta's default. The values are those of the embed URL the
	// App Dashboard generates.
	EnableFBLogin *bool
}

// AuthorizeURL returns the Instagram Login dialog URL
// (www.instagram.com/oauth/authorize) that the account owner opens.
func (c *Client) AuthorizeURL(redirectURI string, scopes []string, state string, opts DialogOptions) string {
	cfg := oauth2.Config{
		ClientID:    c.appID,
		Endpoint:    oauth2.Endpoint{AuthURL: joinURL(c.ep.AuthBaseURL, "oauth/authorize")},
		RedirectURL: redirectURI,
	}
	params := authURLOptions(scopes, opts.ForceReauth)
	if opts.EnableFBLogin != nil {
		v := "0"
		if *opts.EnableFBLogin {
			v = "1"
		}
		params = append(params, oauth2.SetAuthURLParam("enable_fb_login", v))
	}
	return cfg.AuthCodeURL(state, params...)
}

// authURLOptions passes the scopes as a parameter of their own instead of
// through oauth2.Config.Scopes: oauth2 joins scopes with spaces, as RFC 6749
// says, while Meta's dialogs document a comma-separated list.
func authURLOptions(scopes []string, forceReauth bool) []oauth2.AuthCodeOption {
	var opts []oauth2.AuthCodeOption
	if len(scopes) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("scope", strings.Join(scopes, ",")))
	}
	if forceReauth {
		opts = append(opts, oauth2.SetAuthURLParam("force_reauth", "true"))
	}
	return opts
}

// ExchangeCode trades an authorization code (cleaned with CleanCode) for a
// short-lived token at api.instagram.com/oauth/access_token. redirectURI
// must be the one the authorization request used.
//
// golang.org/x/oauth2's Config.Exchange does not fit this endpoint: the
// documented answer wraps the token in a "data" array, where oauth2 finds
// no access_token; errors come flat ({"error_type","code","error_message"}),
// which oauth2 reports as a raw body; and user_id, a JSON number above
// 2^53, would reach us only through Token.Extra as a rounded float64.
func (c *Client) ExchangeCode(ctx context.Context, code, redirectURI string) (*ShortLivedToken, error) {
	return c.exchangeCode(ctx, instagramAPI, code, redirectURI)
}

// ExchangeForLongLived trades a short-lived token for a 60-day one
// (grant_type=ig_exchange_token). It needs the app secret, so it runs
// server side only.
func (c *Client) ExchangeForLongLived(ctx context.Context, shortLived string) (*LongLivedToken, error) {
	return c.exchangeForLongLived(ctx, instagramAPI, shortLived)
}

// Refresh extends a long-lived token (grant_type=ig_refresh_token). Meta
// refuses tokens younger than 24 hours and expired ones. The answer may be
// a different string: store what it returns.
//
// Does refresh_access_token accept or need appsecret_proof? Meta's
// reference for it lists only grant_type and access_token. Meta's guide to
// securing Graph requests says server calls carry appsecret_proof, and that
// an app with "Require App Secret" on has every call without it refused;
// refresh_access_token is a Graph call authenticated by the user token,
// and no page exempts it. So it is sent, as on every call here with a user
// token (Me, Pages): a correct proof is a parameter Graph accepts wherever
// an access token goes, and it keeps refreshes working under "Require App
// Secret". Not confirmed against Meta's servers: whether this endpoint
// checks the proof at all, and whether it refuses a refresh without one
// under that setting (the fake, graphtest, assumes it does, like /me).
func (c *Client) Refresh(ctx context.Context, longLived string) (*LongLivedToken, error) {
	return c.refresh(ctx, instagramAPI, longLived)
}

// Me reads the token's account from graph.instagram.com/{version}/me. It
// is also the cheapest check that a token works.
func (c *Client) Me(ctx context.Context, token string) (*User, error) {
	return c.me(ctx, instagramAPI, token)
}
