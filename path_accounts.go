package instagram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathAccountsHelpSyn = `Register, inspect and remove Instagram accounts.`

const pathAccountsHelpDesc = `
Register an account with exactly one of "code" (an authorization code from
Instagram's login dialog; a trailing "#_" is stripped) or "access_token" (a
short-lived token is exchanged for a long-lived one; a long-lived token is
kept, with an optional "expires_at" when the operator knows it). Writing an
existing name replaces the account only once the new token has been obtained:
a failed write leaves the stored account as it was.

With config login=facebook (Instagram API with Facebook Login), the code or
user token is exchanged for a long-lived user token, and "page_id" makes the
account serve that Page's token (which does not expire) with the Page's
linked Instagram professional account as instagram_user_id; without it the
account serves the long-lived user token. page_id alone, on an account
already registered through Facebook Login, switches it to that Page without
a new authorization: accounts/<name>/pages lists the Pages it can reach.

Reads return the account's metadata and health, never its token: applications
read the token on token/<name>.
`

// accountNamePattern accepts any single path segment so a malformed name
// gets a 400 naming the field rather than a 404.
const accountNamePattern = `(?P<name>[^/]+)`

// maxCredentialLength bounds codes, tokens and URIs taken from a request:
// Meta's are a few hundred characters, and nothing longer is worth a call.
const maxCredentialLength = 4096

func accountNameField() *framework.FieldSchema {
	return &framework.FieldSchema{
		Type:        framework.TypeString,
		Description: "Name of the account in this engine: letters, digits, '_', '-' and '.'.",
		Required:    true,
	}
}

func accountResponseFields() map[string]*framework.FieldSchema {
	str := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeString, Description: desc}
	}
	tm := func(desc string) *framework.FieldSchema {
		return &framework.FieldSchema{Type: framework.TypeTime, Description: desc}
	}
	return map[string]*framework.FieldSchema{
		"name":                 str("Account name."),
		"login":                str("Login product the token belongs to: instagram or facebook."),
		"user_id":              str("Instagram professional account ID (login=instagram), or the Facebook user ID of whoever authorized (login=facebook)."),
		"username":             str("Instagram username."),
		"account_type":         str("Instagram account type, when Meta reports it."),
		"scopes":               {Type: framework.TypeCommaStringSlice, Description: "Permissions granted to the token, when known."},
		"missing_scopes":       {Type: framework.TypeCommaStringSlice, Description: "Scopes in config's scopes the token was not granted (permission drift): its owner must authorize again to grant them. Empty when the granted scopes are unknown."},
		"token_type":           str("Token type, normally bearer."),
		"token_kind":           str("What the owner's authorization gave: user (Instagram Login, Facebook Login, and Facebook Login for Business user-token configurations) or system_user (a Business Integration System User token from a Facebook Login for Business configuration, the business's rather than a person's). With page_id the served token is that Page's, derived from it."),
		"expires_at":           tm("When the stored token expires; empty when not yet known."),
		"issued_at":            tm("When the stored token was issued; empty when not yet known."),
		"registered_at":        tm("When the account was registered."),
		"last_refreshed_at":    tm("When the engine last refreshed the token; empty if never."),
		"next_refresh_at":      tm("When the engine will next refresh the token; empty when it will not (needs_reauth)."),
		"status":               str("valid, expiring (Facebook Login: the token expires within refresh_window and its owner must authorize again; still served), refresh_failing or needs_reauth."),
		"last_error":           str("The last refresh error, if any. Never contains a secret."),
		"last_error_at":        tm("When the last error happened."),
		"consecutive_failures": {Type: framework.TypeInt, Description: "Refresh failures (health check failures, for Facebook Login) since the last success."},

		"page_id":                str("Facebook Login: the Page whose token the account serves; empty when it serves the user token."),
		"page_name":              str("Facebook Login: that Page's name."),
		"instagram_user_id":      str("Facebook Login: the Instagram professional account linked to the Page (its instagram_business_account)."),
		"reauth_due_at":          tm("Facebook Login: when the served token expires, by when its owner must authorize again; empty for a Page token, which does not expire."),
		"data_access_expires_at": tm("Facebook Login: when the token's data access expires (about 90 days after the owner's last authorization), as debug_token reports it."),
		"last_checked_at":        tm("The last health check of the token: hourly debug_token for Facebook Login, a daily /me call between refreshes for Instagram Login."),
		"next_check_at":          tm("The next health check; empty when there will be none (needs_reauth, or an Instagram Login refresh failing and being retried)."),
	}
}

