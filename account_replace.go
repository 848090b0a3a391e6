package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// What a direct write of accounts/<name> may do to an account already
// stored under the name, by the operation Vault chose. A policy may grant
// create without update (register new names, touch no existing one), so
// a create must never replace: Vault chose it because its existence check
// found no account, and a registration that lands between that check and
// the handler's write must be left alone, as the callback leaves one
// (replaceNone). An update follows the callback's other rule: the same
// user's new token replaces the account, another user's only with
// allow_user_change=true (replaceSameUser; replaceAny with the flag).

func allowUserChangeField() *framework.FieldSchema {
	return &framework.FieldSchema{
		Type:        framework.TypeBool,
		Description: "Let this write repoint a registered account at another Instagram (or Facebook) user than the one it belongs to. Without it, a code or access_token of another user is refused (409) and the account stays as it was. Never lets a create replace an account.",
	}
}

func (b *backend) pathAccountCreate(ctx context.Context, req *logical.Request, d *framework.FieldData, name string) (*logical.Response, error) {
	return b.pathAccountWrite(ctx, req, d, name, replaceNone)
}

func (b *backend) pathAccountUpdate(ctx context.Context, req *logical.Request, d *framework.FieldData, name string) (*logical.Response, error) {
	repl := replaceSameUser
	if d.Get("allow_user_change").(bool) {
		repl = replaceAny
	}
	return b.pathAccountWrite(ctx, req, d, name, repl)
}

// replacementRefusal is the 409 for a write that registerAccount (or a
// page switch) refused because of the account already stored; nil for any
// other error.
func replacementRefusal(err error, name string) error {
	switch {
	case errors.Is(err, errAccountExists):
		return logical.CodedError(http.StatusConflict, fmt.Sprintf(
			"account %q is already registered: it was registered after Vault found the name free, and a create never replaces an account; nothing was changed (replacing it takes update on accounts/%s)", name, name))
	case errors.Is(err, errUserChanged):
		return logical.CodedError(http.StatusConflict, fmt.Sprintf(
			"allow_user_change: the new token is not provably the same user's as account %q's (another Instagram account, or a Facebook Login account switching between a Page and its user token); nothing was changed. Write allow_user_change=true to repoint the account", name))
	}
	return nil
}
