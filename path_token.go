package instagram

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

const pathTokenHelpSyn = `Read an account's current access token.`

const pathTokenHelpDesc = `
Returns the account's current long-lived access token with its expiry, "ttl"
(the seconds until the engine next refreshes it, capped by config's
max_token_ttl) and "rotation_period" (the seconds between refreshes). Vault
Agent and consul-template re-read a secret that carries both fields once its
ttl runs out, so templates pick up each new token in time. An account that
needs re-authorization, or whose token has expired, answers an error rather
than a dead token.

For a Facebook Login account (config login=facebook) the token is the Page
token when the account was registered with page_id, with the Page's linked
Instagram professional account as "instagram_user_id", or else the
long-lived user token. Facebook tokens are not refreshed: "ttl" runs to the
engine's next hourly health check, and a token nearing its end is still
served, with a warning, until its owner authorizes again.
`

// minTokenTTL keeps clients from re-reading in a tight loop while a refresh
// is overdue or retrying: Vault's periodic function runs about once a minute.
const minTokenTTL = 30 * time.Second

// tokenPathPrefix is where applications read tokens; fastTokenRead
// answers plain reads there directly.
const tokenPathPrefix = "token/"

func pathToken(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: tokenPathPrefix + accountNamePattern + "$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "token",
		},
		Fields: b.tokenFields,
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:    b.withAccount(b.pathTokenRead),
				Summary:     "Read an account's current access token.",
				Description: "Answers the current token with ttl (seconds until the engine next refreshes it, capped by max_token_ttl) and rotation_period, so Vault Agent re-reads it in time. An account that needs re-authorization, or whose token has expired, answers 409.",
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK",
					Fields: map[string]*framework.FieldSchema{
						"access_token":      {Type: framework.TypeString, Description: "The current Instagram access token.", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
						"token_type":        {Type: framework.TypeString, Description: "Token type, normally bearer."},
						"expires_at":        {Type: framework.TypeTime, Description: "When the token expires; empty when not yet known."},
						"ttl":               {Type: framework.TypeDurationSecond, Description: "Seconds until the engine next refreshes the token (at most max_token_ttl): re-read it then."},
						"rotation_period":   {Type: framework.TypeDurationSecond, Description: "Seconds between the engine's refreshes of a token. Its presence tells Vault Agent to honour ttl."},
						"user_id":           {Type: framework.TypeString, Description: "Instagram professional account ID."},
						"username":          {Type: framework.TypeString, Description: "Instagram username."},
						"scopes":            {Type: framework.TypeCommaStringSlice, Description: "Permissions granted to the token, when known."},
						"instagram_user_id": {Type: framework.TypeString, Description: "The Instagram professional account ID to use in Graph calls with this token: user_id under Instagram Login; the Page's linked account under Facebook Login with a Page (empty for a Facebook user token)."},
						"page_id":           {Type: framework.TypeString, Description: "Facebook Login: the Page whose token this is; empty for a user token."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathTokenHelpSyn,
		HelpDescription: pathTokenHelpDesc,
	}}
}

func (b *backend) pathTokenRead(ctx context.Context, req *logical.Request, _ *framework.FieldData, a *account) (*logical.Response, error) {
	now := b.clock.Now()
	if err := unusableAccount(a, now); err != nil {
		return respondErr(err)
	}

	cfg, err := b.readConfig(ctx, req.Storage)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = defaultConfig()
	}
	ttl := tokenTTL(a, cfg, now)
	sv := a.login().serve(a, cfg)
	// Every key is in the literal: adding keys to a full small map makes Go
	// grow it, a measurable share of this hot path (see BENCHMARKS.md).
	resp := &logical.Response{Data: map[string]any{
		"access_token": a.AccessToken,
		"token_type":   a.TokenType,
		"expires_at":   formatTime(a.ExpiresAt),
		"ttl":          int64(ttl / time.Second),
		// consul-template (inside Vault Agent) honours a non-leased
		// secret's ttl only when rotation_period is present, as for
		// database static roles; without it, it re-reads every 5 minutes.
		"rotation_period":   int64(sv.rotation / time.Second),
		"user_id":           a.UserID,
		"username":          a.Username,
		"scopes":            nonNil(a.Scopes),
		"instagram_user_id": sv.instagramUserID,
		"page_id":           sv.pageID,
	}}
	if sv.warning != "" {
		resp.AddWarning(sv.warning)
	}
	return resp, nil
}

// tokenTTL is how long a reader may keep a's token: until the engine next
// refreshes it, never past its expiry, at most max_token_ttl, and never so
// short that clients re-read in a tight loop while a refresh is overdue.
func tokenTTL(a *account, cfg *config, now time.Time) time.Duration {
	ttl := a.scheduled().TokenFreshUntil(cfg.RefreshWindow).Sub(now)
	if !a.ExpiresAt.IsZero() {
		ttl = min(ttl, a.ExpiresAt.Sub(now))
	}
	ttl = min(ttl, cfg.MaxTokenTTL)
	return max(ttl, minTokenTTL)
}

// accountUnusable is the error a token read answers instead of a dead token.
func accountUnusable(name, why, lastError string) error {
	msg := fmt.Sprintf("account %q %s", name, why)
	if lastError != "" {
		msg += " (last error: " + lastError + ")"
	}
	return logical.CodedError(http.StatusConflict, msg)
}

// fastTokenRead answers a plain read of token/<name> without the
// framework's router. The framework asks Vault for the replication state
// before every operation, to honour forwarding flags; in an external plugin
// that is a gRPC round trip back to Vault on every request, about a quarter
// of the ceiling of a read (BENCHMARKS.md). The token read carries no
// forwarding flag, so the answer to that question could never change what
// it does. Everything else, including help and reads with extra fields,
// goes through the framework.
func (b *backend) fastTokenRead(ctx context.Context, req *logical.Request) (*logical.Response, error, bool) {
	if req.Operation != logical.ReadOperation || len(req.Data) != 0 {
		return nil, nil, false
	}
	name, ok := strings.CutPrefix(req.Path, tokenPathPrefix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return nil, nil, false
	}
	d := &framework.FieldData{Raw: map[string]any{"name": name}, Schema: b.tokenFields}
	// Direct calls, not withAccount's closures: through a function value d
	// would escape to the heap, three allocations more per read.
	a, err := b.accountFromPath(ctx, req.Storage, d)
	if err != nil {
		resp, err := respondErr(err)
		return resp, err, true
	}
	resp, err := b.pathTokenRead(ctx, req, d, a)
	return resp, err, true
}
