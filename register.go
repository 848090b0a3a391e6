package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

// tokenFromCode runs Instagram Login's two-step exchange: the authorization
// code becomes a short-lived token at api.instagram.com, which becomes a
// long-lived (60-day) token at graph.instagram.com. The returned account has
// everything but its name.
func (b *backend) tokenFromCode(ctx context.Context, meta metaClient, cfg *config, code, redirectURI string) (*account, error) {
	short, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.ShortLivedToken, error) {
		return meta.ExchangeCode(ctx, code, redirectURI)
	})
	if err != nil {
		return nil, metaRefusal("code", "Instagram refused the authorization code", err, code)
	}
	long, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return meta.ExchangeForLongLived(ctx, short.AccessToken)
	})
	if err != nil {
		return nil, metaRefusal("code", "Instagram refused to extend the short-lived token", err, code, short.AccessToken)
	}
	a, err := b.accountFor(ctx, meta, cfg, long)
	if err != nil {
		return nil, err
	}
	a.Scopes = cleanScopes(short.Permissions)
	if a.UserID == "" {
		a.UserID = short.UserID
	}
	return a, nil
}

// tokenFromAccessToken registers an existing token. A token with a known
// expiry is long-lived by the operator's word. Otherwise the engine tries the
// short-lived exchange: Instagram answers code 100 for a token that is
// already long-lived, which is then kept as it is with its expiry unknown
// until the first refresh teaches it.
func (b *backend) tokenFromAccessToken(ctx context.Context, meta metaClient, cfg *config, token string, expiresAt time.Time) (*account, error) {
	if !expiresAt.IsZero() {
		return b.accountFor(ctx, meta, cfg, &graph.LongLivedToken{AccessToken: token, TokenType: "bearer"}, withExpiry(expiresAt))
	}
	long, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.LongLivedToken, error) {
		return meta.ExchangeForLongLived(ctx, token)
	})
	var gerr *graph.Error
	switch {
	case err == nil:
		return b.accountFor(ctx, meta, cfg, long)
	case errors.As(err, &gerr) && gerr.Code == graph.CodeInvalidParameter:
		return b.accountFor(ctx, meta, cfg, &graph.LongLivedToken{AccessToken: token, TokenType: "bearer"})
	default:
		return nil, metaRefusal("access_token", "Instagram refused the access token", err, token)
	}
}

// registerAccount stores a, whose token has just been obtained, as account
// name, replacing whatever was stored: only once the new token is in hand is
// the old account given up. via says which path registered it, for the log.
//
// Unless replace is set, an account already stored under name is left alone
// and errAccountExists returned: checked under the account's lock, so a
// registration that raced this one cannot be overwritten.
func (b *backend) registerAccount(ctx context.Context, s logical.Storage, name string, a *account, via string, replace bool) error {
	a.Name = name
	unlock := b.lockAccount(name)
	defer unlock()
	if !replace {
		existing, err := loadAccount(ctx, s, name)
		if err != nil {
			return err
		}
		if existing != nil {
			return errAccountExists
		}
	}
	if err := b.saveAccount(ctx, s, a); err != nil {
		return err
	}
	b.Logger().Info("account registered", "account", name, "username", a.Username, "via", via)
	return nil
}

// errAccountExists refuses to overwrite an account a registration was not
// allowed to replace.
var errAccountExists = errors.New("an account is already registered under that name")

type accountOption func(*account)

// withExpiry records an operator-given expiry of a long-lived token; its
// issue time follows from the 60-day lifetime.
func withExpiry(expiresAt time.Time) accountOption {
	return func(a *account) {
		a.ExpiresAt = expiresAt.UTC()
		a.IssuedAt = a.ExpiresAt.Add(-longLivedLifetime)
	}
}

// accountFor checks a long-lived token against /me (which also proves it
// works) and builds the account record from it.
func (b *backend) accountFor(ctx context.Context, meta metaClient, cfg *config, long *graph.LongLivedToken, opts ...accountOption) (*account, error) {
	me, err := callMeta(ctx, cfg, func(ctx context.Context) (*graph.User, error) {
		return meta.Me(ctx, long.AccessToken)
	})
	if err != nil {
		return nil, metaRefusal("access_token", "Instagram rejected the token", err, long.AccessToken)
	}
	now := b.clock.Now()
	a := &account{
		Login:        loginInstagram,
		AccessToken:  long.AccessToken,
		TokenType:    normalTokenType(long.TokenType),
		UserID:       me.UserID,
		AppScopedID:  me.ID,
		Username:     me.Username,
		AccountType:  me.AccountType,
		RegisteredAt: now,
		Status:       statusValid,
	}
	if long.ExpiresIn > 0 {
		a.IssuedAt = now
		a.ExpiresAt = now.Add(time.Duration(long.ExpiresIn) * time.Second)
	}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

func normalTokenType(t string) string {
	if t == "" {
		return "bearer"
	}
	return strings.ToLower(t)
}

// callMeta bounds one call to Meta by the configured request timeout.
func callMeta[T any](ctx context.Context, cfg *config, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	return call(ctx)
}

// metaRefusal maps a failed call to Meta onto Vault's answer: Meta being
// down or throttling is a 502 (try again later); Meta refusing the input is a
// 400 naming the field. Any secret the call carried is scrubbed from the
// message as a second line of defence behind the graph client's own.
func metaRefusal(field, what string, err error, secrets ...string) error {
	msg := redact(err.Error(), secrets...)
	switch graph.Classify(err) {
	case graph.ClassTransient, graph.ClassThrottled:
		return logical.CodedError(http.StatusBadGateway, fmt.Sprintf("%s: Meta did not answer usably, try again: %s", field, msg))
	default:
		return badField(field, "%s: %s", what, msg)
	}
}

// redact replaces every occurrence of a secret in s.
func redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}
