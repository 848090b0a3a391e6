package instagram

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
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

func defaultScopesFor(login string) []string {
	if login == loginFacebook {
		return defaultFacebookScopes
	}
	return defaultScopes
}

// switchDefaultScopes gives cfg the default scopes of its login when the
// login changed, the write did not set scopes, and the scopes were the old
// login's defaults: the two products' permissions have different names, and
// Facebook's dialog refuses Instagram Login's.
func switchDefaultScopes(cfg *config, prevLogin string, d *framework.FieldData) {
	if _, given := d.GetOk("scopes"); given || prevLogin == cfg.Login {
		return
	}
	if slices.Equal(cfg.Scopes, defaultScopesFor(prevLogin)) {
		cfg.Scopes = append([]string(nil), defaultScopesFor(cfg.Login)...)
	}
}

// pageIDRegex accepts a Facebook Page ID: decimal digits.
var pageIDRegex = regexp.MustCompile(`^[0-9]{1,32}$`)

func checkPageID(id string) error {
	if !pageIDRegex.MatchString(id) {
		return badField("page_id", "must be a Facebook Page ID (digits); read accounts/<name>/pages for the Pages the account's user token reaches")
	}
	return nil
}

var errPageIDNeedsFacebook = badField("page_id", "only goes with config login=facebook: Pages belong to Instagram API with Facebook Login")

// tokenFromFacebookCode runs Facebook Login's exchanges: the authorization
// code becomes a user token through golang.org/x/oauth2 (standard OAuth
// 2.0), which becomes a long-lived (about 60-day) user token through
// fb_exchange_token. A code from a Facebook Login for Business
// configuration (business) may give a system-user token instead, so that
// token is inspected first (register_business.go). The returned account has
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
	return badField(field, "Facebook reports the %s invalid: %s", what, redact(why, secrets...))
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

// withPage makes a serve the token of Page pageID: it lists the Pages a's
// long-lived user token reaches (me/accounts) and takes that Page's token,
// which does not expire, and its linked Instagram professional account. A
// Page the user token cannot reach, or one without a linked Instagram
// account, is a 400 naming page_id.
func (b *backend) withPage(ctx context.Context, fb facebookClient, cfg *config, a *account, pageID string) error {
	pages, err := callMeta(ctx, cfg, func(ctx context.Context) ([]graph.Page, error) {
		return fb.Pages(ctx, a.UserAccessToken)
	})
	if err != nil {
		return metaRefusal("page_id", "Facebook refused to list the Pages of the user token", err, a.UserAccessToken, cfg.AppSecret)
	}
	i := slices.IndexFunc(pages, func(p graph.Page) bool { return p.ID == pageID })
	if i < 0 {
		return badField("page_id", "the account's user token cannot reach Page %s (is the Page managed by the user who authorized, and pages_show_list granted?); read accounts/<name>/pages for the Pages it reaches", pageID)
	}
	p := pages[i]
	switch {
	case p.InstagramBusinessAccountID == "":
		return badField("page_id", "Page %s has no linked Instagram professional account (instagram_business_account): link one to the Page first", pageID)
	case p.AccessToken == "":
		return badField("page_id", "Facebook gave no token for Page %s: the user needs a task on the Page", pageID)
	}
	now := b.clock.Now()
	a.AccessToken = p.AccessToken
	a.TokenType = "bearer"
	a.IssuedAt = now
	a.ExpiresAt = time.Time{} // a Page token from a long-lived user token does not expire
	a.PageID = p.ID
	a.PageName = p.Name
	a.InstagramUserID = p.InstagramBusinessAccountID
	a.markServing(now, cfg.RefreshWindow)
	return nil
}

// pathAccountChoosePage answers a write of page_id alone: the account, already
// registered through Facebook Login, serves that Page's token from now on,
// derived from its stored long-lived user token. The owner need not
// authorize again, so an operator can register first and pick the Page
// afterwards from accounts/<name>/pages.
// mayChange is false for a create: Vault found no account, and one
// registered since must not be switched (account_replace.go).
func (b *backend) pathAccountChoosePage(ctx context.Context, req *logical.Request, name, pageID string, mayChange bool) (*logical.Response, error) {
	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	if cfg.Login != loginFacebook {
		return respondErr(errPageIDNeedsFacebook)
	}
	if err := checkPageID(pageID); err != nil {
		return respondErr(err)
	}

	next, err := b.updateAccount(ctx, req.Storage, name, func(stored *account) (*account, error) {
		now := b.clock.Now()
		switch {
		case stored == nil:
			return nil, badField("code", "exactly one of code or access_token is required; page_id alone chooses the Page of an account already registered through Facebook Login, and no account %q is registered", name)
		case !mayChange:
			return nil, errAccountExists
		case !stored.facebook():
			return nil, badField("page_id", "account %q came through Instagram Login; Pages belong to Facebook Login accounts: register it again with code or access_token", name)
		case stored.UserAccessToken == "" || stored.Status == statusNeedsReauth:
			return nil, badField("page_id", "account %q needs re-authorization: register it again with code or access_token, and page_id", name)
		case !stored.UserTokenExpiresAt.IsZero() && !now.Before(stored.UserTokenExpiresAt):
			return nil, badField("page_id", "the user token of account %q expired at %s: register it again with code or access_token, and page_id", name, formatTime(stored.UserTokenExpiresAt))
		}
		next := stored.clone()
		if err := b.withPage(ctx, meta, cfg, next, pageID); err != nil {
			return nil, err
		}
		return next, nil
	})
	if refusal := replacementRefusal(err, name); refusal != nil {
		return nil, refusal
	}
	if err != nil {
		return respondErr(err)
	}
	b.Logger().Info("account now serves a Page token", "account", name, "page_id", next.PageID, "instagram_user_id", next.InstagramUserID)
	return &logical.Response{Data: b.accountMetadata(ctx, req.Storage, next)}, nil
}

// facebookFromCallback registers what a Facebook Login callback brings: a
// long-lived user token from the code. An account that served a Page keeps
// serving that Page (with a token derived from the new user token): its
// owner authorizing again must not silently switch it to the user token.
func (b *backend) facebookFromCallback(ctx context.Context, s logical.Storage, fb facebookClient, cfg *config, st *pendingState, code string) (*account, error) {
	a, err := b.tokenFromFacebookCode(ctx, fb, cfg, code, st.RedirectURI, st.ConfigID != "")
	if err != nil {
		return nil, err
	}
	existing, err := b.getAccount(ctx, s, st.Account)
	if err != nil {
		return nil, err
	}
	if existing != nil && existing.facebook() && existing.PageID != "" {
		if err := b.withPage(ctx, fb, cfg, a, existing.PageID); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// pageFieldError reports whether err is a refusal of page_id.
func pageFieldError(err error) bool {
	var fe *fieldError
	return errors.As(err, &fe) && fe.field == "page_id"
}
