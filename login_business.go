package instagram

import (
	"context"
	"regexp"

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
	case !loginFor(cfg).takesConfigurations():
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
	info, err := inspectFacebookToken(ctx, fb, cfg, tok.AccessToken, field, "token", secrets...)
	if err != nil {
		return nil, err
	}
	switch info.Type {
	case "SYSTEM_USER":
		return b.facebookTokenAccount(cfg, tokenKindSystemUser, tok, info), nil
	case "USER", "":
		return b.facebookAccountFor(ctx, fb, cfg, tok.AccessToken, field, secrets...)
	}
	return nil, badField(field, "is a %s token; Facebook Login takes a user or a system-user access token", info.Type)
}

// systemUser reports whether the account's authorization gave a Business
// Integration System User token.
func (a *account) systemUser() bool { return a.TokenKind == tokenKindSystemUser }

// tokenNoun names the account's authorizing token in messages.
func (a *account) tokenNoun() string {
	if a.systemUser() {
		return "system-user access token"
	}
	return "user access token"
}
