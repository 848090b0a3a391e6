package instagram

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// facebookClient is the Facebook Login part of Meta's API; *graph.Client
// implements it. The client sends appsecret_proof on every Graph call it
// makes with a user or Page token.
type facebookClient interface {
	FacebookAuthorizeURL(redirectURI string, scopes []string, state, configID string) string
	FacebookExchangeCode(ctx context.Context, code, redirectURI string) (*graph.LongLivedToken, error)
	FacebookExchangeLongLived(ctx context.Context, userToken string) (*graph.LongLivedToken, error)
	Pages(ctx context.Context, userToken string) ([]graph.Page, error)
	DebugToken(ctx context.Context, inputToken string) (*graph.TokenInfo, error)
	AppToken(ctx context.Context) (*graph.LongLivedToken, error)
}

// defaultFacebookScopes are config's default scopes under login=facebook:
// enough to read the Instagram professional account and to find the Pages
// (and their tokens) it is linked to.
var defaultFacebookScopes = []string{"instagram_basic", "pages_show_list", "pages_read_engagement"}

// Facebook Login (Instagram API with Facebook Login): the owner consents on
// Facebook's dialog; the code becomes a user token, exchanged for a
// long-lived (about 60-day) one, which can serve a Page's token instead
// (facebook_pages.go). Facebook has no refresh grant: the periodic work
// checks these tokens hourly with debug_token (health_facebook.go) and
// reports a user token nearing its end as expiring. With a configuration
// it is Facebook Login for Business (login_business.go).

const loginFacebook = schedule.LoginFacebook

type facebookLogin struct{}

func (facebookLogin) name() string              { return loginFacebook }
func (facebookLogin) title() string             { return "Facebook Login" }
func (facebookLogin) product() string           { return "Facebook" }
func (facebookLogin) defaultScopes() []string   { return defaultFacebookScopes }
func (facebookLogin) refreshes() bool           { return false }
func (facebookLogin) takesConfigurations() bool { return true }
func (facebookLogin) hasPages() bool            { return true }

// authURL is Facebook's dialog, versioned by graph_api_version.
func (facebookLogin) authURL(meta metaClient, d dialog) (string, []string) {
	var warnings []string
	if d.forceReauth {
		warnings = append(warnings, "force_reauth applies to Instagram Login only and was ignored")
	}
	if d.enableFBLogin != nil {
		warnings = append(warnings, "enable_fb_login applies to Instagram Login only and was ignored")
	}
	return meta.FacebookAuthorizeURL(d.redirectURI, d.scopes, d.state, d.configID), warnings
}

func (facebookLogin) checkGrant(g grant) error {
	switch {
	case g.pageID != "":
		return checkPageID(g.pageID)
	case g.hasExpiry:
		return badField("expires_at", "does not go with login=facebook: the engine exchanges the token and learns its expiry from Facebook")
	}
	return nil
}

// register exchanges a code (a configuration's code may give a system-user
// token: login_business.go) or inspects a token, and derives the Page's
// token when page_id asks for one.
func (facebookLogin) register(ctx context.Context, b *backend, meta metaClient, cfg *config, g grant) (*account, error) {
	var a *account
	var err error
	if g.code != "" {
		a, err = b.tokenFromFacebookCode(ctx, meta, cfg, g.code, g.redirectURI, g.configID != "")
	} else {
		a, err = b.tokenFromFacebookToken(ctx, meta, cfg, g.token)
	}
	if err == nil && g.pageID != "" {
		err = b.withPage(ctx, meta, cfg, a, g.pageID)
	}
	return a, err
}

// callback registers the long-lived token the code brings. An account that
// served a Page keeps serving that Page (with a token derived from the new
// user token): its owner authorizing again must not silently switch it to
// the user token.
func (l facebookLogin) callback(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, st *pendingState, code string) (*account, error) {
	a, err := l.register(ctx, b, meta, cfg, grant{code: code, redirectURI: st.RedirectURI, configID: st.ConfigID})
	if err != nil {
		return nil, err
	}
	existing, err := b.getAccount(ctx, s, st.Account)
	if err != nil {
		return nil, err
	}
	if existing != nil && existing.login().hasPages() && existing.PageID != "" {
		if err := b.withPage(ctx, meta, cfg, a, existing.PageID); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (facebookLogin) connected(a *account, name string) pageContent {
	msg := "Connected your Facebook account to account " + name + "."
	if a.systemUser() {
		msg = "Connected your business (a system user of it) to account " + name + "."
	}
	if a.PageID != "" {
		msg = "Connected the Facebook Page " + a.PageName + " and its Instagram account to account " + name + "."
	}
	return pageContent{Status: http.StatusOK, Class: "ok", Title: "Account connected", Message: msg, Hint: "You can close this page."}
}

func (facebookLogin) otherUser(_ *account, name string) string {
	return "The user who approved this authorization is not the user that account " + name + " is connected to, so nothing was changed."
}

// refresh: Facebook has no refresh grant.
func (facebookLogin) refresh(_ context.Context, _ *backend, _ logical.Storage, _ metaClient, _ *config, stored *account, _ time.Time) (*account, error) {
	return stored, errNoRefreshGrant(stored.Name)
}

func (facebookLogin) check(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, stored *account, now time.Time) (*account, error) {
	return b.checkFacebookAccount(ctx, s, meta, cfg, stored, now)
}

// ownerIdentity: an account serving a Page stands for the Page's linked
// Instagram account, one serving its user token for the Facebook user.
func (facebookLogin) ownerIdentity(a *account) string {
	if a.PageID != "" {
		return prefixed(loginInstagram+":", a.InstagramUserID)
	}
	return prefixed(loginFacebook+":", a.UserID)
}

func (facebookLogin) graphHost(cfg *config, _ *account) string { return cfg.FacebookGraphBaseURL }

func (facebookLogin) graphVersion(meta metaClient) string { return meta.Endpoints().Version }

// serve: not rotated, so re-read at each health check; a token nearing its
// end is served with a warning until its owner authorizes again.
func (facebookLogin) serve(a *account, _ *config) served {
	sv := served{instagramUserID: a.InstagramUserID, pageID: a.PageID, rotation: healthCheckInterval}
	if a.Status == statusExpiring {
		sv.warning = fmt.Sprintf("this Facebook token expires at %s and cannot be refreshed: the account's owner must authorize again", formatTime(a.ExpiresAt))
	}
	return sv
}

// tokenFromFacebookCode runs Facebook Login's exchanges: the authorization
// code becomes a user token through golang.org/x/oauth2 (standard OAuth
// 2.0), which becomes a long-lived (about 60-day) user token through
// fb_exchange_token. A code from a Facebook Login for Business
// configuration (business) may give a system-user token instead, so that
// token is inspected first (login_business.go). The returned account has
// everything but its name.
func (b *backend) tokenFromFacebookCode(ctx context.Context, fb facebookClient, cfg *config, code, redirectURI string, business bool) (*account, error) {
	short, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return fb.FacebookExchangeCode(ctx, code, redirectURI)
	})
	if err != nil {
		return nil, metaRefusal("code", "Facebook refused the authorization code", err, code)
	}
	if business {
		return b.inspectedFacebookAccount(ctx, fb, cfg, short, "code", code)
	}
	return b.facebookAccountFor(ctx, fb, cfg, short.AccessToken, "code", code)
}

