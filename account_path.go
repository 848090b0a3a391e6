package instagram

import (
	"context"
	"fmt"
	"net/http"

	"github.com/hashicorp/vault/sdk/framework"
	"github.com/hashicorp/vault/sdk/logical"
)

// The handlers of the per-account paths (accounts/<name>, its refresh and
// pages, token/<name>) all open the same way: the name from the path, checked
// (a bad one is a 400 naming the field), and most then need the account. This
// file holds that opening once, so every one of them answers a bad name and an
// unknown account alike.

// accountNameOp is a per-account handler given its checked name.
type accountNameOp func(ctx context.Context, req *logical.Request, d *framework.FieldData, name string) (*logical.Response, error)

// accountOp is a per-account handler given the registered account.
type accountOp func(ctx context.Context, req *logical.Request, d *framework.FieldData, a *account) (*logical.Response, error)

// withAccountName takes the account name from the path and checks it before
// op runs.
func withAccountName(op accountNameOp) framework.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
		name, err := accountName(d)
		if err != nil {
			return respondErr(err)
		}
		return op(ctx, req, d, name)
	}
}

// withAccount is withAccountName that also loads the account: op runs only
// for a registered one, and an unknown name is answered 404 saying so.
func (b *backend) withAccount(op accountOp) framework.OperationFunc {
	return func(ctx context.Context, req *logical.Request, d *framework.FieldData) (*logical.Response, error) {
		a, err := b.accountFromPath(ctx, req.Storage, d)
		if err != nil {
			return respondErr(err)
		}
		return op(ctx, req, d, a)
	}
}

// accountName is the account name the path names, checked.
func accountName(d *framework.FieldData) (string, error) {
	name := d.Get("name").(string)
	if err := checkName(name); err != nil {
		return "", err
	}
	return name, nil
}

// accountFromPath is the registered account the path names.
func (b *backend) accountFromPath(ctx context.Context, s logical.Storage, d *framework.FieldData) (*account, error) {
	name, err := accountName(d)
	if err != nil {
		return nil, err
	}
	return b.registeredAccount(ctx, s, name)
}

// registeredAccount is getAccount for a name that must be registered: a
// missing account is errNotRegistered.
func (b *backend) registeredAccount(ctx context.Context, s logical.Storage, name string) (*account, error) {
	a, err := b.getAccount(ctx, s, name)
	if err == nil && a == nil {
		err = errNotRegistered(name)
	}
	return a, err
}

// errNotRegistered is the 404 of a per-account path whose account does not
// exist. Vault answers a handler's empty response with a 404 too, but with no
// error at all, which leaves a typo, a wrong mount and a deleted account
// looking the same. (The vault CLI still prints its own "No value found" for
// a 404 read; the HTTP API and the CLI's writes show this message.)
func errNotRegistered(name string) error {
	return logical.CodedError(http.StatusNotFound, fmt.Sprintf("account %q is not registered", name))
}
