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

// replacement is what a registration may do to an account already stored
// under its name.
type replacement int

const (
	// replaceNone leaves a stored account alone: errAccountExists.
	replaceNone replacement = iota
	// replaceSameUser replaces it only with the same user's new
	// authorization (see sameOwner): errUserChanged otherwise. A
	// re-authorization link (auth-url replace=true) gets this, so that
	// whoever opens it cannot repoint the account at their own user.
	replaceSameUser
	// replaceAny replaces whatever is stored: an operator's write of
	// accounts/<name>, or a link made with allow_user_change=true.
	replaceAny
)

// registerAccount stores a, whose token has just been obtained, as account
// name, on a context detached from the request's cancellation: only once the new token is in hand is the old account given up. via
// says which path registered it, for the log. What happens to an account
// already stored under name is checked under the account's lock, so a
// registration that raced this one is judged as it stands.
func (b *backend) registerAccount(ctx context.Context, s logical.Storage, name string, a *account, via string, repl replacement) error {
	a.Name = name
	// a's token is in hand: it is stored whether or not the client still
	// waits (detach.go).
	ctx, cancel := detached(ctx, saveTimeout)
	defer cancel()
	_, err := b.updateAccount(ctx, s, name, func(existing *account) (*account, error) {
		switch {
		case existing == nil || repl == replaceAny:
		case repl == replaceNone:
			return nil, errAccountExists
		case !sameOwner(existing, a):
			return nil, errUserChanged
		}
		return a, nil
	})
	if err != nil {
		return err
	}
	b.Logger().Info("account registered", "account", name, "username", a.Username, "via", via)
	return nil
}

var (
	// errAccountExists refuses to overwrite an account a registration
	// was not allowed to replace.
	errAccountExists = errors.New("an account is already registered under that name")
	// errUserChanged refuses a re-authorization by another user than the
	// account's.
	errUserChanged = errors.New("the new authorization is another user's than the account's")
)

// ownerIdentity is who the account stands for at Meta: the Instagram
// professional account for Instagram Login and for a Facebook Login
// account serving a Page (the Page's linked Instagram account; both are the
// same id space, 1784...), the Facebook user for a Facebook Login account
// serving its user token. "" when the record does not say.
func (a *account) ownerIdentity() string {
	switch {
	case a.facebook() && a.PageID != "":
		return prefixed("instagram:", a.InstagramUserID)
	case a.facebook():
		return prefixed("facebook:", a.UserID)
	default:
		return prefixed("instagram:", a.UserID)
	}
}

func prefixed(prefix, id string) string {
	if id == "" {
		return ""
	}
	return prefix + id
}

// sameOwner reports whether next, a new authorization for account cur,
// provably comes from the same user. An owner one of them does not record
// is not proof: the link needs allow_user_change then, like a switch
// between Instagram Login and Facebook Login without a Page (an Instagram
// account id and a Facebook user id cannot be compared).
func sameOwner(cur, next *account) bool {
	id := cur.ownerIdentity()
	return id != "" && id == next.ownerIdentity()
}

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
	for _, o := range opts {
		o(a)
	}
	a.markServing(now, cfg.RefreshWindow)
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
