package instagram

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
	"github.com/igvault/vault-plugin-secrets-instagram/internal/schedule"
)

// Instagram Login (Business Login for Instagram): the owner consents on
// Instagram's dialog; the code becomes a short-lived token at
// api.instagram.com, that a long-lived (60-day) one at graph.instagram.com,
// which is refreshed there once at least 24 hours old and checked daily
// with /me between refreshes (health_instagram.go).
//
// instagramLogin is that token model over one product's token API, so a
// product with the same model on other hosts and grant names (Threads) is
// another instagramLogin value with its own API.

const loginInstagram = schedule.LoginInstagram

// defaultScopes are config's default scopes under login=instagram.
var defaultScopes = []string{"instagram_business_basic"}

// instagramClient is the Instagram Login part of Meta's API.
type instagramClient interface {
	AuthorizeURL(redirectURI string, scopes []string, state string, opts graph.DialogOptions) string
	ExchangeCode(ctx context.Context, code, redirectURI string) (*graph.ShortLivedToken, error)
	ExchangeForLongLived(ctx context.Context, shortLived string) (*graph.LongLivedToken, error)
	Refresh(ctx context.Context, longLived string) (*graph.LongLivedToken, error)
	Me(ctx context.Context, token string) (*graph.User, error)
}

// instagramLogin is a login with Instagram Login's token model.
type instagramLogin struct {
	id, titleText, productName string
	scopes                     []string
	// api is the product's token API within Meta's.
	api func(metaClient) instagramClient
	// host is the product's Graph base URL.
	host func(*config) string
}

// instagram is Instagram Login, logins' first row (a pointer: logins
// compare, and instagramLogin holds funcs).
var instagram = &instagramLogin{
	id: loginInstagram, titleText: "Instagram Login", productName: "Instagram",
	scopes: defaultScopes,
	api:    func(m metaClient) instagramClient { return m },
	host:   func(c *config) string { return c.GraphBaseURL },
}

func (l instagramLogin) name() string              { return l.id }
func (l instagramLogin) title() string             { return l.titleText }
func (l instagramLogin) product() string           { return l.productName }
func (l instagramLogin) defaultScopes() []string   { return l.scopes }
func (l instagramLogin) refreshes() bool           { return true }
func (l instagramLogin) takesConfigurations() bool { return false }
func (l instagramLogin) hasPages() bool            { return false }

func (l instagramLogin) authURL(meta metaClient, d dialog) (string, []string) {
	opts := graph.DialogOptions{ForceReauth: d.forceReauth, EnableFBLogin: d.enableFBLogin}
	return l.api(meta).AuthorizeURL(d.redirectURI, d.scopes, d.state, opts), nil
}

func (l instagramLogin) checkGrant(g grant) error {
	if g.pageID != "" {
		return errPageIDNeedsFacebook
	}
	return nil
}

func (l instagramLogin) register(ctx context.Context, b *backend, meta metaClient, cfg *config, g grant) (*account, error) {
	if g.code != "" {
		return l.fromCode(ctx, b, meta, cfg, g.code, g.redirectURI)
	}
	return l.fromAccessToken(ctx, b, meta, cfg, g.token, g.expiresAt)
}

func (l instagramLogin) callback(ctx context.Context, b *backend, _ logical.Storage, meta metaClient, cfg *config, st *pendingState, code string) (*account, error) {
	return l.fromCode(ctx, b, meta, cfg, code, st.RedirectURI)
}

func (l instagramLogin) connected(a *account, name string) pageContent {
	return pageContent{
		Status:  http.StatusOK,
		Class:   "ok",
		Title:   l.productName + " account connected",
		Message: "Connected @" + a.Username + " to account " + name + ".",
		Hint:    "You can close this page.",
	}
}

func (l instagramLogin) otherUser(a *account, name string) string {
	return "The " + l.productName + " account that approved this (@" + a.Username + ") is not the " + l.productName + " account that account " + name + " is connected to, so nothing was changed."
}

// refresh refuses what Meta would refuse (refreshRefusal: the periodic
// work never hands such an account to it), then refreshes.
func (l instagramLogin) refresh(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, stored *account, now time.Time) (*account, error) {
	if err := refreshRefusal(stored, now); err != nil {
		return stored, err
	}
	return b.refreshToken(ctx, s, l.api(meta).Refresh, cfg, stored, now)
}