// tokenFromFacebookToken registers a Facebook access token: a user token,
// short- or long-lived, is exchanged for a fresh long-lived one; a
// system-user token is kept as it is.
func (b *backend) tokenFromFacebookToken(ctx context.Context, fb facebookClient, cfg *config, token string) (*account, error) {
	return b.inspectedFacebookAccount(ctx, fb, cfg, &graph.LongLivedToken{AccessToken: token}, "access_token")
}

// facebookAccountFor exchanges userToken for a long-lived user token,
// inspects that with debug_token (which says whose it is and what it may
// do, and counts as the account's first health check), and builds the
// account record serving it. field is the request field the token came
// from, named by 400s; secrets are what else the request carried.
func (b *backend) facebookAccountFor(ctx context.Context, fb facebookClient, cfg *config, userToken, field string, secrets ...string) (*account, error) {
	secrets = append(secrets, userToken)
	long, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return fb.FacebookExchangeLongLived(ctx, userToken)
	})
	if err != nil {
		return nil, metaRefusal(field, "Facebook refused to exchange the user token for a long-lived one", err, secrets...)
	}
	info, err := inspectFacebookToken(ctx, fb, cfg, long.AccessToken, field, "long-lived user token", secrets...)
	if err != nil {
		return nil, err
	}
	return b.facebookTokenAccount(cfg, tokenKindUser, long, info), nil
}

// inspectFacebookToken asks debug_token about token and returns its answer
// for a valid token. A failed call or an invalid token is an error naming
// field and calling the token what; secrets are what else to keep out of the
// error (token itself is kept out too).
func inspectFacebookToken(ctx context.Context, fb facebookClient, cfg *config, token, field, what string, secrets ...string) (*graph.TokenInfo, error) {
	secrets = append(secrets, token)
	info, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.TokenInfo, error) {
		return fb.DebugToken(ctx, token)
	})
	if err != nil {
		return nil, metaRefusal(field, "Facebook could not inspect the "+what+" (debug_token)", err, secrets...)
	}
	if !info.IsValid {
		return nil, invalidTokenError(field, what, info, secrets...)
	}
	return info, nil
}

// invalidTokenError is the 400 for a token debug_token reports invalid.
func invalidTokenError(field, what string, info *graph.TokenInfo, secrets ...string) error {
	why := "no reason given"
	if info.Error != nil {
		why = info.Error.Error()
	}
	return badField(field, "Facebook reports the %s invalid: %s", what, graph.Redact(why, secrets...))
}

// facebookTokenAccount builds the record of the account serving tok, a
// Facebook Login token of kind (tokenKindUser or tokenKindSystemUser), from
// what debug_token said of it (info). UserID is debug_token's user_id: for a
// system-user token the system user's, as the token is the business's, not
// the person's who authorized.
func (b *backend) facebookTokenAccount(cfg *config, kind string, tok *graph.LongLivedToken, info *graph.TokenInfo) *account {
	now := b.clock.Now()
	a := &account{
		Login:               loginFacebook,
		TokenKind:           kind,
		AccessToken:         tok.AccessToken,
		UserAccessToken:     tok.AccessToken,
		TokenType:           normalTokenType(tok.TokenType),
		UserID:              info.UserID,
		Scopes:              cleanScopes(info.Scopes),
		IssuedAt:            now,
		RegisteredAt:        now,
		LastCheckedAt:       now,
		DataAccessExpiresAt: info.DataAccessExpiresAt,
	}
	// A system-user token is stored as it was registered, and a token an
	// operator registers may be older; a user token was just exchanged for a
	// fresh long-lived one.
	if kind == tokenKindSystemUser && !info.IssuedAt.IsZero() && info.IssuedAt.Before(now) {
		a.IssuedAt = info.IssuedAt
	}
	switch {
	case tok.ExpiresIn > 0:
		a.ExpiresAt = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case !info.ExpiresAt.IsZero():
		a.ExpiresAt = info.ExpiresAt
	}
	a.UserTokenExpiresAt = a.ExpiresAt
	a.markServing(now, cfg.RefreshWindow)
	return a
}