func pathAccounts(b *backend) []*framework.Path {
	return []*framework.Path{
		{
			Pattern: "accounts/?$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "accounts",
			},
			Fields: map[string]*framework.FieldSchema{
				"after": {
					Type:        framework.TypeString,
					Description: "List the names that sort after this one (the previous page's next); empty: from the first.",
					Query:       true,
				},
				"limit": {
					Type:        framework.TypeInt,
					Description: fmt.Sprintf("How many names to list, 1 to %d; default %d.", maxListLimit, maxListLimit),
					Query:       true,
				},
				"status": listStatusField(),
			},
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ListOperation: &framework.PathOperation{
					Callback:    b.pathAccountsList,
					Summary:     "List registered account names, a page at a time.",
					Description: fmt.Sprintf("Lists the names of the registered accounts in order, at most limit (default and maximum %d) after the name given as after; next, when more remain, is the after of the next page. With status, only the accounts with that status (needs_reauth: those whose owner must authorize again). Read accounts/<name> for each one's health.", maxListLimit),
					// A performance standby's schedule is not kept up to date by
					// the active node's writes: the active node answers.
					ForwardPerformanceStandby:   true,
					ForwardPerformanceSecondary: true,
					Responses: map[int][]framework.Response{http.StatusOK: {{
						Description: "OK",
						Fields: map[string]*framework.FieldSchema{
							"keys": {Type: framework.TypeStringSlice, Description: "Account names, in order."},
							"next": {Type: framework.TypeString, Description: "Present when more names remain: the after of the next page."},
						},
					}}},
				},
			},
			HelpSynopsis:    pathAccountsHelpSyn,
			HelpDescription: pathAccountsHelpDesc,
		},
		{
			Pattern: "accounts/" + accountNamePattern + "$",
			DisplayAttrs: &framework.DisplayAttributes{
				OperationPrefix: operationPrefix,
				OperationSuffix: "account",
			},
			Fields: map[string]*framework.FieldSchema{
				"name": accountNameField(),
				"code": {
					Type:         framework.TypeString,
					Description:  "Authorization code from the login dialog's redirect. A trailing '#_' is stripped.",
					DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
				},
				"redirect_uri": {
					Type:        framework.TypeString,
					Description: "The redirect URI the code was issued for; must equal config's redirect_uri, which is the default.",
				},
				"access_token": {
					Type:         framework.TypeString,
					Description:  "An existing access token: short-lived (exchanged for a long-lived one) or long-lived (kept).",
					DisplayAttrs: &framework.DisplayAttributes{Sensitive: true},
				},
				"expires_at": {
					Type:        framework.TypeTime,
					Description: "Expiry of a long-lived access_token, RFC 3339 or Unix seconds, when known. Marks the token as long-lived. Instagram Login only.",
				},
				"page_id": {
					Type:        framework.TypeString,
					Description: "Facebook Login only: serve this Page's token (and its linked Instagram account) instead of the user token. Alone, on an account already registered through Facebook Login, switches it to this Page.",
				},
				"allow_user_change": allowUserChangeField(),
			},
			ExistenceCheck: b.accountExists,
			Operations: map[logical.Operation]framework.OperationHandler{
				logical.ReadOperation: &framework.PathOperation{
					Callback:    b.withAccount(b.pathAccountRead),
					Summary:     "Read an account's metadata and health (never its token).",
					Description: "Answers who the account is, when its token expires and will next be refreshed, its status and its last refresh error. Never the token: applications read token/<name>.",
					Responses: map[int][]framework.Response{http.StatusOK: {{
						Description: "OK", Fields: accountResponseFields(),
					}}},
				},
				logical.CreateOperation: &framework.PathOperation{
					Callback:     withAccountName(b.pathAccountCreate),
					Summary:      "Register an account from an authorization code or an access token.",
					Description:  "Takes exactly one of code (with an optional redirect_uri) or access_token (with an optional expires_at). A short-lived token is exchanged for a long-lived one; the account is stored and scheduled for refresh. Never replaces an account: one registered since Vault found the name free is a 409, left as it was.",
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "register"},
					// It calls Meta (exchanges a single-use code or a token) before
					// it stores: a replica that cannot store must forward it
					// untouched, not spend the code first.
					ForwardPerformanceStandby:   true,
					ForwardPerformanceSecondary: true,
					Responses: map[int][]framework.Response{http.StatusOK: {{
						Description: "OK", Fields: accountResponseFields(),
					}}},
				},
				logical.UpdateOperation: &framework.PathOperation{
					Callback:     withAccountName(b.pathAccountUpdate),
					Summary:      "Replace an account's token from a new authorization code or access token.",
					Description:  "Takes the same fields as a registration. The stored account is replaced only once the new token is in hand: a refused write leaves it as it was. A token of another user than the account's is a 409 unless allow_user_change=true.",
					DisplayAttrs: &framework.DisplayAttributes{OperationVerb: "register"},
					// It calls Meta (exchanges a single-use code or a token) before
					// it stores: a replica that cannot store must forward it
					// untouched, not spend the code first.
					ForwardPerformanceStandby:   true,
					ForwardPerformanceSecondary: true,
					Responses: map[int][]framework.Response{http.StatusOK: {{
						Description: "OK", Fields: accountResponseFields(),
					}}},
				},
				logical.DeleteOperation: &framework.PathOperation{
					Callback:    withAccountName(b.pathAccountDelete),
					Summary:     "Remove an account and its token from the engine.",
					Description: "Deletes the stored token and metadata and takes the account off the refresh schedule. The token is not revoked at Instagram.",
					Responses:   map[int][]framework.Response{http.StatusNoContent: {{Description: "No Content"}}},
				},
			},
			HelpSynopsis:    pathAccountsHelpSyn,
			HelpDescription: pathAccountsHelpDesc,
		},
	}
}

