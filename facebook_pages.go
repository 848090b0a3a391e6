package instagram

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Facebook Pages: a Facebook Login account can serve the token of a Page
// its user token reaches, with the Page's linked Instagram professional
// account (page_id on accounts/<name>; accounts/<name>/pages lists them).
// Logins whose accounts have Pages say so (login.hasPages).

// pageIDRegex accepts a Facebook Page ID: decimal digits.
var pageIDRegex = regexp.MustCompile(`^[0-9]{1,32}$`)

func checkPageID(id string) error {
	if !pageIDRegex.MatchString(id) {
		return badField("page_id", "must be a Facebook Page ID (digits); read accounts/<name>/pages for the Pages the account's user token reaches")
	}
	return nil
}

var errPageIDNeedsFacebook = badField("page_id", "only goes with config login=facebook: Pages belong to Instagram API with Facebook Login")

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
	if !loginFor(cfg).hasPages() {
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
		case !stored.login().hasPages():
			return nil, badField("page_id", "account %q came through %s; Pages belong to Facebook Login accounts: register it again with code or access_token", name, stored.login().title())
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

// pageFieldError reports whether err is a refusal of page_id.
func pageFieldError(err error) bool {
	var fe *fieldError
	return errors.As(err, &fe) && fe.field == "page_id"
}