func (l instagramLogin) check(ctx context.Context, b *backend, s logical.Storage, meta metaClient, cfg *config, stored *account, now time.Time) (*account, error) {
	return b.checkInstagramAccount(ctx, s, l.api(meta), cfg, stored, now)
}

func (l instagramLogin) ownerIdentity(a *account) string { return prefixed(l.id+":", a.UserID) }

func (l instagramLogin) graphHost(cfg *config, _ *account) string { return l.host(cfg) }

func (l instagramLogin) graphVersion(meta metaClient) string { return meta.Endpoints().Version }

func (l instagramLogin) serve(a *account, cfg *config) served {
	return served{instagramUserID: a.UserID, rotation: longLivedLifetime - cfg.RefreshWindow}
}

// fromCode runs the two-step exchange: the authorization code becomes a
// short-lived token, which becomes a long-lived (60-day) token. The
// returned account has everything but its name.
func (l instagramLogin) fromCode(ctx context.Context, b *backend, meta metaClient, cfg *config, code, redirectURI string) (*account, error) {
	api := l.api(meta)
	short, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.ShortLivedToken, error) {
		return api.ExchangeCode(ctx, code, redirectURI)
	})
	if err != nil {
		return nil, metaRefusal("code", l.productName+" refused the authorization code", err, code)
	}
	long, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return api.ExchangeForLongLived(ctx, short.AccessToken)
	})
	if err != nil {
		return nil, metaRefusal("code", l.productName+" refused to extend the short-lived token", err, code, short.AccessToken)
	}
	a, err := l.accountFor(ctx, b, api, cfg, long, time.Time{})
	if err != nil {
		return nil, err
	}
	a.Scopes = cleanScopes(short.Permissions)
	if a.UserID == "" {
		a.UserID = short.UserID
	}
	return a, nil
}

// fromAccessToken registers an existing token. A token with a known expiry
// is long-lived by the operator's word. Otherwise the engine tries the
// short-lived exchange: Instagram answers code 100 for a token that is
// already long-lived, which is then kept as it is with its expiry unknown
// until the first refresh teaches it.
func (l instagramLogin) fromAccessToken(ctx context.Context, b *backend, meta metaClient, cfg *config, token string, expiresAt time.Time) (*account, error) {
	api := l.api(meta)
	if !expiresAt.IsZero() {
		return l.accountFor(ctx, b, api, cfg, &graph.LongLivedToken{AccessToken: token, TokenType: "bearer"}, expiresAt)
	}
	long, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return api.ExchangeForLongLived(ctx, token)
	})
	var gerr *graph.Error
	switch {
	case err == nil:
		return l.accountFor(ctx, b, api, cfg, long, time.Time{})
	case errors.As(err, &gerr) && gerr.Code == graph.CodeInvalidParameter:
		return l.accountFor(ctx, b, api, cfg, &graph.LongLivedToken{AccessToken: token, TokenType: "bearer"}, time.Time{})
	default:
		return nil, metaRefusal("access_token", l.productName+" refused the access token", err, token)
	}
}

// accountFor checks a long-lived token against /me (which also proves it
// works) and builds the account record from it. A non-zero expiresAt is an
// operator-given expiry; the issue time follows from the 60-day lifetime.
func (l instagramLogin) accountFor(ctx context.Context, b *backend, api instagramClient, cfg *config, long *graph.LongLivedToken, expiresAt time.Time) (*account, error) {
	me, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.User, error) {
		return api.Me(ctx, long.AccessToken)
	})
	if err != nil {
		return nil, metaRefusal("access_token", l.productName+" rejected the token", err, long.AccessToken)
	}
	now := b.clock.Now()
	a := &account{
		Login:        l.id,
		TokenKind:    tokenKindUser,
		AccessToken:  long.AccessToken,
		TokenType:    normalTokenType(long.TokenType),
		UserID:       me.UserID,
		AppScopedID:  me.ID,
		Username:     me.Username,
		AccountType:  me.AccountType,
		RegisteredAt: now,
	}
	if long.ExpiresIn > 0 {
		a.IssuedAt = now
		a.ExpiresAt = now.Add(time.Duration(long.ExpiresIn) * time.Second)
	}
	if !expiresAt.IsZero() {
		a.ExpiresAt = expiresAt.UTC()
		a.IssuedAt = a.ExpiresAt.Add(-longLivedLifetime)
	}
	a.markServing(now, cfg.RefreshWindow)
	return a, nil
}