func (b *backend) accountExists(ctx context.Context, req *logical.Request, d *framework.FieldData) (bool, error) {
	name, err := accountName(d)
	if err != nil {
		// Let the handler answer the 400.
		return false, nil
	}
	a, err := b.getAccount(ctx, req.Storage, name)
	return a != nil, err
}

func (b *backend) pathAccountRead(ctx context.Context, req *logical.Request, _ *framework.FieldData, a *account) (*logical.Response, error) {
	return &logical.Response{Data: b.accountMetadata(ctx, req.Storage, a)}, nil
}

// accountMetadata is what operators see of an account: everything but the token.
func (b *backend) accountMetadata(ctx context.Context, s logical.Storage, a *account) map[string]any {
	nextRefresh := b.nextRefresh(ctx, s, a) // zero for Facebook Login: never refreshed, only checked
	nextCheck := a.scheduled().NextCheckAt()
	return map[string]any{
		"name":                 a.Name,
		"login":                a.Login,
		"user_id":              a.UserID,
		"username":             a.Username,
		"account_type":         a.AccountType,
		"scopes":               nonNil(a.Scopes),
		"missing_scopes":       nonNil(b.missingScopesOf(ctx, s, a)),
		"token_type":           a.TokenType,
		"token_kind":           a.TokenKind,
		"expires_at":           formatTime(a.ExpiresAt),
		"issued_at":            formatTime(a.IssuedAt),
		"registered_at":        formatTime(a.RegisteredAt),
		"last_refreshed_at":    formatTime(a.LastRefreshedAt),
		"next_refresh_at":      formatTime(nextRefresh),
		"status":               a.Status,
		"last_error":           a.LastError,
		"last_error_at":        formatTime(a.LastErrorAt),
		"consecutive_failures": a.ConsecutiveFailures,

		"page_id":                a.PageID,
		"page_name":              a.PageName,
		"instagram_user_id":      a.InstagramUserID,
		"reauth_due_at":          formatTime(a.reauthDueAt()),
		"data_access_expires_at": formatTime(a.DataAccessExpiresAt),
		"last_checked_at":        formatTime(a.LastCheckedAt),
		"next_check_at":          formatTime(nextCheck),
	}
}

// nextRefresh is when the engine will next refresh a, under the current
// refresh window.
func (b *backend) nextRefresh(ctx context.Context, s logical.Storage, a *account) time.Time {
	window := defaultRefreshWindow
	if cfg, err := b.readConfig(ctx, s); err == nil && cfg != nil {
		window = cfg.RefreshWindow
	}
	return a.scheduled().NextRefreshAt(window)
}

