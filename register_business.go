package instagram

import (
	"context"
	"regexp"
	"time"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// Facebook Login for Business: a Business-type app makes configurations in
// its App Dashboard, each fixing the permissions, the assets and the kind
// of token the login gives: a user token, or a Business Integration System
// User (BISU) token, which belongs to the owner's business rather than to a
// person, and never expires or lives 60 days. The dialog takes the
// configuration's id (config_id) instead of scopes; the code exchange is
// the standard one, and debug_token says which kind of token came back
// (type USER or SYSTEM_USER).

// configIDRegex accepts a configuration id: decimal digits, like every id
// Meta hands out.
var configIDRegex = regexp.MustCompile(`^[0-9]{1,32}$`)

// checkFacebookConfigID checks config's facebook_config_id.
func checkFacebookConfigID(cfg *config) error {
	switch {
	case cfg.FacebookConfigID == "":
		return nil
	case !configIDRegex.MatchString(cfg.FacebookConfigID):
		return badField("facebook_config_id", "must be the numeric ID of a Facebook Login for Business configuration (App Dashboard > Facebook Login for Business > Configurations)")
	case cfg.Login != loginFacebook:
		return badField("facebook_config_id", `only goes with login=facebook: a configuration belongs to Facebook Login for Business; clear it (facebook_config_id="") when switching login`)
	}
	return nil
}

// inspectedFacebookAccount builds the account for a token as Meta handed it
// over (by a configuration's code exchange) or as an operator gave it. It
// asks debug_token first what it is: a system-user token is kept as it is
// (its configuration, or Business Settings, fixed its lifetime, and
// fb_exchange_token is documented for user tokens only); a user token is
// exchanged for a long-lived one as under classic Facebook Login. field is
// the request field the token came from; secrets what else it carried.
func (b *backend) inspectedFacebookAccount(ctx context.Context, fb facebookClient, cfg *config, tok *graph.LongLivedToken, field string, secrets ...string) (*account, error) {
	secrets = append(secrets, tok.AccessToken)
	info, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.TokenInfo, error) {
		return fb.DebugToken(ctx, tok.AccessToken)
	})
	if err != nil {
		return nil, metaRefusal(field, "Facebook could not inspect the token (debug_token)", err, secrets...)
	}
	if !info.IsValid {
		return nil, invalidTokenError(field, "token", info, secrets...)
	}
	switch info.Type {
	case "SYSTEM_USER":
		return b.systemUserAccount(cfg, tok, info), nil
	case "USER", "":
		return b.facebookAccountFor(ctx, fb, cfg, tok.AccessToken, field, secrets...)
	}
	return nil, badField(field, "is a %s token; Facebook Login takes a user or a system-user access token", info.Type)
}

// systemUserAccount is the account serving a system-user token. UserID is
// the system user's id (debug_token's user_id): the token is the
// business's, not the person's who authorized.
func (b *backend) systemUserAccount(cfg *config, tok *graph.LongLivedToken, info *graph.TokenInfo) *account {
	now := b.clock.Now()
	a := &account{
		Login:               loginFacebook,
		TokenKind:           tokenKindSystemUser,
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
	if !info.IssuedAt.IsZero() && info.IssuedAt.Before(now) {
		a.IssuedAt = info.IssuedAt // a token an operator registers may be older
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

// invalidTokenError is the 400 for a token debug_token reports invalid.
func invalidTokenError(field, what string, info *graph.TokenInfo, secrets ...string) error {
	why := "no reason given"
	if info.Error != nil {
		why = info.Error.Error()
	}
	return badField(field, "Facebook reports the %s invalid: %s", what, redact(why, secrets...))
}
