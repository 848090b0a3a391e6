package instagram

import (
	"context"
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

const pathAppTokenHelpSyn = `Read an app access token for Graph calls that take one.`

const pathAppTokenHelpDesc = `
Returns an app access token of the configured Meta app, obtained with the
OAuth 2.0 client-credentials grant at graph.facebook.com, for the Graph calls
that take one (debug_token, oEmbed, app-level Facebook Login calls). The app
secret itself never leaves Vault.

The token is kept in memory, per mount, until shortly before its expiry.
Facebook's app tokens usually carry no expiry at all: such a token is kept
for one hour, then obtained again, so a rotated app secret takes effect
within the hour. A config write that changes app_id, app_secret or
facebook_graph_base_url drops it at once. "expires_at" is empty when Meta
gave no expiry.
`

const (
	// appTokenUnknownExpiryTTL bounds how long an app token without an
	// expiry is served from memory.
	appTokenUnknownExpiryTTL = time.Hour
	// appTokenRenewBefore is how long before its expiry a cached app token
	// is obtained again (at most a tenth of its lifetime).
	appTokenRenewBefore = 5 * time.Minute
)

// appTokenCache holds one mount's app token in memory only. key ties it to
// the credentials and host it was obtained with, so a config write that
// changes them is never answered with the old app's token.
type appTokenCache struct {
	mu        sync.Mutex // held across the grant: concurrent misses make one call
	key       [sha256.Size]byte
	token     string
	tokenType string
	expiresAt time.Time // zero: Meta gave none
	until     time.Time // served from memory until then
}

func appTokenKey(cfg *config) [sha256.Size]byte {
	return sha256.Sum256([]byte(cfg.AppID + "\x00" + cfg.AppSecret + "\x00" + cfg.FacebookGraphBaseURL))
}

func pathAppToken(b *backend) []*framework.Path {
	return []*framework.Path{{
		Pattern: "app-token$",
		DisplayAttrs: &framework.DisplayAttributes{
			OperationPrefix: operationPrefix,
			OperationSuffix: "app-token",
		},
		Operations: map[logical.Operation]framework.OperationHandler{
			logical.ReadOperation: &framework.PathOperation{
				Callback:    b.pathAppTokenRead,
				Summary:     "Read an app access token (client-credentials grant).",
				Description: "Answers the Meta app's access token, obtained with the client-credentials grant and kept in memory until shortly before its expiry, or for one hour when it has none.",
				Responses: map[int][]framework.Response{http.StatusOK: {{
					Description: "OK",
					Fields: map[string]*framework.FieldSchema{
						"access_token": {Type: framework.TypeString, Description: "The app access token.", DisplayAttrs: &framework.DisplayAttributes{Sensitive: true}},
						"token_type":   {Type: framework.TypeString, Description: "Token type, normally bearer."},
						"expires_at":   {Type: framework.TypeTime, Description: "When the token expires; empty when Meta gave no expiry (Facebook's app tokens usually have none)."},
					},
				}}},
			},
		},
		HelpSynopsis:    pathAppTokenHelpSyn,
		HelpDescription: pathAppTokenHelpDesc,
	}}
}

func (b *backend) pathAppTokenRead(ctx context.Context, req *logical.Request, _ *framework.FieldData) (*logical.Response, error) {
	meta, cfg, err := b.metaFor(ctx, req.Storage)
	if err != nil {
		return respondErr(err)
	}
	c := &b.appToken
	c.mu.Lock()
	defer c.mu.Unlock()

	now := b.clock.Now()
	key := appTokenKey(cfg)
	if c.token == "" || c.key != key || !now.Before(c.until) {
		tok, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
			return meta.AppToken(ctx)
		})
		if err != nil {
			return respondErr(metaRefusal("app_id", "Facebook refused the app's client credentials", err, cfg.AppSecret))
		}
		c.key, c.token, c.tokenType = key, tok.AccessToken, normalTokenType(tok.TokenType)
		c.expiresAt, c.until = time.Time{}, now.Add(appTokenUnknownExpiryTTL)
		if tok.ExpiresIn > 0 {
			life := time.Duration(tok.ExpiresIn) * time.Second
			c.expiresAt = now.Add(life)
			c.until = c.expiresAt.Add(-min(appTokenRenewBefore, life/10))
		}
		b.Logger().Debug("app token obtained", "expires_at", formatTime(c.expiresAt), "cached_until", formatTime(c.until))
	}
	return &logical.Response{Data: map[string]any{
		"access_token": c.token,
		"token_type":   c.tokenType,
		"expires_at":   formatTime(c.expiresAt),
	}}, nil
}
