package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hashicorp/vault/sdk/logical"

	"github.com/igvault/vault-plugin-secrets-instagram/graph"
)

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
	userChanged := false
	// a's token is in hand: it is stored whether or not the client still
	// waits (detach.go).
	ctx, cancel := detached(ctx, saveTimeout)
	defer cancel()
	_, err := b.updateAccount(ctx, s, name, func(existing *account) (*account, error) {
		userChanged = existing != nil && !sameOwner(existing, a)
		switch {
		case existing == nil:
		case repl == replaceNone:
			return nil, errAccountExists
		case userChanged && repl != replaceAny:
			return nil, errUserChanged
		}
		return a, nil
	})
	if err != nil {
		return err
	}
	if userChanged {
		// Only allow_user_change gets here: say so, for the audit trail.
		b.Logger().Warn("account repointed at another user", "account", name, "username", a.Username, "via", via, "allow_user_change", true)
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

// ownerIdentity is who the account stands for at Meta, as its login says
// (login.ownerIdentity): the Instagram professional account for Instagram
// Login and for a Facebook Login account serving a Page (the Page's linked
// Instagram account; both are the same id space, 1784...), the Facebook
// user for a Facebook Login account serving its user token. "" when the
// record does not say.
func (a *account) ownerIdentity() string { return a.login().ownerIdentity(a) }

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
	msg := graph.Redact(err.Error(), secrets...)
	switch graph.Classify(err) {
	case graph.ClassTransient, graph.ClassThrottled:
		return logical.CodedError(http.StatusBadGateway, fmt.Sprintf("%s: Meta did not answer usably, try again: %s", field, msg))
	default:
		return badField(field, "%s: %s", what, msg)
	}
}