// pathAccountWrite registers name from the request; repl is what it may do
// to an account already stored under the name (account_replace.go).
func (b *backend) pathAccountWrite(ctx context.Context, req *logical.Request, d *framework.FieldData, name string, repl replacement) (*logical.Response, error) {
	code := strings.TrimSpace(d.Get("code").(string))
	token := strings.TrimSpace(d.Get("access_token").(string))
	_, hasExpiry := d.GetOk("expires_at")
	redirectURI := strings.TrimSpace(d.Get("redirect_uri").(string))
	pageID := strings.TrimSpace(d.Get("page_id").(string))
	if pageID != "" && code == "" && token == "" && !hasExpiry && redirectURI == "" {
		return b.pathAccountChoosePage(ctx, req, name, pageID, repl != replaceNone)
	}

	switch {
	case len(code) > maxCredentialLength:
		return respondErr(badField("code", "is longer than %d characters", maxCredentialLength))
	case len(token) > maxCredentialLength:
		return respondErr(badField("access_token", "is longer than %d characters", maxCredentialLength))
	case len(redirectURI) > maxCredentialLength:
		return respondErr(badField("redirect_uri", "is longer than %d characters", maxCredentialLength))
	case code == "" && token == "":
		return respondErr(badField("code", "exactly one of code or access_token is required"))
	case code != "" && token != "":
		return respondErr(badField("code", "give code or access_token, not both"))
	case code != "" && hasExpiry:
		return respondErr(badField("expires_at", "only goes with access_token"))
	case token != "" && redirectURI != "":
		return respondErr(badField("redirect_uri", "only goes with code"))
	}

	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	l := loginFor(cfg)
	g := grant{token: token, pageID: pageID, configID: cfg.FacebookConfigID, hasExpiry: hasExpiry}
	if hasExpiry {
		g.expiresAt = d.Get("expires_at").(time.Time)
	}
	if err := l.checkGrant(g); err != nil {
		return respondErr(err)
	}

	if code != "" {
		code = graph.CleanCode(code)
		if code == "" {
			return respondErr(badField("code", "is empty once the trailing '#_' is removed"))
		}
		if redirectURI == "" {
			redirectURI = cfg.RedirectURI
		}
		if redirectURI == "" {
			return respondErr(badField("redirect_uri", "is required: set it here or in config"))
		}
		if (cfg.RedirectURI != "" || len(cfg.AllowedRedirectURIs) > 0) && !cfg.redirectAllowed(redirectURI) {
			return respondErr(badField("redirect_uri", "must equal the redirect_uri in config or one of its allowed_redirect_uris"))
		}
		g.code, g.redirectURI = code, redirectURI
	} else if hasExpiry {
		if err := checkGivenExpiry(g.expiresAt, b.clock.Now()); err != nil {
			return respondErr(err)
		}
	}
	a, err := l.register(ctx, b, meta, cfg, g)
	if err != nil {
		return respondErr(err)
	}
	if err := b.registerAccount(ctx, req.Storage, name, a, "api", repl); err != nil {
		if refusal := replacementRefusal(err, name); refusal != nil {
			return nil, refusal
		}
		return nil, err
	}
	return &logical.Response{Data: b.accountMetadata(ctx, req.Storage, a)}, nil
}

// checkGivenExpiry rejects an expires_at that cannot belong to a live
// long-lived token.
func checkGivenExpiry(t time.Time, now time.Time) error {
	switch {
	case !t.After(now):
		return badField("expires_at", "is in the past: an expired token cannot be refreshed; re-authorize the account")
	case t.After(now.Add(longLivedLifetime + time.Hour)):
		return badField("expires_at", "is more than 60 days away, longer than an Instagram token lives")
	}
	return nil
}

// pathAccountDelete answers 204 whether or not the account existed: a delete
// is idempotent, as everywhere in Vault.
func (b *backend) pathAccountDelete(ctx context.Context, req *logical.Request, _ *framework.FieldData, name string) (*logical.Response, error) {
	unlock := b.lockAccount(name)
	defer unlock()
	if err := b.deleteAccount(ctx, req.Storage, name); err != nil {
		return nil, err
	}
	return nil, nil
}
